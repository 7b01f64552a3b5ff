//! The adapters on small hand-written exports of each layout, through the
//! real `handoff ingest` binary, broker and registry: every bad-row kind
//! with its exact reason, the counts adding up, the events as expected,
//! and a re-run that publishes nothing new.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handoff_adapters::{FileSummary, Summary};
use handoff_e2e::{read_events, repo_root, run_ingest, Stack};
use handoff_events::{topics, Event};

fn fixtures(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

struct Run {
    code: i32,
    summary: Summary,
    rejects: Vec<serde_json::Value>,
    stdout: String,
}

fn ingest(stack: &Stack, agency: &str, input: &Path, extra: &[&str]) -> Run {
    let dir = stack.data_dir();
    let summary = dir.join(format!("summary-{agency}.json"));
    let rejects = dir.join(format!("rejects-{agency}.jsonl"));
    let mut args = vec!["--summary-json", summary.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run_ingest(stack, agency, input, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = std::fs::read(&summary)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_else(|_| panic!("no summary written:\n{stdout}\n{stderr}"));
    let rejects = std::fs::read_to_string(&rejects)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        code: out.status.code().unwrap(),
        summary,
        rejects,
        stdout,
    }
}

fn file(
    records: u64,
    published: u64,
    duplicates: u64,
    no_event: u64,
    rejected: &[(&str, u64)],
    events: u64,
) -> FileSummary {
    FileSummary {
        records,
        published,
        duplicates,
        no_event,
        rejected: rejected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect::<BTreeMap<_, _>>(),
        events_published: events,
        ..FileSummary::default()
    }
}

/// The (line, code, field) of every reject, sorted.
fn reject_keys(run: &Run, file: &str) -> Vec<(u64, String, Option<String>)> {
    let mut keys: Vec<_> = run
        .rejects
        .iter()
        .filter(|r| r["file"] == file)
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
                r["field"].as_str().map(str::to_owned),
            )
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_extracts_every_bad_row_kind() {
    let stack = Stack::start().await;
    let run = ingest(&stack, "ice", &fixtures("ice"), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.summary.files["encounters.csv"],
        file(
            7,
            2,
            1,
            0,
            &[
                ("invalid_a_number", 1),
                ("invalid_date", 1),
                ("malformed_row", 1),
                ("missing_field", 1)
            ],
            3
        )
    );
    assert_eq!(
        run.summary.files["case_actions.csv"],
        file(
            10,
            8,
            0,
            0,
            &[("invalid_value", 1), ("unknown_record_type", 1)],
            8
        )
    );
    assert!(run.summary.adds_up());
    assert_eq!(
        reject_keys(&run, "encounters.csv"),
        vec![
            (5, "invalid_a_number".into(), Some("A_NUMBER".into())),
            (6, "invalid_date".into(), Some("APPREHENSION_DATE".into())),
            (7, "malformed_row".into(), None),
            (8, "missing_field".into(), Some("AOR".into())),
        ]
    );
    let bad_date = run
        .rejects
        .iter()
        .find(|r| r["code"] == "invalid_date")
        .unwrap();
    assert_eq!(
        bad_date["reason"],
        "APPREHENSION_DATE is `13/45/2021`, not a date like 2019-05-01, 2019-05-01 00:00:00.000 or 05/01/2019"
    );
    assert_eq!(
        bad_date["raw"],
        "S-4,A200000004,E-4,13/45/2021,ELP,Y,,HN,M,,,"
    );
    assert_eq!(
        run.rejects
            .iter()
            .find(|r| r["code"] == "malformed_row")
            .unwrap()["reason"],
        "the row has 9 fields but the header has 12; check for unquoted commas"
    );
    assert_eq!(
        reject_keys(&run, "case_actions.csv"),
        vec![
            (10, "invalid_value".into(), Some("SERVICE_METHOD".into())),
            (11, "unknown_record_type".into(), Some("ACTION_TYPE".into())),
        ]
    );

    let events = read_events(&stack, topics::ICE, 11).await;
    assert!(
        events.iter().all(|(key, _)| key.starts_with("A2000000")),
        "keyed by normalised A-number"
    );
    let transfer = events.iter().find_map(|(_, e)| match e {
        Event::TransferredToOrr(t) => Some(t),
        _ => None,
    });
    assert_eq!(transfer.unwrap().hours_in_custody, Some(43));
    let moved = events.iter().find_map(|(_, e)| match e {
        Event::AddressChanged(a) => Some(a),
        _ => None,
    });
    assert!(
        moved.unwrap().address.missing_secondary_unit,
        "a building without a unit number is flagged"
    );

    // The same export again: every published record is a duplicate now.
    let again = ingest(&stack, "ice", &fixtures("ice"), &["--strict"]);
    assert_eq!(again.code, 1, "--strict fails on rejects");
    let enc = &again.summary.files["encounters.csv"];
    assert_eq!(
        (enc.published, enc.duplicates, enc.events_published),
        (0, 3, 0)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uc_path_json_lines_every_bad_line_kind() {
    let stack = Stack::start().await;
    let run = ingest(&stack, "hhs", &fixtures("hhs/uc_path.jsonl"), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.summary.files["uc_path.jsonl"],
        file(
            12,
            7,
            1,
            0,
            &[
                ("invalid_a_number", 1),
                ("invalid_value", 1),
                ("malformed_json", 1),
                ("unknown_record_type", 1)
            ],
            7
        )
    );
    assert_eq!(
        reject_keys(&run, "uc_path.jsonl"),
        vec![
            (10, "invalid_value".into(), Some("sponsor.category".into())),
            (11, "invalid_a_number".into(), Some("a_number".into())),
            (12, "malformed_json".into(), None),
            (13, "unknown_record_type".into(), Some("record_type".into())),
        ]
    );
    let events = read_events(&stack, topics::HHS, 7).await;
    let blank = events.iter().find_map(|(_, e)| match e {
        Event::ReleasedToSponsor(r) if r.sponsor_id == "SP-10" => Some(r),
        _ => None,
    });
    assert!(
        blank.unwrap().address.blank,
        "a blank release address is published, flagged"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eoir_tables_internal_feed() {
    let stack = Stack::start().await;
    let run = ingest(&stack, "doj", &fixtures("doj"), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let mut case = file(
        6,
        1,
        1,
        2,
        &[("invalid_a_number", 1), ("malformed_row", 1)],
        1,
    );
    case.realigned = 1;
    assert_eq!(run.summary.files["A_TblCase.csv"], case);
    assert_eq!(
        run.summary.files["B_TblProceeding.csv"],
        file(3, 2, 0, 0, &[("invalid_date", 1)], 6)
    );
    assert_eq!(
        run.summary.files["tbl_schedule.csv"],
        file(6, 5, 0, 0, &[("invalid_value", 1)], 9)
    );
    assert_eq!(
        run.summary.files["tbl_JuvenileHistory.csv"],
        file(2, 0, 0, 2, &[], 0)
    );
    assert!(run.summary.adds_up());
    assert_eq!(
        reject_keys(&run, "A_TblCase.csv"),
        vec![
            (4, "invalid_a_number".into(), Some("ALIEN_NBR".into())),
            (6, "malformed_row".into(), None)
        ]
    );

    let events = read_events(&stack, topics::DOJ, 16).await;
    let find = |name: &str| -> Vec<&Event> {
        events
            .iter()
            .map(|(_, e)| e)
            .filter(|e| e.record_name() == name)
            .collect()
    };
    let ftas = find("FailedToAppear");
    assert_eq!(
        ftas.len(),
        2,
        "one from ABSENTIA = Y, one from APPEARANCE = F"
    );
    let Event::FailedToAppear(absentia) = ftas
        .iter()
        .find(|e| matches!(e, Event::FailedToAppear(f) if f.schedule_id.is_none()))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        absentia.hearing_at.to_rfc3339(),
        "2021-09-01T09:00:00.000Z",
        "HEARING_TIME 900 read as 09:00"
    );
    let Event::AddressChanged(moved) = find("AddressChanged")[0] else {
        unreachable!()
    };
    assert_eq!(
        moved.address.city.as_deref(),
        Some("Española"),
        "latin-1 decoded"
    );
    assert_eq!(moved.address.street.as_deref(), Some("712 Calle Niño"));
    assert_eq!(find("InAbsentiaOrderIssued").len(), 1);
    assert_eq!(find("CaseCompleted").len(), 1);
    let Event::CaseVenueChanged(venue) = find("CaseVenueChanged")[0] else {
        unreachable!()
    };
    assert_eq!(
        venue.meta.case_ids.eoir_idnproceeding.as_deref(),
        Some("9002"),
        "the letter O read as zero"
    );
    assert!(events
        .iter()
        .all(|(k, _)| k == "A200000001" || k == "A200000002"));
    assert!(!events.iter().any(|(_, e)| e.meta().statistical));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eoir_public_foia_layout_is_statistical_and_keyed_by_case() {
    let stack = Stack::start().await;
    let run = ingest(&stack, "doj", &fixtures("doj-public"), &["--public"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.summary.files["A_TblCase.csv"], file(2, 1, 0, 1, &[], 1));
    assert_eq!(
        run.summary.files["B_TblProceeding.csv"],
        file(1, 1, 0, 0, &[], 4)
    );
    assert_eq!(
        run.summary.files["tbl_schedule.csv"],
        file(1, 1, 0, 0, &[], 2)
    );
    let events = read_events(&stack, topics::DOJ, 7).await;
    for (key, event) in &events {
        assert_eq!(key, "IDNCASE:7701");
        assert!(event.meta().statistical && event.meta().a_number.is_none());
    }
    // Without --public the rows are read as the internal layout's: with no
    // A-number of their own and no case known, they wait for one.
    let internal = ingest(&stack, "doj", &fixtures("doj-public/tbl_schedule.csv"), &[]);
    let schedule = &internal.summary.files["tbl_schedule.csv"];
    assert_eq!((schedule.published, schedule.pending_link), (0, 1));
    stack.stop().await;
}
