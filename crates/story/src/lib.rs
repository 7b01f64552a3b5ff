//! One child's story across ICE, ORR and EOIR, merged. Shared by the
//! services that need to know where a child stands (the views, the
//! notifier, replay).
//!
//! Events of one child arrive from three topics in any order. Rather than
//! patching state as events arrive (which makes the result depend on the
//! arrival order), the state is a fold over the child's events sorted by
//! event time (then record time, then event id, so ties are broken the
//! same way everywhere). Adding an event re-folds the child's timeline:
//! a child has tens of events, so this is cheap, and any interleaving of
//! the same events gives the same state.

use handoff_events::doj::CalendarType;
use handoff_events::hhs::{LeftCareReason, SponsorCategory};
use handoff_events::ice::{
    FollowUpOutcome, HearingOutcome, SafetyConcernCategory, ServiceMethod, Severity,
};
use handoff_events::{Address, Agency, Event, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where the child's Notice to Appear stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum NtaStatus {
    #[default]
    None,
    Issued,
    Served,
    Filed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HearingStatus {
    Scheduled,
    Adjourned,
    Attended,
    FailedToAppear,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hearing {
    pub schedule_id: Option<String>,
    pub at: Timestamp,
    pub court: Option<String>,
    pub calendar: Option<CalendarType>,
    pub status: HearingStatus,
    pub represented: Option<bool>,
}

/// A missed hearing, with what ICE did about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fta {
    pub hearing_at: Timestamp,
    pub court: String,
    pub schedule_id: Option<String>,
    pub follow_ups: Vec<(Timestamp, FollowUpOutcome)>,
    /// OPLA (ICE's lawyers) recorded this failure to appear too.
    pub opla_recorded: bool,
}

/// An address as one agency knew it, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownAddress {
    pub agency: Agency,
    pub at: Timestamp,
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SafetyConcern {
    pub id: String,
    pub at: Timestamp,
    pub category: SafetyConcernCategory,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sponsor {
    pub id: String,
    pub category: SponsorCategory,
    pub relationship: String,
}

/// One event in a child's timeline: when, who reported it, what it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub agency: Agency,
    /// The agency system the record came from (EID, EARM, UC Path, CASE):
    /// where a caseworker goes to check it.
    pub source_system: String,
    pub event: &'static str,
}

/// The field of the merged record an event type feeds. The timeline shows
/// an agency an event only if the policy grants it that field, so the
/// timeline never reveals what the record hides (ORR sees no safety
/// concern in either).
pub fn field_fed_by(event_type: &str) -> &'static str {
    match event_type {
        "ChildEncountered" => "encountered_at",
        "TransferredToOrr" => "transferred_to_orr_at",
        "PlacedInOrrCare" => "placed_at",
        "ReleasedToSponsor" => "released_at",
        "LeftOrrCare" => "left_care",
        "WellbeingCallCompleted" => "wellbeing_calls",
        "PostReleaseServicesStarted" | "PostReleaseServicesEnded" => "post_release_services",
        "NoticeToAppearIssued" => "nta_issued_at",
        "NoticeToAppearServed" => "nta_served_at",
        "NoticeToAppearFiled" => "nta_filed_at",
        "FieldOfficeAssigned" => "area_of_responsibility",
        "SafetyConcernRaised" => "safety_concerns",
        "FtaFollowUpRecorded" | "FailedToAppear" => "ftas",
        "HearingOutcomeRecorded" => "opla_only_ftas",
        "CaseOpened" => "case_opened_at",
        "CaseVenueChanged" => "court",
        "CaseCompleted" => "case_completed",
        "InAbsentiaOrderIssued" => "in_absentia_at",
        "HearingScheduled" | "HearingAdjourned" | "HearingAttended" => "hearings",
        "AddressChanged" => "addresses",
        // An event type added later stays out of every timeline until
        // it is mapped here.
        _ => "",
    }
}

