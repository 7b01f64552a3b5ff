//! DOJ EOIR: the CASE tables, tab-delimited despite the `.csv` name,
//! latin-1, no quoting, with the public FOIA release's quirks (shifted
//! columns, `b6` markers, `O` for zero). The agency-internal feed adds
//! `ALIEN_NBR` to `A_TblCase` (and may add it to the other tables),
//! `UPDATED_STREET`/`UPDATED_UNIT` to `A_TblCase`, and `APPEARANCE` (P
//! appeared, F failed to appear) and `REPRESENTED` (Y/N) to `tbl_schedule`.
//! A row without its own `ALIEN_NBR` takes its case's (see `links`). With
//! `--public` the adapter reads the FOIA layout: no A-numbers, events keyed
//! by IDNCASE and marked statistical (counted, never used for
//! notifications).

pub mod case;
pub mod crosswalk;
pub mod linking;
pub mod links;
pub mod proceeding;
pub mod schedule;

use handoff_events::{ANumber, Agency, AgencyCaseIds};

use crate::origin::Origin;
use crate::record::{Parsed, Reject, RejectCode};
use crate::table::{Header, Row};

pub const SYSTEM: &str = "CASE";

/// The files the adapter reads, recognised by name: the CASE tables, and
/// the crosswalk (`IDNCASE`, `ALIEN_NBR`) an agency may ship beside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    Table(Table),
    Crosswalk,
}

impl File {
    pub fn from_file_name(name: &str) -> Option<File> {
        if name.to_lowercase().starts_with("crosswalk") {
            return Some(File::Crosswalk);
        }
        Table::from_file_name(name).map(File::Table)
    }

    /// The order a run reads its files in: what gives A-numbers (the
    /// crosswalk, then the case table) before what takes them, so rows of
    /// one run wait for a case only when the case is not in the run.
    pub fn reading_order(self) -> u8 {
        match self {
            File::Crosswalk => 0,
            File::Table(Table::Case) => 1,
            File::Table(_) => 2,
        }
    }
}

pub const CROSSWALK_COLUMNS: [&str; 2] = ["IDNCASE", "ALIEN_NBR"];

/// The CASE tables.
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

    /// The name a pending row's table is stored under.
    pub fn name(self) -> &'static str {
        match self {
            Table::Case => "A_TblCase",
            Table::Proceeding => "B_TblProceeding",
            Table::Schedule => "tbl_schedule",
            Table::JuvenileHistory => "tbl_JuvenileHistory",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::from_file_name(name)
    }

    /// Whether a row of this table gives its case's A-number (the case
    /// table does) or takes it (every other table).
    pub fn gives_a_number(self) -> bool {
        self == Table::Case
    }

    /// Columns that must be in the header. `ALIEN_NBR` is not among them:
    /// a related export carries it on the case table or in a crosswalk.
    pub fn required_columns(self) -> Vec<&'static str> {
        match self {
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
        }
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
/// the row's own `ALIEN_NBR` if it has one (internal feed; validated here)
/// or none (the public release, or a row that takes its case's: the
/// ingest sets it from the case before anything is published).
pub fn origin(row: &Row<'_>, public: bool, record_id: String) -> Result<Origin, Reject> {
    let a_number: Option<ANumber> = if public {
        None
    } else {
        row.optional_a_number("ALIEN_NBR")?
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
/// padded. Returns the verdict, whether the row was realigned, and the
/// cells as lined up (none when no arrangement can be trusted).
pub fn map_realigning(
    table: Table,
    header: &Header,
    cells: Vec<String>,
    public: bool,
) -> (Parsed, bool, Option<Vec<String>>) {
    use std::cmp::Ordering;
    match cells.len().cmp(&header.len()) {
        Ordering::Equal => {
            let row = Row::new(header, cells);
            let parsed = table.map(&row, public);
            (parsed, false, Some(row.into_cells()))
        }
        Ordering::Less => {
            let mut padded = cells;
            padded.resize(header.len(), String::new());
            let row = Row::new(header, padded);
            let parsed = table.map(&row, public);
            (parsed, true, Some(row.into_cells()))
        }
        Ordering::Greater => {
            let extra = cells.len() - header.len();
            if let Some((parsed, lined_up)) = realign(table, header, &cells, extra, public) {
                return (parsed, true, Some(lined_up));
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
                None,
            )
        }
    }
}

fn is_key_column(header: &Header, index: usize) -> bool {
    header.name(index).is_some_and(|name| {
        let name = name.trim().to_uppercase();
        name == "ALIEN_NBR" || name.starts_with("IDN")
    })
}

fn realign(
    table: Table,
    header: &Header,
    cells: &[String],
    extra: usize,
    public: bool,
) -> Option<(Parsed, Vec<String>)> {
    // An empty key cell is never taken for the stray one: with ALIEN_NBR
    // optional, dropping an empty ALIEN_NBR would shift every later column
    // and could still map "cleanly". (Dropping a stray cell next to it
    // gives the same arrangement, so nothing is lost.)
    let empties: Vec<usize> = cells
        .iter()
        .enumerate()
        .filter(|(i, c)| crate::fields::is_null_like(c) && !is_key_column(header, *i))
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
            let parsed = table.map(&Row::new(header, candidate.clone()), public);
            if !matches!(parsed, Parsed::Rejected(_)) {
                return Some((parsed, candidate));
            }
        }
        return None;
    }
    let mut candidate = cells.to_vec();
    for &i in empties.iter().rev().take(extra) {
        candidate.remove(i);
    }
    let parsed = table.map(&Row::new(header, candidate.clone()), public);
    (!matches!(parsed, Parsed::Rejected(_))).then_some((parsed, candidate))
}

/// A row's case, and the A-number the row carries itself (if valid): what
/// the ingest needs to give the row its A-number or to learn the case's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseLink {
    pub idncase: u64,
    pub own: Option<ANumber>,
    /// A case-table or crosswalk row: it tells the case's A-number.
    pub gives: bool,
}

impl CaseLink {
    /// The link of a table row, if its IDNCASE is readable.
    pub fn of(row: &Row<'_>, table: Table) -> Option<CaseLink> {
        let idncase = row.id("IDNCASE").ok()?;
        Some(CaseLink {
            idncase,
            own: row.optional_a_number("ALIEN_NBR").ok().flatten(),
            gives: table.gives_a_number(),
        })
    }
}
