//! What the views API answers, as types: the OpenAPI document is
//! generated from these, and the queries build them, so the documented
//! answer is the answer sent. Every field of an item is optional in the
//! schema because the data-sharing policy removes the fields an agency
//! may not read; the policy's list of fields per view is read from these
//! types too (`fields_of`).

use std::collections::BTreeMap;

use handoff_events::doj::CalendarType;
use handoff_events::hhs::{LeftCareReason, SponsorCategory};
use handoff_events::ice::{FollowUpOutcome, SafetyConcernCategory, ServiceMethod, Severity};
use handoff_events::EVENT_TYPES;
use handoff_http::{AgencyName, PostalAddress, Symbol, Time};
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use crate::child::{ChildState, HearingStatus, NtaStatus};
use crate::rows::{CourtStatus, DATA_QUALITY_KINDS};

/// A page of a list, ordered by a unique key so pages never overlap.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items in the whole list.
    pub total: i64,
    pub offset: i64,
    /// Where the next page starts; absent on the last page.
    pub next_offset: Option<i64>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            offset: self.offset,
            next_offset: self.next_offset,
        }
    }
}

/// A child in ICE's view: every child ICE knows.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct IceChild {
    pub a_number: Option<String>,
    /// ICE's area of responsibility (field office), e.g. HOU.
    pub area_of_responsibility: Option<String>,
    pub nta_status: Option<NtaStatus>,
    pub nta_status_at: Option<Time>,
    /// Whole days from `nta_status_at` to `as_of`.
    pub nta_age_days: Option<i64>,
    /// The immigration court (EOIR base city code).
    pub court: Option<String>,
    pub court_status: Option<CourtStatus>,
    pub next_hearing_at: Option<Time>,
    pub fta_count: Option<i64>,
    pub ftas_without_follow_up: Option<i64>,
    pub latest_address: Option<PostalAddress>,
    pub latest_address_agency: Option<AgencyName>,
    pub latest_address_at: Option<Time>,
    pub open_safety_concerns: Option<i64>,
}

/// A released child in ORR's view.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct OrrChild {
    pub a_number: Option<String>,
    pub released_at: Option<Time>,
    pub nta_status: Option<NtaStatus>,
    pub court: Option<String>,
    pub court_status: Option<CourtStatus>,
    pub next_hearing_at: Option<Time>,
    pub fta_count: Option<i64>,
    pub last_fta_at: Option<Time>,
}

/// An open case in EOIR's view, with the latest address any agency knows.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct EoirCase {
    pub a_number: Option<String>,
    pub court: Option<String>,
    pub court_status: Option<CourtStatus>,
    pub next_hearing_at: Option<Time>,
    pub latest_address: Option<PostalAddress>,
    pub latest_address_agency: Option<AgencyName>,
    pub latest_address_at: Option<Time>,
    /// Absent when EOIR holds no address of its own.
    pub address_differs_from_eoir: Option<bool>,
    pub represented: Option<bool>,
}

/// A missed hearing (failure to appear).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MissedHearing {
    pub a_number: Option<String>,
    pub hearing_at: Option<Time>,
    pub court: Option<String>,
    pub area_of_responsibility: Option<String>,
    /// ICE's latest follow-up; absent while there is none.
    #[schema(schema_with = Symbol::<FollowUpOutcome>::nullable_schema)]
    pub follow_up: Option<Symbol<FollowUpOutcome>>,
    /// OPLA (ICE's lawyers) recorded it too.
    pub opla_recorded: Option<bool>,
}

/// A released child not yet served a Notice to Appear.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct UnservedNta {
    pub a_number: Option<String>,
    pub released_at: Option<Time>,
    pub days_since_release: Option<i64>,
    pub nta_status: Option<NtaStatus>,
    pub area_of_responsibility: Option<String>,
}

/// A hearing still on the calendar.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct UpcomingHearing {
    pub a_number: Option<String>,
    pub hearing_at: Option<Time>,
    pub court: Option<String>,
    pub schedule_id: Option<String>,
}

fn finding_kinds() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(DATA_QUALITY_KINDS))
        .into()
}

/// One data-quality finding.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Finding {
    pub a_number: Option<String>,
    #[schema(schema_with = finding_kinds)]
    pub kind: Option<String>,
    /// What was found (for a time, RFC 3339).
    pub detail: Option<String>,
}

