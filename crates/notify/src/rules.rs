//! What an event means for notifications: the rules of issue 5, as pure
//! logic over a child's merged state (`handoff-story`). An event gives
//! immediate triggers (an FTA, an address change, a safety concern) and
//! timer operations (set a deadline, cancel it when the awaited event
//! comes); a timer that comes due gives a trigger if its condition still
//! holds. Every trigger carries a `cause` that is the same however often
//! the event is redelivered or re-reported, so (cause, rule, subscriber)
//! is an idempotency key.

use handoff_events::{Address, Agency, Event, Timestamp};
use handoff_http::{Symbol, Time};
use handoff_story::{address_finding, ChildState, HearingStatus, NtaStatus};
use serde::{Deserialize, Serialize};

use crate::payload::{ConcernRef, HearingRef, LatestAddress, Payload, SponsorRef};

use crate::config::RulesConfig;
use crate::roles::{area_of_responsibility, Role};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 1. A missed hearing: ORR, the ERO field office, OPLA.
    FailedToAppear,
    /// 2a. A new address reported by ORR or ICE: EOIR and the other agency.
    AddressChanged,
    /// 2b. An address that is blank, undeliverable or missing its unit:
    /// the agency that reported it, to correct it.
    BadAddress,
    /// 3. Released without a served NTA for N days: ERO, repeating.
    NtaNotServed,
    /// 4. A hearing passed with no outcome reported: EOIR and OPLA.
    HearingWithoutOutcome,
    /// 5. A safety concern: ORR and ERO supervisors, high priority.
    SafetyConcern,
    /// 6. An FTA without ERO follow-up after N days: the field office director.
    FtaWithoutFollowUp,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::FailedToAppear,
        Rule::AddressChanged,
        Rule::BadAddress,
        Rule::NtaNotServed,
        Rule::HearingWithoutOutcome,
        Rule::SafetyConcern,
        Rule::FtaWithoutFollowUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::FailedToAppear => "failed_to_appear",
            Rule::AddressChanged => "address_changed",
            Rule::BadAddress => "bad_address",
            Rule::NtaNotServed => "nta_not_served",
            Rule::HearingWithoutOutcome => "hearing_without_outcome",
            Rule::SafetyConcern => "safety_concern",
            Rule::FtaWithoutFollowUp => "fta_without_follow_up",
        }
    }

    pub fn parse(text: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    High,
}

/// A notification to be made, before it is matched to subscribers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub rule: Rule,
    pub roles: Vec<Role>,
    pub priority: Priority,
    /// What it is about, stable across redeliveries: with the rule and the
    /// subscriber, the idempotency key.
    pub cause: String,
    /// The child's area of responsibility and court, for subscribers'
    /// filters and for picking the ERO field office.
    pub aor: Option<String>,
    pub court: Option<String>,
    /// When it happened (event time), for the timers' clock and latency.
    pub at: Timestamp,
    /// What the receiver needs to act.
    pub payload: Payload,
}

/// A deadline kept by the notifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub rule: Rule,
    pub a_number: String,
    /// Distinguishes a child's timers of one rule (e.g. the hearing day).
    pub key: String,
    pub due: Timestamp,
    /// For reminders: the interval to the next firing.
    pub repeat_every_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerOp {
    Set(Timer),
    Cancel {
        rule: Rule,
        a_number: String,
        key: String,
    },
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    pub triggers: Vec<Trigger>,
    pub timers: Vec<TimerOp>,
}

fn day(t: Timestamp) -> String {
    t.to_rfc3339()[..10].to_owned()
}

/// The ERO office responsible for the child: from the state of its latest
/// usable address, else the office ICE assigned.
pub fn responsible_aor(state: &ChildState) -> Option<String> {
    state
        .latest_address()
        .filter(|a| !a.address.blank && !a.address.undeliverable)
        .and_then(|a| a.address.state.as_deref())
        .and_then(area_of_responsibility)
        .map(str::to_owned)
        .or_else(|| state.area_of_responsibility.clone())
}

fn role_of(agency: Agency) -> Role {
    match agency {
        Agency::Ice => Role::EroFieldOffice,
        Agency::HhsOrr => Role::Orr,
        Agency::DojEoir => Role::Eoir,
    }
}