/// Everything known about one child, as of the events folded so far.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ChildState {
    pub a_number: String,
    pub encountered_at: Option<Timestamp>,
    pub area_of_responsibility: Option<String>,
    pub transferred_to_orr_at: Option<Timestamp>,
    pub placed_at: Option<Timestamp>,
    pub released_at: Option<Timestamp>,
    pub sponsor: Option<Sponsor>,
    pub left_care: Option<(Timestamp, LeftCareReason)>,
    pub nta_status: NtaStatus,
    pub nta_issued_at: Option<Timestamp>,
    pub nta_served_at: Option<Timestamp>,
    pub nta_service_method: Option<ServiceMethod>,
    pub nta_filed_at: Option<Timestamp>,
    pub court: Option<String>,
    pub case_opened_at: Option<Timestamp>,
    pub case_completed: Option<(Timestamp, String)>,
    pub in_absentia_at: Option<Timestamp>,
    pub hearings: Vec<Hearing>,
    pub ftas: Vec<Fta>,
    /// FTAs OPLA recorded that EOIR's records lack (the OIG's gap).
    pub opla_only_ftas: Vec<Timestamp>,
    pub addresses: Vec<KnownAddress>,
    pub safety_concerns: Vec<SafetyConcern>,
    pub post_release_services: Option<(Timestamp, Option<Timestamp>)>,
    pub wellbeing_calls: Vec<(Timestamp, bool)>,
    pub agencies: Vec<Agency>,
    pub events: usize,
    /// Every event, in the order folded (event time).
    pub timeline: Vec<TimelineEntry>,
}

/// The order events are folded in: event time, then record time, then id.
fn fold_key(e: &Event) -> (Timestamp, Timestamp, String) {
    let m = e.meta();
    (m.occurred_at, m.recorded_at, m.event_id.clone())
}

/// The events in the order a child's story is told (event time, then
/// record time, then id), each event id once.
pub fn in_fold_order(events: &[Event]) -> Vec<&Event> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| fold_key(e));
    sorted.dedup_by(|a, b| a.meta().event_id == b.meta().event_id);
    sorted
}

/// Same calendar day (UTC): one missed hearing reported twice (by the
/// proceeding's in-absentia order and by the hearing slot) is one FTA.
fn same_day(a: Timestamp, b: Timestamp) -> bool {
    a.0.div_euclid(86_400_000) == b.0.div_euclid(86_400_000)
}

impl ChildState {
    /// Folds a child's events, whatever order they are given in. Events
    /// with the same id are one event.
    pub fn from_events(a_number: &str, events: &[Event]) -> ChildState {
        let sorted = in_fold_order(events);
        let mut state = ChildState {
            a_number: a_number.to_owned(),
            ..ChildState::default()
        };
        for event in sorted {
            state.apply(event);
        }
        state
    }

