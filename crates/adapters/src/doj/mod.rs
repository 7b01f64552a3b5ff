//! DOJ EOIR: the CASE tables, tab-delimited despite the `.csv` name,
//! latin-1, no quoting, with the public FOIA release's quirks (shifted
//! columns, `b6` markers, `O` for zero). The agency-internal feed adds
//! `ALIEN_NBR` to every table, `UPDATED_STREET`/`UPDATED_UNIT` to
//! `A_TblCase`, and `APPEARANCE` (P appeared, F failed to appear) and
//! `REPRESENTED` (Y/N) to `tbl_schedule`. With `--public` the adapter reads
//! the FOIA layout: no A-numbers, events keyed by IDNCASE and marked
//! statistical (counted, never used for notifications).

pub mod case;
pub mod proceeding;
pub mod schedule;

use handoff_events::{ANumber, Agency, AgencyCaseIds};

use crate::origin::Origin;
use crate::record::{Parsed, Reject, RejectCode};
use crate::table::{Header, Row};

pub const SYSTEM: &str = "CASE";

/// The tables the adapter reads, recognised by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Case,
    Proceeding,
    Schedule,
    JuvenileHistory,
}

impl Table {
    pub fn from_file_name(name: &str) -> Option<Table> {
        let lower = name.to_lowercase();
        if lower.starts_with("a_tblcase") {
            Some(Table::Case)
        } else if lower.starts_with("b_tblproceeding") {
            Some(Table::Proceeding)
        } else if lower.starts_with("tbl_schedule") {
            Some(Table::Schedule)
        } else if lower.starts_with("tbl_juvenilehistory") {
            Some(Table::JuvenileHistory)
        } else {
            None
        }
    }

    /// Columns that must be in the header.
    pub fn required_columns(self, public: bool) -> Vec<&'static str> {
        let mut cols = match self {
            Table::Case => vec!["IDNCASE"],
            Table::Proceeding => vec!["IDNPROCEEDING", "IDNCASE", "BASE_CITY_CODE", "INPUT_DATE"],
            Table::Schedule => vec![
                "IDNSCHEDULE",
                "IDNPROCEEDING",
                "IDNCASE",
                "CAL_TYPE",
                "ADJ_DATE",
            ],
            Table::JuvenileHistory => vec!["IDNCASE"],
        };
        if !public && self != Table::JuvenileHistory {
            cols.push("ALIEN_NBR");
        }
        cols
    }

    pub fn map(self, row: &Row<'_>, public: bool) -> Parsed {
        let result = match self {
            Table::Case => case::map(row, public),
            Table::Proceeding => proceeding::map(row, public),
            Table::Schedule => schedule::map(row, public),
            Table::JuvenileHistory => match row.id("IDNCASE") {
                Ok(_) => Ok(Parsed::NoEvent(
                    "juvenile-history link: identifies a juvenile case, carries no event",
                )),
                Err(r) => Err(r),
            },
        };
        result.unwrap_or_else(Parsed::Rejected)
    }
}

/// The origin shared by every table: ids from the row, the A-number from
/// `ALIEN_NBR` (internal feed) or none (public release).
pub fn origin(row: &Row<'_>, public: bool, record_id: String) -> Result<Origin, Reject> {
    let a_number: Option<ANumber> = if public {
        None
    } else {
        Some(row.a_number("ALIEN_NBR")?)
    };
    let idncase = row.id("IDNCASE")?;
    let idnproceeding = match row.get("IDNPROCEEDING") {
        Some(_) => Some(row.id("IDNPROCEEDING")?),
        None => None,
    };
    Ok(Origin {
        agency: Agency::DojEoir,
        system: SYSTEM,
        record_id,
        a_number,
        case_ids: AgencyCaseIds {
            eoir_idncase: Some(idncase.to_string()),
            eoir_idnproceeding: idnproceeding.map(|p| p.to_string()),
            ..Default::default()
        },
        recorded_at: None,
        correlation_id: idnproceeding.map(|p| format!("proceeding:{p}")),
        statistical: public,
    })
}

/// Maps a row whose cell count may not match the header. Extra cells
/// (a stray tab) are realigned by dropping one null-like cell at a time,
/// taking the first arrangement that maps cleanly; missing cells are
/// padded. Returns the verdict and whether the row was realigned.
pub fn map_realigning(
    table: Table,
    header: &Header,
    cells: Vec<String>,
    public: bool,
) -> (Parsed, bool) {
    use std::cmp::Ordering;
    match cells.len().cmp(&header.len()) {
        Ordering::Equal => (table.map(&Row::new(header, cells), public), false),
        Ordering::Less => {
            let mut padded = cells;
            padded.resize(header.len(), String::new());
            (table.map(&Row::new(header, padded), public), true)
        }
        Ordering::Greater => {
            let extra = cells.len() - header.len();
            if let Some(parsed) = realign(table, header, &cells, extra, public) {
                return (parsed, true);
            }
            (
                Parsed::Rejected(Reject::new(
                    RejectCode::MalformedRow,
                    None,
                    format!(
                        "the row has {} tab-separated fields but the header has {}, and dropping empty cells does not line them up; check for tabs inside values",
                        cells.len(),
                        header.len()
                    ),
                )),
                false,
            )
        }
    }
}

fn realign(
    table: Table,
    header: &Header,
    cells: &[String],
    extra: usize,
    public: bool,
) -> Option<Parsed> {
    let empties: Vec<usize> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| crate::fields::is_null_like(c))
        .map(|(i, _)| i)
        .collect();
    if empties.len() < extra {
        return None;
    }
    // One stray tab is the common case: try each single removal; for more,
    // drop the rightmost empties.
    if extra == 1 {
        for &i in &empties {
            let mut candidate = cells.to_vec();
            candidate.remove(i);
            let parsed = table.map(&Row::new(header, candidate), public);
            if !matches!(parsed, Parsed::Rejected(_)) {
                return Some(parsed);
            }
        }
        return None;
    }
    let mut candidate = cells.to_vec();
    for &i in empties.iter().rev().take(extra) {
        candidate.remove(i);
    }
    let parsed = table.map(&Row::new(header, candidate), public);
    (!matches!(parsed, Parsed::Rejected(_))).then_some(parsed)
}