/// What the receiver of a notification about this child needs to act.
fn child_payload(state: &ChildState, at: Timestamp) -> Payload {
    let latest = state.latest_address().map(|a| LatestAddress {
        address: (&a.address).into(),
        source_agency: a.agency.into(),
        reported_at: Time(a.at),
        age_days: (at.0 - a.at.0).div_euclid(DAY_MS),
        finding: address_finding(&a.address),
    });
    Payload {
        latest_address: latest,
        sponsor: state.sponsor.as_ref().map(|s| SponsorRef {
            id: s.id.clone(),
            category: Symbol(s.category),
            relationship: s.relationship.clone(),
        }),
        nta_status: state.nta_status,
        court: state.court.clone(),
        area_of_responsibility: responsible_aor(state),
        ..Payload::for_child(&state.a_number)
    }
}

impl Trigger {
    fn new(rule: Rule, roles: &[Role], cause: String, state: &ChildState, at: Timestamp) -> Self {
        Trigger {
            rule,
            roles: roles.to_vec(),
            priority: Priority::Normal,
            cause,
            aor: responsible_aor(state),
            court: state.court.clone(),
            at,
            payload: child_payload(state, at),
        }
    }
}

/// The effects of `event` on a child whose state, with the event, is
/// `after` and, without it, `before`.
pub fn on_event(
    event: &Event,
    before: &ChildState,
    after: &ChildState,
    config: &RulesConfig,
) -> Effects {
    let mut fx = Effects::default();
    let meta = event.meta();
    let at = meta.occurred_at;
    let a = after.a_number.clone();
    let cancel = |rule, key: String| TimerOp::Cancel {
        rule,
        a_number: a.clone(),
        key,
    };
    match event {
        Event::FailedToAppear(e) => {
            let hearing_day = day(e.hearing_at);
            let new = !before.ftas.iter().any(|f| day(f.hearing_at) == hearing_day);
            if new {
                let mut t = Trigger::new(
                    Rule::FailedToAppear,
                    &[Role::Orr, Role::EroFieldOffice, Role::Opla],
                    format!("fta:{a}:{hearing_day}"),
                    after,
                    at,
                );
                t.payload.hearing = Some(HearingRef {
                    at: Time(e.hearing_at),
                    court: e.court.clone(),
                });
                t.payload.earlier_ftas =
                    Some(before.ftas.iter().map(|f| Time(f.hearing_at)).collect());
                fx.triggers.push(t);
                fx.timers.push(TimerOp::Set(Timer {
                    rule: Rule::FtaWithoutFollowUp,
                    a_number: a.clone(),
                    key: hearing_day.clone(),
                    due: Timestamp(
                        e.hearing_at.0 + i64::from(config.fta_follow_up_within_days) * DAY_MS,
                    ),
                    repeat_every_ms: None,
                }));
            }
            fx.timers
                .push(cancel(Rule::HearingWithoutOutcome, hearing_day));
        }
        Event::FtaFollowUpRecorded(e) => {
            let key = e
                .hearing_at
                .map(day)
                .or_else(|| after.ftas.last().map(|f| day(f.hearing_at)));
            if let Some(key) = key {
                fx.timers.push(cancel(Rule::FtaWithoutFollowUp, key));
            }
        }
        Event::AddressChanged(e) => {
            let reporter = meta.source_agency;
            if reporter != Agency::DojEoir {
                let other = if reporter == Agency::Ice {
                    Role::Orr
                } else {
                    Role::EroFieldOffice
                };
                let mut t = Trigger::new(
                    Rule::AddressChanged,
                    &[Role::Eoir, other],
                    format!("address:{}", meta.event_id),
                    after,
                    at,
                );
                t.payload.reported_by = Some(reporter.into());
                t.payload.new_address = Some((&e.address).into());
                fx.triggers.push(t);
            }
            fx.triggers
                .extend(bad_address(&e.address, reporter, &meta.event_id, after, at));
        }
        Event::ReleasedToSponsor(e) => {
            fx.triggers.extend(bad_address(
                &e.address,
                meta.source_agency,
                &meta.event_id,
                after,
                at,
            ));
            if !matches!(after.nta_status, NtaStatus::Served | NtaStatus::Filed) {
                fx.timers.push(TimerOp::Set(Timer {
                    rule: Rule::NtaNotServed,
                    a_number: a.clone(),
                    key: String::new(),
                    due: Timestamp(at.0 + i64::from(config.nta_not_served_after_days) * DAY_MS),
                    repeat_every_ms: Some(i64::from(config.nta_not_served_repeat_days) * DAY_MS),
                }));
            }
        }
        Event::NoticeToAppearServed(_)
        | Event::NoticeToAppearFiled(_)
        | Event::CaseCompleted(_) => {
            fx.timers.push(cancel(Rule::NtaNotServed, String::new()));
        }
        Event::HearingScheduled(e) => {
            fx.timers.push(TimerOp::Set(Timer {
                rule: Rule::HearingWithoutOutcome,
                a_number: a.clone(),
                key: day(e.hearing_at),
                due: Timestamp(
                    e.hearing_at.0
                        + i64::from(config.hearing_without_outcome_after_hours) * HOUR_MS,
                ),
                repeat_every_ms: None,
            }));
        }
        Event::HearingAttended(e) => fx
            .timers
            .push(cancel(Rule::HearingWithoutOutcome, day(e.hearing_at))),
        Event::HearingAdjourned(e) => fx
            .timers
            .push(cancel(Rule::HearingWithoutOutcome, day(e.hearing_at))),
        Event::SafetyConcernRaised(e) => {
            let mut t = Trigger::new(
                Rule::SafetyConcern,
                &[Role::Orr, Role::EroSupervisor],
                format!("safety:{a}:{}", e.concern_id),
                after,
                at,
            );
            t.priority = Priority::High;
            t.payload.concern = Some(ConcernRef {
                id: e.concern_id.clone(),
                category: Symbol(e.category),
                severity: Symbol(e.severity),
            });
            fx.triggers.push(t);
        }
        _ => {}
    }
    fx
}

