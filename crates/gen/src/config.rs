//! The generator's parameters. Defaults plant the proportions the DHS OIG
//! reported for FY2019-2023 (OIG-24-46, OIG-25-21).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenConfig {
    /// Children transferred from DHS to ORR. Default 448,820 (FY2019-2023).
    pub children: u64,
    /// Encounters fall in [from, to]. Defaults: FY2019-FY2023.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The date the exports were taken; nothing later is in them except
    /// hearings already scheduled. Default: one year after `to`.
    pub as_of: NaiveDate,
    pub seed: u64,
    /// How EOIR's internal feed is laid out: an A-number on every table, or
    /// related tables (the A-number on the case table or a crosswalk only).
    pub eoir_layout: EoirLayout,
    pub rates: Rates,
    pub faults: FaultRates,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EoirLayout {
    /// `ALIEN_NBR` on every table.
    #[default]
    PerTable,
    /// `ALIEN_NBR` on `A_TblCase` only, some cases' in `crosswalk.csv`
    /// instead; proceedings and schedules find theirs through `IDNCASE`.
    Related,
}

/// Proportions of the life cycle, each a probability.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rates {
    /// Children released to a sponsor (the rest age out, run away, other).
    pub released: f64,
    /// Released children never served an NTA. With the children never
    /// released, about 65% of all are never served (OIG: 291,000+ of 448,820).
    pub nta_never_served: f64,
    /// Of those never served, the share with an NTA issued but not served.
    pub nta_issued_not_served: f64,
    /// Release addresses blank, undeliverable or missing the unit (OIG: 31,000+).
    pub bad_release_address: f64,
    /// Children with hearings who miss at least one (OIG: 32,000+ FTAs).
    pub fta: f64,
    /// FTAs followed by an in-absentia removal order.
    pub in_absentia: f64,
    /// FTAs that ERO follows up.
    pub ero_follow_up: f64,
    /// EOIR FTAs OPLA's records lack (the OIG's 4,000-case gap).
    pub opla_missing_fta: f64,
    /// Attended hearings OPLA records as FTAs.
    pub opla_false_fta: f64,
    /// Released children whose address changes later.
    pub address_change: f64,
    /// Past hearings with no outcome reported.
    pub hearing_without_outcome: f64,
    /// Children an officer raises a safety concern about.
    pub safety_concern: f64,
}

/// Faults real exports have, at low rates; each is counted in the truth.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultRates {
    /// Rows exported twice.
    pub duplicate_row: f64,
    /// Extra rows whose A-number is not one.
    pub invalid_a_number: f64,
    /// Extra ICE rows with an impossible date.
    pub invalid_date: f64,
    /// Extra rows that cannot be lined up with the header (CSV, TSV) or are
    /// not JSON (UC Path).
    pub malformed: f64,
    /// EOIR case rows with a stray tab that can be realigned.
    pub shifted_columns: f64,
    /// EOIR case rows with `b6` redaction markers.
    pub b6_marker: f64,
    /// ICE and ORR rows whose A-number is written with separators.
    pub a_number_separators: f64,
    /// Children with an extra ORR record under a mistyped A-number that no
    /// other agency knows.
    pub unmatched_a_number: f64,
    /// Related EOIR layout only: cases whose A-number is in the crosswalk
    /// file, not on their case row.
    pub eoir_crosswalk: f64,
    /// Related EOIR layout only: extra schedule rows of a case that never
    /// arrives (they wait: pending link).
    pub eoir_orphan_row: f64,
    /// Related EOIR layout only: extra cases with no A-number anywhere, each
    /// with one schedule row (both rejected: no_a_number).
    pub eoir_case_without_a_number: f64,
}

impl Default for GenConfig {
    fn default() -> Self {
        let to = NaiveDate::from_ymd_opt(2023, 9, 30).expect("valid date");
        GenConfig {
            children: 448_820,
            from: NaiveDate::from_ymd_opt(2018, 10, 1).expect("valid date"),
            to,
            as_of: NaiveDate::from_ymd_opt(2024, 9, 30).expect("valid date"),
            seed: 2024,
            eoir_layout: EoirLayout::PerTable,
            rates: Rates::default(),
            faults: FaultRates::default(),
        }
    }
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            released: 0.92,
            nta_never_served: 0.62,
            nta_issued_not_served: 0.3,
            bad_release_address: 0.07,
            fta: 0.20,
            in_absentia: 0.85,
            ero_follow_up: 0.4,
            opla_missing_fta: 0.1,
            opla_false_fta: 0.005,
            address_change: 0.15,
            hearing_without_outcome: 0.01,
            safety_concern: 0.01,
        }
    }
}

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            duplicate_row: 0.002,
            invalid_a_number: 0.0005,
            invalid_date: 0.0005,
            malformed: 0.0005,
            shifted_columns: 0.003,
            b6_marker: 0.03,
            a_number_separators: 0.05,
            unmatched_a_number: 0.002,
            eoir_crosswalk: 0.05,
            eoir_orphan_row: 0.001,
            eoir_case_without_a_number: 0.0005,
        }
    }
}
