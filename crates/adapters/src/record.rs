//! What a parser makes of one input record, and why a record was refused.

use handoff_events::Event;
use serde::Serialize;

/// Where a record came from, for rejects and progress.
#[derive(Debug, Clone)]
pub struct SourceLine {
    /// The file name (no directory), as the summary and rejects name it.
    pub file: String,
    /// 1-based line number in the file (the header is line 1 in CSV/TSV).
    pub line: u64,
    /// The raw text of the record, kept for the rejects file.
    pub raw: String,
}

/// A parser's verdict on one record.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Publish these events (one record may carry several facts).
    Events(Vec<Event>),
    /// A valid record that carries no event of its own (a case row with no
    /// address change, a juvenile-history link). Counted, never dropped.
    NoEvent(&'static str),
    Rejected(Reject),
}

/// Why a record cannot be published. Codes are stable (the generator's
/// truth file counts rejects by them); `reason` says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub code: RejectCode,
    pub field: Option<String>,
    pub reason: String,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// A CSV/TSV row whose fields cannot be lined up with the header.
    MalformedRow,
    /// A JSON Lines record that is not a JSON object.
    MalformedJson,
    InvalidANumber,
    InvalidDate,
    MissingField,
    InvalidValue,
    UnknownRecordType,
    /// An EOIR row's own A-number differs from its case's.
    ANumberConflict,
    /// An EOIR row of a case that has no A-number anywhere.
    NoANumber,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MalformedRow => "malformed_row",
            RejectCode::MalformedJson => "malformed_json",
            RejectCode::InvalidANumber => "invalid_a_number",
            RejectCode::InvalidDate => "invalid_date",
            RejectCode::MissingField => "missing_field",
            RejectCode::InvalidValue => "invalid_value",
            RejectCode::UnknownRecordType => "unknown_record_type",
            RejectCode::ANumberConflict => "a_number_conflict",
            RejectCode::NoANumber => "no_a_number",
        }
    }
}

impl Reject {
    pub fn new(code: RejectCode, field: Option<&str>, reason: impl Into<String>) -> Self {
        Reject {
            code,
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }

    pub fn missing(field: &str) -> Self {
        Reject::new(
            RejectCode::MissingField,
            Some(field),
            format!("{field} is empty; it is required for this record"),
        )
    }

    pub fn bad_date(field: &str, value: &str) -> Self {
        Reject::new(
            RejectCode::InvalidDate,
            Some(field),
            format!(
                "{field} is `{value}`, not {}",
                crate::fields::DATE_FORMATS_HELP
            ),
        )
    }

    pub fn bad_value(field: &str, value: &str, expected: &str) -> Self {
        Reject::new(
            RejectCode::InvalidValue,
            Some(field),
            format!("{field} is `{value}`; expected {expected}"),
        )
    }
}
