//! The crosswalk an agency may ship beside the CASE tables: one row per
//! case, `IDNCASE` and `ALIEN_NBR`, tab- or comma-separated (told apart by
//! the header). Its rows carry no event; each tells the ingest a case's
//! A-number, which the case's other rows then take.

use crate::doj::CaseLink;
use crate::record::Parsed;
use crate::table::Row;

/// The verdict on one crosswalk row, and the link it gives.
pub fn map(row: &Row<'_>) -> (Parsed, Option<CaseLink>) {
    let idncase = match row.id("IDNCASE") {
        Ok(id) => id,
        Err(reject) => return (Parsed::Rejected(reject), None),
    };
    match row.a_number("ALIEN_NBR") {
        Ok(a_number) => (
            Parsed::NoEvent("crosswalk row: gives its case's A-number, carries no event"),
            Some(CaseLink {
                idncase,
                own: Some(a_number),
                gives: true,
            }),
        ),
        Err(reject) => (Parsed::Rejected(reject), None),
    }
}