fn bad_address(
    address: &Address,
    reporter: Agency,
    event_id: &str,
    state: &ChildState,
    at: Timestamp,
) -> Option<Trigger> {
    let finding = address_finding(address)?;
    let mut t = Trigger::new(
        Rule::BadAddress,
        &[role_of(reporter)],
        format!("bad_address:{event_id}"),
        state,
        at,
    );
    t.payload.finding = Some(finding);
    t.payload.address = Some(address.into());
    Some(t)
}

/// The escalation timer (rule 6) an acknowledged FTA notification stops
/// when ERO reports a follow-up: read from the notification's
/// idempotency key, whose cause is `fta:<A-number>:<hearing day>`.
pub fn follow_up_timer(idempotency_key: &str) -> Option<TimerOp> {
    let cause = idempotency_key.split('|').next()?;
    let mut parts = cause.splitn(3, ':');
    (parts.next()? == "fta").then_some(())?;
    let (a_number, key) = (parts.next()?, parts.next()?);
    Some(TimerOp::Cancel {
        rule: Rule::FtaWithoutFollowUp,
        a_number: a_number.to_owned(),
        key: key.to_owned(),
    })
}

/// The trigger of a timer come due (its `firing`-th time, from 0), if its
/// condition still holds for the child as it is now.
pub fn on_timer(timer: &Timer, firing: u32, state: &ChildState) -> Option<Trigger> {
    let due = timer.due;
    let still = match timer.rule {
        Rule::NtaNotServed => {
            !matches!(state.nta_status, NtaStatus::Served | NtaStatus::Filed)
                && state.case_completed.is_none()
        }
        Rule::HearingWithoutOutcome => state
            .hearings
            .iter()
            .any(|h| day(h.at) == timer.key && h.status == HearingStatus::Scheduled),
        Rule::FtaWithoutFollowUp => state
            .ftas
            .iter()
            .any(|f| day(f.hearing_at) == timer.key && f.follow_ups.is_empty()),
        _ => false,
    };
    if !still {
        return None;
    }
    let roles: &[Role] = match timer.rule {
        Rule::NtaNotServed => &[Role::EroFieldOffice],
        Rule::HearingWithoutOutcome => &[Role::Eoir, Role::Opla],
        _ => &[Role::FieldOfficeDirector],
    };
    let cause = format!(
        "timer:{}:{}:{}:{firing}",
        timer.rule.as_str(),
        timer.a_number,
        timer.key
    );
    let mut t = Trigger::new(timer.rule, roles, cause, state, due);
    t.payload.due = Some(Time(due));
    t.payload.reminder = Some(firing);
    Some(t)
}

