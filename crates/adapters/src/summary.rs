//! The account of an ingest: every input record is published, skipped as
//! a duplicate of an already published event, accepted without an event
//! of its own, left waiting for its EOIR case (pending link), rejected with
//! a reason, or not read (its file failed, or the run stopped before it).
//! The six add up to the input, per file, on every path, and `handoff
//! ingest` prints them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileSummary {
    /// Input records (data rows or lines; headers not counted).
    pub records: u64,
    /// Records with at least one event newly acknowledged by the broker.
    pub published: u64,
    /// Records all of whose events were already published.
    pub duplicates: u64,
    /// Valid records that carry no event of their own.
    pub no_event: u64,
    /// EOIR rows waiting for their case's A-number (kept in the ledger's
    /// file and published when the case arrives).
    #[serde(default)]
    pub pending_link: u64,
    /// Rejected records by reason code.
    pub rejected: BTreeMap<String, u64>,
    /// Records this run did not account for otherwise: the file could not
    /// be read, or the run stopped (broker lost, Ctrl-C) before them. A
    /// re-run publishes them (what was published is skipped).
    #[serde(default)]
    pub not_read: u64,
    /// Events acknowledged by the broker.
    pub events_published: u64,
    /// Rows whose shifted columns were realigned (also counted above).
    pub realigned: u64,
    /// Why the file could not be read, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl FileSummary {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// published + duplicates + no_event + pending_link + rejected +
    /// not_read == records.
    pub fn adds_up(&self) -> bool {
        self.published
            + self.duplicates
            + self.no_event
            + self.pending_link
            + self.rejected_total()
            + self.not_read
            == self.records
    }

    fn add(&mut self, other: &FileSummary) {
        self.records += other.records;
        self.published += other.published;
        self.duplicates += other.duplicates;
        self.no_event += other.no_event;
        self.pending_link += other.pending_link;
        self.not_read += other.not_read;
        self.events_published += other.events_published;
        self.realigned += other.realigned;
        for (code, n) in &other.rejected {
            *self.rejected.entry(code.clone()).or_default() += n;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub files: BTreeMap<String, FileSummary>,
    /// EOIR rows that waited for their case and whose case came in this
    /// run, by the file they were read from (in this run or an earlier
    /// one): records = how many were taken up, each published, a
    /// duplicate, rejected, or not read.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub released: BTreeMap<String, FileSummary>,
}

impl Summary {
    pub fn file(&mut self, name: &str) -> &mut FileSummary {
        self.files.entry(name.to_owned()).or_default()
    }

    pub fn released(&mut self, name: &str) -> &mut FileSummary {
        self.released.entry(name.to_owned()).or_default()
    }

    /// The files that could not be read, with why.
    pub fn failed_files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .filter_map(|(name, f)| Some((name.as_str(), f.failed.as_deref()?)))
    }

    pub fn total(&self) -> FileSummary {
        let mut total = FileSummary::default();
        for f in self.files.values() {
            total.add(f);
        }
        total
    }

    pub fn merge(&mut self, other: &Summary) {
        for (name, f) in &other.files {
            self.file(name).add(f);
            if f.failed.is_some() {
                self.file(name).failed.clone_from(&f.failed);
            }
        }
        for (name, f) in &other.released {
            self.released(name).add(f);
        }
    }

    pub fn adds_up(&self) -> bool {
        self.files
            .values()
            .chain(self.released.values())
            .all(FileSummary::adds_up)
    }
}

fn table(
    f: &mut fmt::Formatter<'_>,
    first: &str,
    rows: &BTreeMap<String, FileSummary>,
) -> fmt::Result {
    writeln!(
        f,
        "{:<28} {:>10} {:>10} {:>10} {:>9} {:>8} {:>9} {:>9} {:>10}",
        first,
        "records",
        "published",
        "duplicate",
        "no event",
        "pending",
        "rejected",
        "not read",
        "events"
    )?;
    let mut total = FileSummary::default();
    for s in rows.values() {
        total.add(s);
    }
    let total_name = "total".to_owned();
    let with_total = rows.len() > 1 || first == "file";
    for (name, s) in rows
        .iter()
        .chain(with_total.then_some((&total_name, &total)))
    {
        writeln!(
            f,
            "{:<28} {:>10} {:>10} {:>10} {:>9} {:>8} {:>9} {:>9} {:>10}",
            name,
            s.records,
            s.published,
            s.duplicates,
            s.no_event,
            s.pending_link,
            s.rejected_total(),
            s.not_read,
            s.events_published
        )?;
    }
    Ok(())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table(f, "file", &self.files)?;
        let total = self.total();
        for (code, n) in &total.rejected {
            writeln!(f, "  rejected {code}: {n}")?;
        }
        if total.realigned > 0 {
            writeln!(
                f,
                "  rows with shifted columns realigned: {}",
                total.realigned
            )?;
        }
        if total.pending_link > 0 {
            writeln!(
                f,
                "  pending: {} EOIR row(s) wait for their case's A-number; they are published when it arrives (`handoff ingest doj --pending` lists them)",
                total.pending_link
            )?;
        }
        for (name, why) in self.failed_files() {
            writeln!(f, "  FAILED {name}: {why}")?;
        }
        if !self.released.is_empty() {
            writeln!(
                f,
                "EOIR rows that waited for their case, taken up now (by the file they came from):"
            )?;
            table(f, "came from", &self.released)?;
            let mut released = FileSummary::default();
            for s in self.released.values() {
                released.add(s);
            }
            for (code, n) in &released.rejected {
                writeln!(f, "  rejected {code}: {n}")?;
            }
        }
        write!(
            f,
            "{}",
            if self.adds_up() {
                "every record is accounted for: published + duplicate + no event + pending + rejected + not read = records"
            } else {
                "COUNTS DO NOT ADD UP: this is a bug; please report it with the input"
            }
        )
    }
}
