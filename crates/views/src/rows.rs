//! What one child's merged state contributes to the view tables: its
//! `children` row, one row per missed hearing and per hearing, and the
//! data-quality findings that hold whatever date is asked about. Pure
//! logic, so the same child always gives the same rows on either store.

use handoff_events::{Address, Agency, Timestamp};
use handoff_http::{AgencyName, Symbol};
use serde::Serialize;

pub use crate::child::address_finding;
use crate::child::{ChildState, HearingStatus, KnownAddress, NtaStatus};

/// Where the child's court case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CourtStatus {
    NoCase,
    Open,
    Completed,
    InAbsentiaOrder,
}

impl CourtStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CourtStatus::NoCase => "no_case",
            CourtStatus::Open => "open",
            CourtStatus::Completed => "completed",
            CourtStatus::InAbsentiaOrder => "in_absentia_order",
        }
    }
}

/// The data-quality kinds the views find. The first six hold whatever the
/// date; the last two depend on the date asked about and are computed
/// when asked (`queries.rs`).
pub const DATA_QUALITY_KINDS: [&str; 8] = [
    "fta_without_follow_up",
    "fta_missing_in_opla",
    "fta_missing_in_eoir",
    "address_disagreement",
    "bad_address",
    "single_agency",
    "nta_not_served",
    "hearing_without_outcome",
];

