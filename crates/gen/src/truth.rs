//! `truth.json`: every count a later report must reproduce, and the
//! account `handoff ingest` must give of each file.

use std::collections::BTreeMap;

use handoff_adapters::FileSummary;
use serde::{Deserialize, Serialize};

use crate::config::GenConfig;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Truth {
    pub config: GenConfig,
    pub facts: Facts,
    /// Per file: what ingest must report (records, published, duplicates,
    /// no event, rejected by reason, events, realigned rows).
    pub files: BTreeMap<String, FileSummary>,
    pub faults: Faults,
}

/// What happened to the children, counted as the events say it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Facts {
    pub children: u64,
    pub encounters: u64,
    pub transfers_to_orr: u64,
    pub placements: u64,
    pub releases: u64,
    pub releases_by_category: BTreeMap<String, u64>,
    pub left_care: BTreeMap<String, u64>,
    /// Release addresses by finding: blank, undeliverable, missing_secondary_unit.
    pub bad_release_addresses: BTreeMap<String, u64>,
    pub wellbeing_calls: u64,
    /// Address changes after release, by reporting agency.
    pub address_changes: BTreeMap<String, u64>,
    pub nta_issued: u64,
    pub nta_served: u64,
    pub nta_filed: u64,
    /// Released children never served an NTA (by the as-of date).
    pub released_without_served_nta: u64,
    /// Of those, released more than 60 days before the as-of date.
    pub released_without_served_nta_over_60_days: u64,
    /// Of those, by days since release counted to the end of the as-of day
    /// (release day is day 1): `0-60`, `61-180`, `181-365`, `over_365`.
    #[serde(default)]
    pub nta_backlog_by_days_since_release: BTreeMap<String, u64>,
    /// Children two agencies hold different (usable) addresses for.
    pub address_disagreements: u64,
    /// Children whose most recent known address is blank, undeliverable or
    /// missing its unit, by finding.
    pub bad_latest_addresses: BTreeMap<String, u64>,
    /// A-numbers only one agency knows (ORR records under a mistyped one).
    pub single_agency_a_numbers: u64,
    pub eoir_cases: u64,
    pub hearings_scheduled: u64,
    pub hearings_attended: u64,
    pub hearings_adjourned: u64,
    /// Children who missed at least one hearing.
    pub fta_children: u64,
    /// Missed hearings (one FailedToAppear event each).
    pub fta_events: u64,
    /// Missed hearings by federal fiscal year of the hearing (October-September).
    pub fta_by_fiscal_year: BTreeMap<String, u64>,
    pub in_absentia_orders: u64,
    /// In-absentia orders by fiscal year (each issued at the missed hearing).
    #[serde(default)]
    pub in_absentia_by_fiscal_year: BTreeMap<String, u64>,
    pub fta_follow_ups: u64,
    /// Missed hearings ERO followed up, by fiscal year of the hearing.
    #[serde(default)]
    pub fta_follow_ups_by_fiscal_year: BTreeMap<String, u64>,
    pub ftas_without_follow_up: u64,
    /// EOIR FTAs that OPLA's records lack.
    pub eoir_fta_missing_in_opla: u64,
    /// OPLA FTAs that EOIR's records lack.
    pub opla_fta_missing_in_eoir: u64,
    /// Hearings before the as-of date with no outcome reported.
    pub hearings_without_outcome: u64,
    pub safety_concerns: u64,
    pub cases_completed: u64,
    pub venue_changes: u64,
    pub post_release_services: u64,
}

/// Faults planted in the exports, by kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Faults {
    pub duplicate_rows: u64,
    pub invalid_a_number: u64,
    pub invalid_date: u64,
    pub malformed_rows: u64,
    pub malformed_json: u64,
    pub shifted_columns_realigned: u64,
    pub b6_markers: u64,
    pub a_numbers_with_separators: u64,
    pub unmatched_a_numbers: u64,
    /// Related EOIR layout: cases whose A-number only the crosswalk gives.
    #[serde(default)]
    pub eoir_crosswalk_cases: u64,
    /// Related EOIR layout: schedule rows of a case that never arrives.
    #[serde(default)]
    pub eoir_orphan_rows: u64,
    /// Related EOIR layout: rows (case and schedule) of a case with no
    /// A-number anywhere.
    #[serde(default)]
    pub eoir_rows_without_a_number: u64,
}

/// The NTA backlog's aging bucket for a child released `days` days ago
/// (release day is day 1).
pub fn nta_age_bucket(days: i64) -> &'static str {
    match days {
        ..=60 => "0-60",
        61..=180 => "61-180",
        181..=365 => "181-365",
        _ => "over_365",
    }
}

impl Truth {
    pub fn file(&mut self, name: &str) -> &mut FileSummary {
        self.files.entry(name.to_owned()).or_default()
    }
}

pub use handoff_events::time::fiscal_year;