    fn apply(&mut self, event: &Event) {
        let meta = event.meta();
        let at = meta.occurred_at;
        self.events += 1;
        self.timeline.push(TimelineEntry {
            at,
            agency: meta.source_agency,
            source_system: meta.source_system.clone(),
            event: event.record_name(),
        });
        if !self.agencies.contains(&meta.source_agency) {
            self.agencies.push(meta.source_agency);
            self.agencies.sort();
        }
        match event {
            Event::ChildEncountered(e) => {
                self.encountered_at = Some(at);
                self.area_of_responsibility
                    .get_or_insert_with(|| e.area_of_responsibility.clone());
            }
            Event::TransferredToOrr(_) => self.transferred_to_orr_at = Some(at),
            Event::PlacedInOrrCare(_) => self.placed_at = Some(at),
            Event::ReleasedToSponsor(e) => {
                self.released_at = Some(at);
                self.sponsor = Some(Sponsor {
                    id: e.sponsor_id.clone(),
                    category: e.sponsor_category,
                    relationship: e.relationship.clone(),
                });
                self.address(Agency::HhsOrr, at, &e.address);
            }
            Event::LeftOrrCare(e) => self.left_care = Some((at, e.reason)),
            Event::WellbeingCallCompleted(e) => self.wellbeing_calls.push((at, e.reached)),
            Event::PostReleaseServicesStarted(_) => self.post_release_services = Some((at, None)),
            Event::PostReleaseServicesEnded(_) => {
                if let Some((start, _)) = self.post_release_services {
                    self.post_release_services = Some((start, Some(at)));
                }
            }
            Event::NoticeToAppearIssued(_) => {
                self.nta_issued_at = Some(at);
                self.nta_status = self.nta_status.max_with(NtaStatus::Issued);
            }
            Event::NoticeToAppearServed(e) => {
                self.nta_served_at = Some(at);
                if let Some(served_to) = &e.served_to {
                    // Where ICE served the notice is an address ICE holds.
                    self.address(Agency::Ice, at, served_to);
                }
                self.nta_service_method = Some(e.method);
                self.nta_status = self.nta_status.max_with(NtaStatus::Served);
            }
            Event::NoticeToAppearFiled(e) => {
                self.nta_filed_at = Some(at);
                self.court.get_or_insert_with(|| e.court.clone());
                self.nta_status = self.nta_status.max_with(NtaStatus::Filed);
            }
            Event::FieldOfficeAssigned(e) => {
                self.area_of_responsibility = Some(e.area_of_responsibility.clone())
            }
            Event::SafetyConcernRaised(e) => self.safety_concerns.push(SafetyConcern {
                id: e.concern_id.clone(),
                at,
                category: e.category,
                severity: e.severity,
            }),
            Event::FtaFollowUpRecorded(e) => {
                let hearing = e.hearing_at;
                let target = self
                    .ftas
                    .iter_mut()
                    .rev()
                    .find(|f| hearing.is_none_or(|h| same_day(h, f.hearing_at)));
                if let Some(fta) = target {
                    fta.follow_ups.push((at, e.outcome));
                }
            }
            Event::HearingOutcomeRecorded(e) => {
                if e.outcome == HearingOutcome::FailedToAppear {
                    match self
                        .ftas
                        .iter_mut()
                        .find(|f| same_day(f.hearing_at, e.hearing_at))
                    {
                        Some(fta) => fta.opla_recorded = true,
                        None => self.opla_only_ftas.push(e.hearing_at),
                    }
                }
            }
            Event::CaseOpened(e) => {
                self.case_opened_at = Some(at);
                self.court = Some(e.court.clone());
            }
            Event::CaseVenueChanged(e) => self.court = Some(e.to_court.clone()),
            Event::CaseCompleted(e) => self.case_completed = Some((at, e.decision_code.clone())),
            Event::InAbsentiaOrderIssued(_) => self.in_absentia_at = Some(at),
            Event::HearingScheduled(e) => self.hearing(
                Some(&e.schedule_id),
                e.hearing_at,
                Some(&e.court),
                Some(e.calendar),
                HearingStatus::Scheduled,
                None,
            ),
            Event::HearingAdjourned(e) => self.hearing(
                Some(&e.schedule_id),
                e.hearing_at,
                None,
                None,
                HearingStatus::Adjourned,
                None,
            ),
            Event::HearingAttended(e) => self.hearing(
                Some(&e.schedule_id),
                e.hearing_at,
                None,
                None,
                HearingStatus::Attended,
                Some(e.represented),
            ),
            Event::FailedToAppear(e) => {
                self.hearing(
                    e.schedule_id.as_deref(),
                    e.hearing_at,
                    Some(&e.court),
                    None,
                    HearingStatus::FailedToAppear,
                    None,
                );
                if !self
                    .ftas
                    .iter()
                    .any(|f| same_day(f.hearing_at, e.hearing_at))
                {
                    // OPLA may have recorded it before EOIR's event time.
                    let opla = self
                        .opla_only_ftas
                        .iter()
                        .position(|t| same_day(*t, e.hearing_at));
                    if let Some(i) = opla {
                        self.opla_only_ftas.remove(i);
                    }
                    self.ftas.push(Fta {
                        hearing_at: e.hearing_at,
                        court: e.court.clone(),
                        schedule_id: e.schedule_id.clone(),
                        follow_ups: Vec::new(),
                        opla_recorded: opla.is_some(),
                    });
                }
            }
            Event::AddressChanged(e) => self.address(meta.source_agency, at, &e.address),
        }
    }

    fn address(&mut self, agency: Agency, at: Timestamp, address: &Address) {
        self.addresses.push(KnownAddress {
            agency,
            at,
            address: address.clone(),
        });
    }

    fn hearing(
        &mut self,
        schedule_id: Option<&str>,
        at: Timestamp,
        court: Option<&str>,
        calendar: Option<CalendarType>,
        status: HearingStatus,
        represented: Option<bool>,
    ) {
        let existing = self
            .hearings
            .iter_mut()
            .find(|h| match (schedule_id, &h.schedule_id) {
                (Some(a), Some(b)) => a == b,
                _ => same_day(h.at, at),
            });
        match existing {
            Some(h) => {
                // An outcome outranks "scheduled"; a later outcome replaces an earlier one.
                if status != HearingStatus::Scheduled {
                    h.status = status;
                }
                h.represented = represented.or(h.represented);
                if h.court.is_none() {
                    h.court = court.map(str::to_owned);
                }
                if h.calendar.is_none() {
                    h.calendar = calendar;
                }
                if h.schedule_id.is_none() {
                    h.schedule_id = schedule_id.map(str::to_owned);
                }
            }
            None => self.hearings.push(Hearing {
                schedule_id: schedule_id.map(str::to_owned),
                at,
                court: court.map(str::to_owned),
                calendar,
                status,
                represented,
            }),
        }
        self.hearings.sort_by_key(|h| (h.at, h.schedule_id.clone()));
    }

    /// The most recent address any agency reported, and who reported it.
    pub fn latest_address(&self) -> Option<&KnownAddress> {
        self.addresses.iter().max_by_key(|a| a.at)
    }

