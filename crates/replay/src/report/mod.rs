//! `handoff report <name>`: the analysts' questions, answered from a
//! views store (a live one, or one `handoff replay` rebuilt as of a date).
//!
//! Each report is a `Table` (`table`) that prints as a text table, CSV or
//! JSON and, where a picture says it better, draws a bar chart (`chart`).
//! A report on a replayed store is dated by the replay's cut-off unless
//! `--as-of` says otherwise; ages (days since release) count to that date.

pub mod address_quality;
pub mod chart;
pub mod discrepancies;
pub mod fta;
pub mod nta_backlog;
pub mod table;
pub mod timeline;

use std::sync::Arc;

use handoff_events::{Catalogue, Timestamp};
use handoff_store::{Store, StoreError};

pub use table::Table;

/// The reports, by the name the command line uses.
pub const REPORTS: [&str; 5] = [
    "fta-by-fiscal-year",
    "nta-backlog",
    "address-quality",
    "discrepancies",
    "timeline",
];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unknown report `{0}`; the reports are: {list}", list = REPORTS.join(", "))]
    Unknown(String),
    #[error("the timeline report needs an A-number: handoff report timeline A012345678")]
    NoANumber,
    #[error("{0}")]
    BadANumber(String),
    #[error("no events about {a_number} in {store}; check the A-number, or that the store is the one the views or a replay built")]
    UnknownChild { a_number: String, store: String },
    #[error("a stored row of {store} does not read back: {message}; rebuild the store from the log with handoff replay --into <new store>")]
    Corrupt { store: String, message: String },
}

/// What the reports read, and the instant they are dated.
pub struct Source<'a> {
    pub store: &'a Store,
    pub catalogue: Arc<Catalogue>,
    /// Reports count what the store holds up to this instant (exclusive).
    pub as_of: Timestamp,
}

impl Source<'_> {
    fn corrupt(&self, message: impl std::fmt::Display) -> ReportError {
        ReportError::Corrupt {
            store: self.store.location().describe(),
            message: message.to_string(),
        }
    }
}

/// Runs the report `name` (`argument`: the timeline's A-number).
pub async fn run(
    source: &Source<'_>,
    name: &str,
    argument: Option<&str>,
) -> Result<Table, ReportError> {
    match name {
        "fta-by-fiscal-year" => fta::by_fiscal_year(source).await,
        "nta-backlog" => nta_backlog::by_age(source).await,
        "address-quality" => address_quality::findings(source).await,
        "discrepancies" => discrepancies::gaps(source).await,
        "timeline" => timeline::of(source, argument.ok_or(ReportError::NoANumber)?).await,
        other => Err(ReportError::Unknown(other.to_owned())),
    }
}
