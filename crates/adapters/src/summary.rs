//! The account of an ingest: every input record is published, skipped as
//! a duplicate of an already published event, accepted without an event
//! of its own, or rejected with a reason. The four add up to the input,
//! per file, and `handoff ingest` prints them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Input records (data rows or lines; headers not counted).
    pub records: u64,
    /// Records with at least one event newly acknowledged by the broker.
    pub published: u64,
    /// Records all of whose events were already published.
    pub duplicates: u64,
    /// Valid records that carry no event of their own.
    pub no_event: u64,
    /// Rejected records by reason code.
    pub rejected: BTreeMap<String, u64>,
    /// Events acknowledged by the broker.
    pub events_published: u64,
    /// Rows whose shifted columns were realigned (also counted above).
    pub realigned: u64,
}

impl FileSummary {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// published + duplicates + no_event + rejected == records.
    pub fn adds_up(&self) -> bool {
        self.published + self.duplicates + self.no_event + self.rejected_total() == self.records
    }

    fn add(&mut self, other: &FileSummary) {
        self.records += other.records;
        self.published += other.published;
        self.duplicates += other.duplicates;
        self.no_event += other.no_event;
        self.events_published += other.events_published;
        self.realigned += other.realigned;
        for (code, n) in &other.rejected {
            *self.rejected.entry(code.clone()).or_default() += n;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub files: BTreeMap<String, FileSummary>,
}

impl Summary {
    pub fn file(&mut self, name: &str) -> &mut FileSummary {
        self.files.entry(name.to_owned()).or_default()
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
        }
    }

    pub fn adds_up(&self) -> bool {
        self.files.values().all(FileSummary::adds_up)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:>10} {:>10} {:>10} {:>9} {:>9} {:>10}",
            "file", "records", "published", "duplicate", "no event", "rejected", "events"
        )?;
        let total = self.total();
        for (name, s) in self
            .files
            .iter()
            .chain(std::iter::once((&"total".to_owned(), &total)))
        {
            writeln!(
                f,
                "{:<28} {:>10} {:>10} {:>10} {:>9} {:>9} {:>10}",
                name,
                s.records,
                s.published,
                s.duplicates,
                s.no_event,
                s.rejected_total(),
                s.events_published
            )?;
        }
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
        write!(
            f,
            "{}",
            if self.adds_up() {
                "every record is accounted for: published + duplicate + no event + rejected = records"
            } else {
                "COUNTS DO NOT ADD UP: this is a bug; please report it with the input"
            }
        )
    }
}