    /// The address on EOIR's own file (where hearing notices go).
    pub fn eoir_address(&self) -> Option<&KnownAddress> {
        self.addresses
            .iter()
            .filter(|a| a.agency == Agency::DojEoir)
            .max_by_key(|a| a.at)
    }

    /// The first hearing after `now` still on the calendar.
    pub fn next_hearing(&self, now: Timestamp) -> Option<&Hearing> {
        self.hearings
            .iter()
            .find(|h| h.at > now && h.status == HearingStatus::Scheduled)
    }

    /// Hearings before `now` for which no outcome was ever reported.
    pub fn hearings_without_outcome(&self, now: Timestamp) -> Vec<&Hearing> {
        self.hearings
            .iter()
            .filter(|h| h.at <= now && h.status == HearingStatus::Scheduled)
            .filter(|h| !self.ftas.iter().any(|f| same_day(f.hearing_at, h.at)))
            .collect()
    }
}

impl NtaStatus {
    /// Statuses only move forward: a late "issued" after "served" changes nothing.
    fn max_with(self, other: NtaStatus) -> NtaStatus {
        let rank = |s: NtaStatus| match s {
            NtaStatus::None => 0,
            NtaStatus::Issued => 1,
            NtaStatus::Served => 2,
            NtaStatus::Filed => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl NtaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NtaStatus::None => "none",
            NtaStatus::Issued => "issued",
            NtaStatus::Served => "served",
            NtaStatus::Filed => "filed",
        }
    }
}

impl HearingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HearingStatus::Scheduled => "scheduled",
            HearingStatus::Adjourned => "adjourned",
            HearingStatus::Attended => "attended",
            HearingStatus::FailedToAppear => "failed_to_appear",
        }
    }
}

/// The finding on an address, if any, most serious first: blank,
/// undeliverable, or missing the unit of a multi-unit building.
pub fn address_finding(a: &Address) -> Option<&'static str> {
    if a.blank {
        Some("blank")
    } else if a.undeliverable {
        Some("undeliverable")
    } else if a.missing_secondary_unit {
        Some("missing_secondary_unit")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use handoff_events::samples;
    use rand::seq::SliceRandom;
    use rand::SeedableRng;

    use super::*;

    fn events() -> Vec<Event> {
        samples::one_of_each("A000000777".parse().unwrap())
    }

    #[test]
    fn the_state_does_not_depend_on_arrival_order() {
        let events = events();
        let reference = ChildState::from_events("A000000777", &events);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let mut shuffled = events.clone();
            shuffled.shuffle(&mut rng);
            // Redeliveries too: some events twice.
            shuffled.extend(shuffled[..5].to_vec());
            assert_eq!(ChildState::from_events("A000000777", &shuffled), reference);
        }
    }

    #[test]
    fn the_merged_story_of_the_sample_child() {
        let s = ChildState::from_events("A000000777", &events());
        assert_eq!(s.nta_status, NtaStatus::Filed);
        assert_eq!(
            s.agencies,
            vec![Agency::Ice, Agency::HhsOrr, Agency::DojEoir]
        );
        assert_eq!(s.ftas.len(), 1, "one missed hearing");
        let fta = &s.ftas[0];
        assert!(fta.opla_recorded, "OPLA's record matched EOIR's");
        assert_eq!(fta.follow_ups.len(), 1);
        assert!(s.opla_only_ftas.is_empty());
        assert_eq!(s.court.as_deref(), Some("HOU"), "after the venue change");
        assert_eq!(s.latest_address().unwrap().agency, Agency::HhsOrr);
        assert!(s.latest_address().unwrap().address.missing_secondary_unit);
        assert_eq!(s.safety_concerns.len(), 1);
        assert!(s.case_completed.is_some());
        let fta_hearing = s
            .hearings
            .iter()
            .find(|h| h.schedule_id.as_deref() == Some("7001"))
            .unwrap();
        assert_eq!(fta_hearing.status, HearingStatus::FailedToAppear);
    }

    #[test]
    fn an_fta_reported_by_proceeding_and_slot_is_one() {
        let mut events = events();
        // The same hearing missed, now also reported without a schedule id
        // (as the proceeding's in-absentia record carries it).
        let Event::FailedToAppear(mut fta) = events
            .iter()
            .find(|e| e.record_name() == "FailedToAppear")
            .unwrap()
            .clone()
        else {
            unreachable!()
        };
        fta.meta.event_id = "other-id".into();
        fta.schedule_id = None;
        events.push(Event::FailedToAppear(fta));
        let s = ChildState::from_events("A000000777", &events);
        assert_eq!(s.ftas.len(), 1);
    }
}
