//! The native files and the faults real exports have. Every row written is
//! accounted for as the adapter must account for it (published with so
//! many events, duplicate, no event, or rejected by reason), so the truth
//! file can be compared with `handoff ingest`'s summary field for field.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use handoff_adapters::doj::{case, proceeding, schedule};
use handoff_adapters::ice::{case_actions, encounters};
use handoff_adapters::FileSummary;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::{EoirLayout, FaultRates};
use crate::truth::Truth;

pub const ENCOUNTERS: &str = "encounters.csv";
pub const CASE_ACTIONS: &str = "case_actions.csv";
pub const UC_PATH: &str = "uc_path.jsonl";
pub const A_TBLCASE: &str = "A_TblCase.csv";
pub const B_TBLPROCEEDING: &str = "B_TblProceeding.csv";
pub const TBL_SCHEDULE: &str = "tbl_schedule.csv";
pub const TBL_JUVENILE: &str = "tbl_JuvenileHistory.csv";
pub const CROSSWALK: &str = "crosswalk.csv";
/// Where `ALIEN_NBR` sits in the rows of `B_TblProceeding` and
/// `tbl_schedule` (see their `COLUMNS`); the related layout leaves it out.
const PROCEEDING_A_NUMBER: usize = 2;
const SCHEDULE_A_NUMBER: usize = 3;
pub const JUVENILE_COLUMNS: [&str; 4] = [
    "IDNJUVENILEHISTORY",
    "IDNCASE",
    "IDNPROCEEDING",
    "IDNJUVENILE",
];

pub struct Writers {
    encounters: csv::Writer<BufWriter<File>>,
    case_actions: csv::Writer<BufWriter<File>>,
    uc_path: BufWriter<File>,
    a_case: BufWriter<File>,
    b_proceeding: BufWriter<File>,
    schedule: BufWriter<File>,
    juvenile: BufWriter<File>,
    faults: FaultRates,
    junk: u64,
    related: Option<Related>,
}

/// The related EOIR layout's own file and faults. Its draws come from a
/// generator of their own, so the history (every fact in the truth) is
/// the same in both layouts.
struct Related {
    crosswalk: BufWriter<File>,
    rng: ChaCha8Rng,
    /// Cases written with no A-number, whose schedule row is still to come.
    cases_without_a_number: Vec<u64>,
}

fn tsv_line(cells: &[String]) -> Vec<u8> {
    let mut line: Vec<u8> = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            line.push(b'\t');
        }
        // latin-1: every character below U+0100 is one byte.
        line.extend(
            c.chars()
                .map(|ch| if (ch as u32) < 256 { ch as u8 } else { b'?' }),
        );
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// Writes an event-bearing EOIR row, and again when `twice` (a row
/// exported twice), accounting for both.
fn published_tsv(
    out: &mut BufWriter<File>,
    truth: &mut Truth,
    file: &str,
    row: &[String],
    events: u64,
    twice: bool,
) -> std::io::Result<()> {
    let line = tsv_line(row);
    out.write_all(&line)?;
    Writers::published(truth, file, events);
    if twice {
        out.write_all(&line)?;
        Writers::duplicate(truth, file);
    }
    Ok(())
}