#[cfg(test)]
mod tests {
    use handoff_events::samples;

    use super::*;

    fn story() -> Vec<Event> {
        samples::one_of_each("A000000777".parse().unwrap())
    }

    /// Applies the sample story event by event, in event time, collecting
    /// every effect.
    fn effects_of(events: &[Event]) -> Vec<Effects> {
        let mut sorted = events.to_vec();
        sorted.sort_by_key(|e| (e.meta().occurred_at, e.meta().event_id.clone()));
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for e in sorted {
            let before = ChildState::from_events("A000000777", &seen);
            seen.push(e.clone());
            let after = ChildState::from_events("A000000777", &seen);
            out.push(on_event(&e, &before, &after, &RulesConfig::default()));
        }
        out
    }

    #[test]
    fn the_sample_story_fires_each_immediate_rule_once() {
        let fx = effects_of(&story());
        let rules: Vec<Rule> = fx
            .iter()
            .flat_map(|f| f.triggers.iter().map(|t| t.rule))
            .collect();
        assert_eq!(
            rules.iter().filter(|r| **r == Rule::FailedToAppear).count(),
            1,
            "{rules:?}"
        );
        assert_eq!(
            rules.iter().filter(|r| **r == Rule::SafetyConcern).count(),
            1
        );
        let fta = fx
            .iter()
            .flat_map(|f| &f.triggers)
            .find(|t| t.rule == Rule::FailedToAppear)
            .unwrap();
        assert_eq!(fta.roles, vec![Role::Orr, Role::EroFieldOffice, Role::Opla]);
        let body = serde_json::to_value(&fta.payload).unwrap();
        assert_eq!(body["latest_address"]["source_agency"], "ice", "{body}");
        assert_eq!(body["sponsor"]["category"], "cat_2a", "{body}");
        assert!(body["hearing"]["at"].as_str().unwrap().ends_with(".000Z"));
        let safety = fx
            .iter()
            .flat_map(|f| &f.triggers)
            .find(|t| t.rule == Rule::SafetyConcern)
            .unwrap();
        assert_eq!(safety.priority, Priority::High);
    }

    #[test]
    fn a_second_report_of_the_same_missed_hearing_fires_nothing_new() {
        let mut events = story();
        let Event::FailedToAppear(mut again) = events
            .iter()
            .find(|e| e.record_name() == "FailedToAppear")
            .unwrap()
            .clone()
        else {
            unreachable!()
        };
        again.meta.event_id = "another-report".into();
        again.schedule_id = None;
        events.push(Event::FailedToAppear(again));
        let fx = effects_of(&events);
        let ftas = fx
            .iter()
            .flat_map(|f| &f.triggers)
            .filter(|t| t.rule == Rule::FailedToAppear)
            .count();
        assert_eq!(ftas, 1);
    }

    #[test]
    fn timers_fire_only_while_their_condition_holds() {
        let events = story();
        let state = ChildState::from_events("A000000777", &events);
        let nta = Timer {
            rule: Rule::NtaNotServed,
            a_number: "A000000777".into(),
            key: String::new(),
            due: Timestamp(0),
            repeat_every_ms: Some(30 * DAY_MS),
        };
        assert!(
            on_timer(&nta, 0, &state).is_none(),
            "the sample child's NTA was served"
        );
        let unserved: Vec<Event> = events
            .iter()
            .filter(|e| {
                !e.record_name().starts_with("NoticeToAppear") && e.record_name() != "CaseCompleted"
            })
            .cloned()
            .collect();
        let state = ChildState::from_events("A000000777", &unserved);
        let first = on_timer(&nta, 0, &state).unwrap();
        let second = on_timer(&nta, 1, &state).unwrap();
        assert_ne!(
            first.cause, second.cause,
            "each reminder is its own notification"
        );
        assert_eq!(first.roles, vec![Role::EroFieldOffice]);
    }
}
