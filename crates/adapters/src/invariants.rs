//! What reading any export must hold, whatever bytes it holds: no panic,
//! every line that is a record comes out once with a verdict (or, when the
//! header is unusable, is counted as not read), and every event the
//! mapping makes has an id, a source record, and survives Avro encoding.
//! The fuzz targets (`fuzz/`) call `check` on their inputs; the test
//! `tests/fuzz_regressions.rs` calls it on the kept corpus and findings.

use handoff_events::codec::{from_datum, to_datum};
use handoff_events::{ANumber, Catalogue, Event};

use crate::doj::links::resolve;
use crate::ingest::Layout;
use crate::record::Parsed;
use crate::records::Records;

/// The parsers a fuzz target drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    IceCsv,
    HhsJsonLines,
    EoirTables,
}

impl Target {
    pub fn from_name(name: &str) -> Option<Target> {
        match name {
            "ice_csv" => Some(Target::IceCsv),
            "hhs_jsonl" => Some(Target::HhsJsonLines),
            "eoir_tables" => Some(Target::EoirTables),
            _ => None,
        }
    }

    /// The layout and file name the input is read as: the first byte picks
    /// among the target's files (and EOIR's public layout).
    fn file(self, selector: u8) -> (Layout, &'static str) {
        const EOIR: [&str; 5] = [
            "A_TblCase.csv",
            "B_TblProceeding.csv",
            "tbl_schedule.csv",
            "tbl_JuvenileHistory.csv",
            "crosswalk.csv",
        ];
        match self {
            Target::IceCsv if selector.is_multiple_of(2) => (Layout::Ice, "encounters.csv"),
            Target::IceCsv => (Layout::Ice, "case_actions.csv"),
            Target::HhsJsonLines => (Layout::Hhs, "uc_path.jsonl"),
            Target::EoirTables => {
                let name = EOIR[usize::from(selector) % EOIR.len()];
                // The public layout has no crosswalk.
                let public = selector / 5 % 2 == 1 && name != "crosswalk.csv";
                (Layout::Doj { public }, name)
            }
        }
    }
}

/// Reads `data` (its first byte picks the file) and panics if any
/// invariant fails.
pub fn check(target: Target, data: &[u8]) {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let (layout, name) = target.file(selector);
    let expected = expected_records(layout, content);
    let mut records = match Records::open(layout, name, content) {
        Ok(records) => records,
        Err(e) => {
            assert!(!e.reason.is_empty());
            assert_eq!(
                e.not_read, expected,
                "an unusable header counts every data line as not read"
            );
            return;
        }
    };
    let catalogue = catalogue();
    let placeholder = ANumber::parse("A000000001").expect("valid");
    let mut seen = 0;
    let mut last_line = 0;
    while let Some(record) = records.next_record().expect("in-memory input reads") {
        seen += 1;
        assert!(record.source.line > last_line, "lines come in order, once");
        last_line = record.source.line;
        if let Some(link) = &record.link {
            // The link resolves, whatever the store knows.
            let trusted = !matches!(record.parsed, Parsed::Rejected(_));
            resolve(None, link, trusted);
        }
        match record.parsed {
            Parsed::Rejected(reject) => assert!(!reject.reason.is_empty()),
            Parsed::NoEvent(why) => assert!(!why.is_empty()),
            Parsed::Events(events) => {
                assert!(!events.is_empty(), "a record with events has one at least");
                for mut event in events {
                    check_event(layout, catalogue, &placeholder, &mut event);
                }
            }
        }
    }
    assert_eq!(seen, expected, "every record line comes out once");
}

/// Built once: composing the schemas costs far more than reading an input.
fn catalogue() -> &'static Catalogue {
    static CATALOGUE: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
    CATALOGUE.get_or_init(Catalogue::embedded)
}

fn check_event(layout: Layout, catalogue: &Catalogue, placeholder: &ANumber, event: &mut Event) {
    let meta = event.meta();
    assert!(
        uuid::Uuid::parse_str(&meta.event_id).is_ok(),
        "{}",
        meta.event_id
    );
    assert!(!meta.source_record_id.is_empty());
    match layout {
        // An EOIR row without its own A-number takes its case's before it
        // is published.
        Layout::Doj { public: false } if meta.a_number.is_none() => {
            event.meta_mut().a_number = Some(placeholder.clone());
        }
        Layout::Doj { public: true } => assert!(meta.statistical && meta.a_number.is_none()),
        _ => assert!(meta.a_number.is_some(), "{}", event.record_name()),
    }
    let bytes = to_datum(catalogue, event)
        .unwrap_or_else(|e| panic!("{} does not encode: {e}", event.record_name()));
    let back = from_datum(catalogue, event.record_name(), &bytes).expect("what encodes decodes");
    assert_eq!(&back, event, "an event survives Avro unchanged");
}

/// Records the layout's reader must produce for `content`: after the
/// header line (none in JSON Lines), every non-empty line (JSON Lines:
/// every line that is not only white space).
fn expected_records(layout: Layout, content: &[u8]) -> u64 {
    let mut lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    if content.ends_with(b"\n") {
        lines.pop();
    }
    let strip = |line: &[u8]| -> usize {
        let mut n = line.len();
        while n > 0 && (line[n - 1] == b'\r' || line[n - 1] == b'\n') {
            n -= 1;
        }
        n
    };
    match layout {
        Layout::Hhs => lines
            .iter()
            .filter(|l| !l[..strip(l)].iter().all(u8::is_ascii_whitespace))
            .count() as u64,
        _ => lines.iter().skip(1).filter(|l| strip(l) > 0).count() as u64,
    }
}