/// How many findings of each kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingCounts {
    pub as_of: Time,
    /// Per kind (the kinds of `Finding`), how many.
    pub counts: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SponsorAnswer {
    pub id: String,
    #[schema(schema_with = Symbol::<SponsorCategory>::schema)]
    pub category: Symbol<SponsorCategory>,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeftCare {
    pub at: Time,
    #[schema(schema_with = Symbol::<LeftCareReason>::schema)]
    pub reason: Symbol<LeftCareReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseCompletion {
    pub at: Time,
    /// EOIR's decision code.
    pub decision: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HearingAnswer {
    pub schedule_id: Option<String>,
    pub at: Time,
    pub court: Option<String>,
    #[schema(schema_with = Symbol::<CalendarType>::nullable_schema)]
    pub calendar: Option<Symbol<CalendarType>>,
    pub status: HearingStatus,
    pub represented: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUp {
    pub at: Time,
    #[schema(schema_with = Symbol::<FollowUpOutcome>::schema)]
    pub outcome: Symbol<FollowUpOutcome>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FtaAnswer {
    pub hearing_at: Time,
    pub court: String,
    pub schedule_id: Option<String>,
    pub follow_ups: Vec<FollowUp>,
    pub opla_recorded: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KnownAddressAnswer {
    pub agency: AgencyName,
    pub at: Time,
    pub address: PostalAddress,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SafetyConcernAnswer {
    pub id: String,
    pub at: Time,
    #[schema(schema_with = Symbol::<SafetyConcernCategory>::schema)]
    pub category: Symbol<SafetyConcernCategory>,
    #[schema(schema_with = Symbol::<Severity>::schema)]
    pub severity: Symbol<Severity>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostReleaseServices {
    pub started_at: Time,
    pub ended_at: Option<Time>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WellbeingCall {
    pub at: Time,
    /// The child or sponsor was reached.
    pub reached: bool,
}

fn event_names() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(EVENT_TYPES.iter().map(|t| event_name(t))))
        .into()
}

/// An event type as answers name it: `FailedToAppear` is
/// `failed_to_appear`.
pub fn event_name(event_type: &str) -> String {
    let mut out = String::with_capacity(event_type.len() + 4);
    for (i, c) in event_type.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The event type an answer's name stands for.
pub fn event_type(name: &str) -> Option<&'static str> {
    EVENT_TYPES.iter().copied().find(|t| event_name(t) == name)
}

/// One event in a child's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineItem {
    pub at: Time,
    pub agency: AgencyName,
    /// The agency system the record came from (e.g. `EARM`, `UC_PATH`).
    pub source_system: String,
    #[schema(schema_with = event_names)]
    pub event: String,
}

/// One child's merged record across ICE, ORR and EOIR.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ChildRecord {
    pub a_number: Option<String>,
    pub encountered_at: Option<Time>,
    pub area_of_responsibility: Option<String>,
    pub transferred_to_orr_at: Option<Time>,
    pub placed_at: Option<Time>,
    pub released_at: Option<Time>,
    pub sponsor: Option<SponsorAnswer>,
    pub left_care: Option<LeftCare>,
    pub nta_status: Option<NtaStatus>,
    pub nta_issued_at: Option<Time>,
    pub nta_served_at: Option<Time>,
    #[schema(schema_with = Symbol::<ServiceMethod>::nullable_schema)]
    pub nta_service_method: Option<Symbol<ServiceMethod>>,
    pub nta_filed_at: Option<Time>,
    pub court: Option<String>,
    pub case_opened_at: Option<Time>,
    pub case_completed: Option<CaseCompletion>,
    pub in_absentia_at: Option<Time>,
    pub hearings: Option<Vec<HearingAnswer>>,
    pub ftas: Option<Vec<FtaAnswer>>,
    /// FTAs OPLA recorded that EOIR's records lack.
    pub opla_only_ftas: Option<Vec<Time>>,
    pub addresses: Option<Vec<KnownAddressAnswer>>,
    pub safety_concerns: Option<Vec<SafetyConcernAnswer>>,
    pub post_release_services: Option<PostReleaseServices>,
    pub wellbeing_calls: Option<Vec<WellbeingCall>>,
    pub agencies: Option<Vec<AgencyName>>,
    /// Events folded into the record.
    pub events: Option<u64>,
    /// Every event, in event time; an agency sees only the events behind
    /// fields it may read.
    pub timeline: Option<Vec<TimelineItem>>,
}

/// `GET /v1/children/{a_number}`'s answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChildAnswer {
    pub child: ChildRecord,
}

impl From<&ChildState> for ChildRecord {
    fn from(s: &ChildState) -> Self {
        let t = |t: &Option<handoff_events::Timestamp>| t.map(Time);
        ChildRecord {
            a_number: Some(s.a_number.clone()),
            encountered_at: t(&s.encountered_at),
            area_of_responsibility: s.area_of_responsibility.clone(),
            transferred_to_orr_at: t(&s.transferred_to_orr_at),
            placed_at: t(&s.placed_at),
            released_at: t(&s.released_at),
            sponsor: s.sponsor.as_ref().map(|x| SponsorAnswer {
                id: x.id.clone(),
                category: Symbol(x.category),
                relationship: x.relationship.clone(),
            }),
            left_care: s.left_care.map(|(at, reason)| LeftCare {
                at: Time(at),
                reason: Symbol(reason),
            }),
            nta_status: Some(s.nta_status),
            nta_issued_at: t(&s.nta_issued_at),
            nta_served_at: t(&s.nta_served_at),
            nta_service_method: s.nta_service_method.map(Symbol),
            nta_filed_at: t(&s.nta_filed_at),
            court: s.court.clone(),
            case_opened_at: t(&s.case_opened_at),
            case_completed: s
                .case_completed
                .as_ref()
                .map(|(at, decision)| CaseCompletion {
                    at: Time(*at),
                    decision: decision.clone(),
                }),
            in_absentia_at: t(&s.in_absentia_at),
            hearings: Some(
                s.hearings
                    .iter()
                    .map(|h| HearingAnswer {
                        schedule_id: h.schedule_id.clone(),
                        at: Time(h.at),
                        court: h.court.clone(),
                        calendar: h.calendar.map(Symbol),
                        status: h.status,
                        represented: h.represented,
                    })
                    .collect(),
            ),
            ftas: Some(
                s.ftas
                    .iter()
                    .map(|f| FtaAnswer {
                        hearing_at: Time(f.hearing_at),
                        court: f.court.clone(),
                        schedule_id: f.schedule_id.clone(),
                        follow_ups: f
                            .follow_ups
                            .iter()
                            .map(|(at, outcome)| FollowUp {
                                at: Time(*at),
                                outcome: Symbol(*outcome),
                            })
                            .collect(),
                        opla_recorded: f.opla_recorded,
                    })
                    .collect(),
            ),
            opla_only_ftas: Some(s.opla_only_ftas.iter().copied().map(Time).collect()),
            addresses: Some(
                s.addresses
                    .iter()
                    .map(|a| KnownAddressAnswer {
                        agency: a.agency.into(),
                        at: Time(a.at),
                        address: (&a.address).into(),
                    })
                    .collect(),
            ),
            safety_concerns: Some(
                s.safety_concerns
                    .iter()
                    .map(|c| SafetyConcernAnswer {
                        id: c.id.clone(),
                        at: Time(c.at),
                        category: Symbol(c.category),
                        severity: Symbol(c.severity),
                    })
                    .collect(),
            ),
            post_release_services: s.post_release_services.map(|(start, end)| {
                PostReleaseServices {
                    started_at: Time(start),
                    ended_at: end.map(Time),
                }
            }),
            wellbeing_calls: Some(
                s.wellbeing_calls
                    .iter()
                    .map(|(at, reached)| WellbeingCall {
                        at: Time(*at),
                        reached: *reached,
                    })
                    .collect(),
            ),
            agencies: Some(s.agencies.iter().map(|a| (*a).into()).collect()),
            events: Some(s.events as u64),
            timeline: Some(
                s.timeline
                    .iter()
                    .map(|e| TimelineItem {
                        at: Time(e.at),
                        agency: e.agency.into(),
                        source_system: e.source_system.clone(),
                        event: event_name(e.event),
                    })
                    .collect(),
            ),
        }
    }
}

/// The field names of an answer type: what the policy can grant.
pub fn fields_of<T: Serialize + Default>() -> Vec<String> {
    match serde_json::to_value(T::default()) {
        Ok(serde_json::Value::Object(o)) => o.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_snake_case_and_map_back() {
        assert_eq!(event_name("FailedToAppear"), "failed_to_appear");
        assert_eq!(event_type("failed_to_appear"), Some("FailedToAppear"));
        for t in EVENT_TYPES {
            assert_eq!(event_type(&event_name(t)), Some(*t));
        }
    }

    #[test]
    fn a_child_record_has_no_number_where_a_time_belongs() {
        let state = ChildState::from_events(
            "A000000777",
            &handoff_events::samples::one_of_each("A000000777".parse().unwrap()),
        );
        let record = serde_json::to_value(ChildRecord::from(&state)).unwrap();
        let text = record.to_string();
        assert!(text.contains("\"encountered_at\":\"20"), "{text}");
        assert!(
            record["timeline"][0]["event"]
                .as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'),
            "{text}"
        );
        assert_eq!(
            fields_of::<ChildRecord>().len(),
            serde_json::to_value(ChildState::default())
                .unwrap()
                .as_object()
                .unwrap()
                .len(),
            "the record has the state's fields, so the policy's names hold"
        );
    }
}