impl Writers {
    pub fn create(
        out: &Path,
        faults: FaultRates,
        layout: EoirLayout,
        seed: u64,
    ) -> std::io::Result<Self> {
        for dir in ["ice", "hhs", "doj"] {
            std::fs::create_dir_all(out.join(dir))?;
        }
        let csv_file =
            |name: &str, header: &[&str]| -> std::io::Result<csv::Writer<BufWriter<File>>> {
                let mut w = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(BufWriter::new(File::create(out.join("ice").join(name))?));
                w.write_record(header)?;
                Ok(w)
            };
        let related = layout == EoirLayout::Related;
        let tsv_file = |name: &str,
                        header: &[&str],
                        a_number_at: Option<usize>|
         -> std::io::Result<BufWriter<File>> {
            let mut w = BufWriter::new(File::create(out.join("doj").join(name))?);
            let mut cells: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
            if let (true, Some(i)) = (related, a_number_at) {
                cells.remove(i);
            }
            w.write_all(&tsv_line(&cells))?;
            Ok(w)
        };
        let related = match related {
            false => None,
            true => Some(Related {
                crosswalk: tsv_file(CROSSWALK, &handoff_adapters::doj::CROSSWALK_COLUMNS, None)?,
                rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_0E01),
                cases_without_a_number: Vec::new(),
            }),
        };
        Ok(Writers {
            encounters: csv_file(ENCOUNTERS, &encounters::COLUMNS)?,
            case_actions: csv_file(CASE_ACTIONS, &case_actions::COLUMNS)?,
            uc_path: BufWriter::new(File::create(out.join("hhs").join(UC_PATH))?),
            a_case: tsv_file(A_TBLCASE, &case::COLUMNS, None)?,
            b_proceeding: tsv_file(
                B_TBLPROCEEDING,
                &proceeding::COLUMNS,
                Some(PROCEEDING_A_NUMBER),
            )?,
            schedule: tsv_file(TBL_SCHEDULE, &schedule::COLUMNS, Some(SCHEDULE_A_NUMBER))?,
            juvenile: tsv_file(TBL_JUVENILE, &JUVENILE_COLUMNS, None)?,
            faults,
            junk: 0,
            related,
        })
    }

    fn published(truth: &mut Truth, file: &str, events: u64) {
        let f = truth.file(file);
        f.records += 1;
        f.published += 1;
        f.events_published += events;
    }

    fn duplicate(truth: &mut Truth, file: &str) {
        let f = truth.file(file);
        f.records += 1;
        f.duplicates += 1;
        truth.faults.duplicate_rows += 1;
    }

    /// An injected junk row: the reject ingest must report, and the
    /// planted fault it comes from, counted together so they cannot drift.
    fn rejected(truth: &mut Truth, file: &str, code: &str) {
        let f: &mut FileSummary = truth.file(file);
        f.records += 1;
        *f.rejected.entry(code.to_owned()).or_default() += 1;
        let fault = match code {
            "invalid_a_number" => &mut truth.faults.invalid_a_number,
            "invalid_date" => &mut truth.faults.invalid_date,
            "malformed_row" => &mut truth.faults.malformed_rows,
            "malformed_json" => &mut truth.faults.malformed_json,
            "no_a_number" => &mut truth.faults.eoir_rows_without_a_number,
            other => unreachable!("the generator plants no `{other}` rejects"),
        };
        *fault += 1;
    }

    /// A fresh id for an injected junk row, outside every real range.
    fn junk_id(&mut self) -> u64 {
        self.junk += 1;
        900_000_000 + self.junk
    }

    pub fn encounter(
        &mut self,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
        row: &[String],
        events: u64,
    ) -> std::io::Result<()> {
        self.encounters.write_record(row)?;
        Self::published(truth, ENCOUNTERS, events);
        if rng.random_bool(self.faults.duplicate_row) {
            self.encounters.write_record(row)?;
            Self::duplicate(truth, ENCOUNTERS);
        }
        if rng.random_bool(self.faults.invalid_a_number) {
            let mut junk = row.to_vec();
            let id = self.junk_id();
            junk[1] = format!("A{}X", id % 1_000_000);
            junk[2] = format!("E-JUNK-{id}");
            self.encounters.write_record(&junk)?;
            Self::rejected(truth, ENCOUNTERS, "invalid_a_number");
        }
        if rng.random_bool(self.faults.invalid_date) {
            let mut junk = row.to_vec();
            let id = self.junk_id();
            junk[2] = format!("E-JUNK-{id}");
            junk[3] = "13/45/2021".to_owned();
            self.encounters.write_record(&junk)?;
            Self::rejected(truth, ENCOUNTERS, "invalid_date");
        }
        Ok(())
    }

    pub fn case_action(
        &mut self,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
        row: &[String],
    ) -> std::io::Result<()> {
        self.case_actions.write_record(row)?;
        Self::published(truth, CASE_ACTIONS, 1);
        if rng.random_bool(self.faults.duplicate_row) {
            self.case_actions.write_record(row)?;
            Self::duplicate(truth, CASE_ACTIONS);
        }
        if rng.random_bool(self.faults.malformed) {
            // A row cut short: fewer fields than the header.
            let id = format!("JUNK-{}", self.junk_id());
            self.case_actions
                .write_record([id.as_str(), "EARM", "S-0"])?;
            Self::rejected(truth, CASE_ACTIONS, "malformed_row");
        }
        Ok(())
    }

    pub fn uc_path(
        &mut self,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
        record: &serde_json::Value,
    ) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        self.uc_path.write_all(&line)?;
        Self::published(truth, UC_PATH, 1);
        if rng.random_bool(self.faults.duplicate_row) {
            self.uc_path.write_all(&line)?;
            Self::duplicate(truth, UC_PATH);
        }
        if rng.random_bool(self.faults.malformed) {
            let id = self.junk_id();
            self.uc_path.write_all(
                format!("{{\"record_type\":\"placement\",\"record_id\":\"JUNK-{id}\"\n").as_bytes(),
            )?;
            Self::rejected(truth, UC_PATH, "malformed_json");
        }
        if rng.random_bool(self.faults.invalid_a_number) {
            let mut junk = record.clone();
            junk["record_id"] = format!("JUNK-{}", self.junk_id()).into();
            junk["a_number"] = "A12-34".into();
            let mut line = serde_json::to_vec(&junk)?;
            line.push(b'\n');
            self.uc_path.write_all(&line)?;
            Self::rejected(truth, UC_PATH, "invalid_a_number");
        }
        Ok(())
    }

    /// A case row; `events` is 1 when it carries an address change.
    pub fn eoir_case(
        &mut self,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
        mut row: Vec<String>,
        events: u64,
    ) -> std::io::Result<()> {
        let original = row.clone();
        let nat = 11; // NAT, see case::COLUMNS
        if rng.random_bool(self.faults.b6_marker) {
            row[nat] = "b6".to_owned();
            row[nat + 1] = "b6".to_owned();
            truth.faults.b6_markers += 1;
        } else if rng.random_bool(self.faults.shifted_columns) {
            row.insert(nat + 1, String::new());
            truth.file(A_TBLCASE).realigned += 1;
            truth.faults.shifted_columns_realigned += 1;
        }
        if let Some(related) = self.related.as_mut() {
            if related.rng.random_bool(self.faults.eoir_crosswalk) {
                // The A-number moves to the crosswalk, which a run reads
                // first: the case row still publishes.
                related
                    .crosswalk
                    .write_all(&tsv_line(&[row[0].clone(), row[1].clone()]))?;
                row[1] = String::new();
                let f = truth.file(CROSSWALK);
                f.records += 1;
                f.no_event += 1;
                truth.faults.eoir_crosswalk_cases += 1;
            }
            if related
                .rng
                .random_bool(self.faults.eoir_case_without_a_number)
            {
                let id = 900_000_000 + self.junk + 1;
                self.junk += 1;
                let mut orphan = original.clone();
                orphan[0] = id.to_string();
                orphan[1] = String::new();
                // No address change: a row with nothing to say but its case.
                for cell in &mut orphan[5..=10] {
                    cell.clear();
                }
                self.a_case.write_all(&tsv_line(&orphan))?;
                Self::rejected(truth, A_TBLCASE, "no_a_number");
                related.cases_without_a_number.push(id);
            }
        }
        let line = tsv_line(&row);
        self.a_case.write_all(&line)?;
        if events > 0 {
            Self::published(truth, A_TBLCASE, events);
            if rng.random_bool(self.faults.duplicate_row) {
                self.a_case.write_all(&line)?;
                Self::duplicate(truth, A_TBLCASE);
            }
        } else {
            let f = truth.file(A_TBLCASE);
            f.records += 1;
            f.no_event += 1;
        }
        if rng.random_bool(self.faults.malformed) {
            let mut junk = original.clone();
            junk[0] = self.junk_id().to_string();
            junk.insert(3, "EXTRA".to_owned());
            junk.insert(3, "MORE".to_owned());
            self.a_case.write_all(&tsv_line(&junk))?;
            Self::rejected(truth, A_TBLCASE, "malformed_row");
        }
        if rng.random_bool(self.faults.invalid_a_number) {
            let mut junk = original;
            junk[0] = self.junk_id().to_string();
            junk[1] = "A99".to_owned();
            self.a_case.write_all(&tsv_line(&junk))?;
            Self::rejected(truth, A_TBLCASE, "invalid_a_number");
        }
        Ok(())
    }

    pub fn eoir_proceeding(
        &mut self,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
        row: &[String],
        events: u64,
    ) -> std::io::Result<()> {
        let twice = rng.random_bool(self.faults.duplicate_row);
        let row = self.laid_out(row, PROCEEDING_A_NUMBER);
        published_tsv(
            &mut self.b_proceeding,
            truth,
            B_TBLPROCEEDING,
            &row,
            events,
            twice,
        )
    }

    /// A child table's row as the layout writes it.
    fn laid_out(&self, row: &[String], a_number_at: usize) -> Vec<String> {
        let mut row = row.to_vec();
        if self.related.is_some() {
            row.remove(a_number_at);
        }
        row
    }

    pub fn eoir_schedule(
        &mut self,
        rng: &mut ChaCha8Rng,
        truth: &mut Truth,
        row: &[String],
        events: u64,
    ) -> std::io::Result<()> {
        let twice = rng.random_bool(self.faults.duplicate_row);
        let laid_out = self.laid_out(row, SCHEDULE_A_NUMBER);
        published_tsv(
            &mut self.schedule,
            truth,
            TBL_SCHEDULE,
            &laid_out,
            events,
            twice,
        )?;
        let Some(related) = self.related.as_mut() else {
            return Ok(());
        };
        // A schedule row of a case with no A-number (written above), and
        // one of a case that never arrives.
        let extra = |case: u64, junk: &mut u64| {
            *junk += 1;
            let mut orphan = laid_out.clone();
            orphan[0] = (900_000_000 + *junk).to_string();
            orphan[2] = case.to_string(); // IDNCASE
            tsv_line(&orphan)
        };
        for case in std::mem::take(&mut related.cases_without_a_number) {
            let line = extra(case, &mut self.junk);
            self.schedule.write_all(&line)?;
            Self::rejected(truth, TBL_SCHEDULE, "no_a_number");
        }
        if related.rng.random_bool(self.faults.eoir_orphan_row) {
            let case = 950_000_000 + self.junk;
            let line = extra(case, &mut self.junk);
            self.schedule.write_all(&line)?;
            let f = truth.file(TBL_SCHEDULE);
            f.records += 1;
            f.pending_link += 1;
            truth.faults.eoir_orphan_rows += 1;
        }
        Ok(())
    }

    pub fn eoir_juvenile(&mut self, truth: &mut Truth, row: &[String]) -> std::io::Result<()> {
        self.juvenile.write_all(&tsv_line(row))?;
        let f = truth.file(TBL_JUVENILE);
        f.records += 1;
        f.no_event += 1;
        Ok(())
    }

    pub fn a_number_separators(&self) -> f64 {
        self.faults.a_number_separators
    }

    pub fn unmatched_a_number(&self) -> f64 {
        self.faults.unmatched_a_number
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.encounters.flush()?;
        self.case_actions.flush()?;
        self.uc_path.flush()?;
        self.a_case.flush()?;
        self.b_proceeding.flush()?;
        self.schedule.flush()?;
        if let Some(related) = self.related.as_mut() {
            related.crosswalk.flush()?;
        }
        self.juvenile.flush()
    }
}