#[derive(Debug, Clone, PartialEq)]
pub struct ChildRow {
    pub agencies: String,
    pub area_of_responsibility: Option<String>,
    pub released_at: Option<Timestamp>,
    pub nta_status: NtaStatus,
    pub nta_status_at: Option<Timestamp>,
    pub nta_served_at: Option<Timestamp>,
    pub court: Option<String>,
    pub court_status: CourtStatus,
    pub represented: Option<bool>,
    pub fta_count: i64,
    pub last_fta_at: Option<Timestamp>,
    pub open_safety_concerns: i64,
    pub latest_address: Option<KnownAddress>,
    /// `None` when EOIR holds no address of its own for the child.
    pub address_differs_from_eoir: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FtaRow {
    pub hearing_at: Timestamp,
    pub court: String,
    pub follow_up: Option<String>,
    pub opla_recorded: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HearingRow {
    pub at: Timestamp,
    pub schedule_id: String,
    pub court: Option<String>,
    pub status: HearingStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub kind: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChildRows {
    pub child: ChildRow,
    pub ftas: Vec<FtaRow>,
    pub hearings: Vec<HearingRow>,
    pub findings: Vec<Finding>,
}

/// An address reduced to what decides whether two agencies mean the same
/// place: upper case, single spaces, five-digit ZIP.
fn comparable(a: &Address) -> [String; 5] {
    let norm = |s: &Option<String>| {
        s.as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase()
    };
    let zip = norm(&a.postal_code);
    [
        norm(&a.street),
        norm(&a.secondary_unit),
        norm(&a.city),
        norm(&a.state),
        zip.chars().take(5).collect(),
    ]
}

pub fn same_place(a: &Address, b: &Address) -> bool {
    comparable(a) == comparable(b)
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339()
}

impl ChildRows {
    pub fn of(state: &ChildState) -> ChildRows {
        let nta_status_at = match state.nta_status {
            NtaStatus::None => None,
            NtaStatus::Issued => state.nta_issued_at,
            NtaStatus::Served => state.nta_served_at,
            NtaStatus::Filed => state.nta_filed_at,
        };
        let court_status = if state.in_absentia_at.is_some() {
            CourtStatus::InAbsentiaOrder
        } else if state.case_completed.is_some() {
            CourtStatus::Completed
        } else if state.case_opened_at.is_some() || state.nta_filed_at.is_some() {
            CourtStatus::Open
        } else {
            CourtStatus::NoCase
        };
        let latest = state.latest_address().cloned();
        let address_differs_from_eoir = state
            .eoir_address()
            .zip(latest.as_ref())
            .map(|(eoir, latest)| !same_place(&eoir.address, &latest.address));
        let child = ChildRow {
            agencies: state
                .agencies
                .iter()
                .map(|a| a.symbol())
                .collect::<Vec<_>>()
                .join(","),
            area_of_responsibility: state.area_of_responsibility.clone(),
            released_at: state.released_at,
            nta_status: state.nta_status,
            nta_status_at,
            nta_served_at: state.nta_served_at,
            court: state.court.clone(),
            court_status,
            represented: state.hearings.iter().rev().find_map(|h| h.represented),
            fta_count: state.ftas.len() as i64,
            last_fta_at: state.ftas.iter().map(|f| f.hearing_at).max(),
            open_safety_concerns: state.safety_concerns.len() as i64,
            latest_address: latest,
            address_differs_from_eoir,
        };
        let ftas = state
            .ftas
            .iter()
            .map(|f| FtaRow {
                hearing_at: f.hearing_at,
                court: f.court.clone(),
                follow_up: f
                    .follow_ups
                    .last()
                    .map(|(_, outcome)| Symbol(*outcome).text()),
                opla_recorded: f.opla_recorded,
            })
            .collect();
        let hearings = state
            .hearings
            .iter()
            .map(|h| HearingRow {
                at: h.at,
                schedule_id: h.schedule_id.clone().unwrap_or_default(),
                court: h.court.clone(),
                status: h.status,
            })
            .collect();
        ChildRows {
            child,
            ftas,
            hearings,
            findings: findings(state),
        }
    }
}

fn findings(state: &ChildState) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |kind: &'static str, detail: String| out.push(Finding { kind, detail });
    for fta in &state.ftas {
        if fta.follow_ups.is_empty() {
            add("fta_without_follow_up", rfc3339(fta.hearing_at));
        }
        if !fta.opla_recorded {
            add("fta_missing_in_opla", rfc3339(fta.hearing_at));
        }
    }
    for at in &state.opla_only_ftas {
        add("fta_missing_in_eoir", rfc3339(*at));
    }
    // Each agency's latest usable address; agencies disagree when two of
    // them point at different places.
    let mut latest: Vec<(Agency, &KnownAddress)> = Vec::new();
    for agency in &state.agencies {
        let own = state
            .addresses
            .iter()
            .filter(|a| a.agency == *agency && !a.address.blank)
            .max_by_key(|a| a.at);
        if let Some(a) = own {
            latest.push((*agency, a));
        }
    }
    if latest
        .iter()
        .any(|(_, a)| !same_place(&a.address, &latest[0].1.address))
    {
        let agencies: Vec<&str> = latest
            .iter()
            .map(|(g, _)| AgencyName::from(*g).as_str())
            .collect();
        add("address_disagreement", agencies.join(","));
    }
    if let Some(finding) = state
        .latest_address()
        .and_then(|a| address_finding(&a.address))
    {
        add("bad_address", finding.to_owned());
    }
    if let [only] = state.agencies.as_slice() {
        add("single_agency", AgencyName::from(*only).as_str().to_owned());
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use handoff_events::samples;

    use super::*;

    fn sample() -> ChildState {
        ChildState::from_events(
            "A000000777",
            &samples::one_of_each("A000000777".parse().unwrap()),
        )
    }

    #[test]
    fn the_sample_child_rows() {
        let rows = ChildRows::of(&sample());
        assert_eq!(rows.child.court_status, CourtStatus::InAbsentiaOrder);
        assert_eq!(rows.child.fta_count, 1);
        assert_eq!(rows.ftas.len(), 1);
        assert!(rows.ftas[0].opla_recorded);
        assert!(rows.ftas[0].follow_up.is_some());
        let kinds: Vec<&str> = rows.findings.iter().map(|f| f.kind).collect();
        assert!(kinds.contains(&"bad_address"), "{kinds:?}");
        assert!(!kinds.contains(&"single_agency"));
        assert!(!kinds.contains(&"fta_without_follow_up"));
    }

    #[test]
    fn addresses_compare_on_the_place_not_the_spelling() {
        let a = Address {
            street: Some("12  Main St".into()),
            city: Some("Houston".into()),
            state: Some("tx".into()),
            postal_code: Some("77002-1234".into()),
            ..Address::default()
        };
        let b = Address {
            street: Some("12 MAIN ST".into()),
            city: Some("HOUSTON".into()),
            state: Some("TX".into()),
            postal_code: Some("77002".into()),
            ..Address::default()
        };
        assert!(same_place(&a, &b));
        let c = Address {
            street: Some("14 MAIN ST".into()),
            ..b.clone()
        };
        assert!(!same_place(&a, &c));
    }

    #[test]
    fn a_child_only_one_agency_knows_is_a_finding() {
        let events: Vec<_> = samples::one_of_each("A000000777".parse().unwrap())
            .into_iter()
            .filter(|e| e.meta().source_agency == Agency::HhsOrr)
            .collect();
        let rows = ChildRows::of(&ChildState::from_events("A000000777", &events));
        assert!(rows.findings.contains(&Finding {
            kind: "single_agency",
            detail: "hhs_orr".into()
        }));
    }
}
