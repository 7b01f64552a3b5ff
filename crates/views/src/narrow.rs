//! What a list is narrowed to and sorted by, beyond its own condition:
//! the filters the worklists offer (area of responsibility, court, a
//! period, and each worklist's own question), taken the same way by the
//! API's lists and by the console's pages, so a worklist's count is the
//! API's total for the same filter.

use handoff_events::Timestamp;

/// Filters a list may take. Each list reads the ones that mean something
/// for it (its API parameters say which) and ignores the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrow {
    /// ICE's area of responsibility (field office), e.g. `HOU`.
    pub aor: Option<String>,
    /// The immigration court (EOIR base city code).
    pub court: Option<String>,
    /// The start of the list's period (inclusive): a missed hearing's
    /// time, a release, a child's last missed hearing.
    pub since: Option<Timestamp>,
    /// The end of the period (exclusive).
    pub until: Option<Timestamp>,
    /// Missed hearings: only those ICE has not followed up.
    pub without_follow_up: bool,
    /// ICE's view: only children with an open safety concern.
    pub open_safety_concerns: bool,
    /// ORR's view: only released children who missed a hearing.
    pub missed_hearing: bool,
    /// EOIR's view: only cases whose latest known address is not EOIR's.
    pub address_differs: bool,
    /// The NTA backlog: only children released at most this many days ago
    /// (with `older_than_days`, an age bucket).
    pub up_to_days: Option<i64>,
}

/// A list's order: one of its sortable columns, then its unique key (so
/// pages never overlap whatever the column holds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort {
    /// `None`: the list's own order.
    pub column: Option<&'static str>,
    pub descending: bool,
}

impl Sort {
    /// Reads `column` or `-column` (descending) against the columns a list
    /// can sort by; the error lists them.
    pub fn parse(raw: &str, sortable: &[&'static str]) -> Result<Sort, String> {
        let (name, descending) = match raw.strip_prefix('-') {
            Some(name) => (name, true),
            None => (raw, false),
        };
        match sortable.iter().find(|c| **c == name) {
            Some(column) => Ok(Sort {
                column: Some(column),
                descending,
            }),
            None => Err(format!(
                "cannot sort by `{name}`; sort by one of {} (a leading - for descending)",
                sortable.join(", ")
            )),
        }
    }

    /// The ORDER BY clause: the column (qualified by `table`, when given)
    /// then `key`, the list's unique order.
    pub(crate) fn clause(&self, table: &str, key: &str) -> String {
        match self.column {
            None => key.to_owned(),
            Some(column) => {
                let direction = if self.descending { "DESC" } else { "ASC" };
                // NULLs last either way: a blank court is the least useful
                // first row of a worklist.
                format!("{table}{column} IS NULL, {table}{column} {direction}, {key}")
            }
        }
    }

    /// As the API spells it (`-hearing_at`), for a link to the same list.
    pub fn spelled(&self) -> Option<String> {
        self.column
            .map(|c| format!("{}{c}", if self.descending { "-" } else { "" }))
    }
}

/// The columns each list can sort by: stored columns only, so sorting
/// needs no computation per row.
pub mod sortable {
    pub const ICE: &[&str] = &[
        "a_number",
        "area_of_responsibility",
        "court",
        "nta_status_at",
        "fta_count",
        "latest_address_at",
        "open_safety_concerns",
    ];
    pub const HHS_ORR: &[&str] = &[
        "a_number",
        "released_at",
        "court",
        "fta_count",
        "last_fta_at",
    ];
    pub const DOJ_EOIR: &[&str] = &["a_number", "court", "latest_address_at"];
    pub const FTA: &[&str] = &["hearing_at", "a_number", "court", "area_of_responsibility"];
    pub const NTA_BACKLOG: &[&str] = &["released_at", "a_number", "area_of_responsibility"];
    pub const UPCOMING: &[&str] = &["hearing_at", "a_number", "court"];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_reads_a_direction_and_refuses_unknown_columns() {
        let s = Sort::parse("-court", sortable::FTA).unwrap();
        assert_eq!(s.column, Some("court"));
        assert!(s.descending);
        assert_eq!(s.spelled().as_deref(), Some("-court"));
        assert_eq!(
            s.clause("", "hearing_at, a_number"),
            "court IS NULL, court DESC, hearing_at, a_number"
        );
        let err = Sort::parse("datum", sortable::FTA).unwrap_err();
        assert!(err.contains("hearing_at, a_number, court"), "{err}");
        assert_eq!(Sort::default().clause("c.", "c.a_number"), "c.a_number");
    }
}
