//! Synthetic example events, one of each type, for tests and for
//! `handoff up --demo`. Every value is made up; no real person's data.

use chrono::{Duration, NaiveDate};

use crate::common::{Address, Agency, AgencyCaseIds, EventMeta};
use crate::event::Event;
use crate::ids::event_id;
use crate::time::{Date, Timestamp};
use crate::{doj, hhs, ice, shared, ANumber};

fn system(agency: Agency) -> &'static str {
    match agency {
        Agency::Ice => "EARM",
        Agency::HhsOrr => "UC_PATH",
        Agency::DojEoir => "CASE",
    }
}

/// A meta block for a synthetic event `days` after 2021-03-01.
pub fn meta(
    a_number: &ANumber,
    agency: Agency,
    record: &str,
    event_type: &str,
    days: i64,
) -> EventMeta {
    let at =
        Timestamp::start_of(NaiveDate::from_ymd_opt(2021, 3, 1).unwrap() + Duration::days(days));
    let source_record_id = format!("{record}:{}", a_number.as_str());
    EventMeta {
        event_id: event_id(system(agency), &source_record_id, event_type).to_string(),
        event_type: event_type.to_owned(),
        occurred_at: at,
        recorded_at: Timestamp(at.0 + 3_600_000),
        source_agency: agency,
        source_system: system(agency).to_owned(),
        source_record_id,
        a_number: Some(a_number.clone()),
        case_ids: AgencyCaseIds {
            ice_subject_id: Some("S-100200".into()),
            ..Default::default()
        },
        correlation_id: None,
        statistical: false,
    }
}

/// A made-up sponsor address in a multi-unit building.
pub fn address() -> Address {
    Address {
        street: Some("100 Example Street".into()),
        secondary_unit: Some("Apt 4".into()),
        city: Some("Springfield".into()),
        state: Some("IL".into()),
        postal_code: Some("62701".into()),
        country: "US".into(),
        missing_secondary_unit: false,
        undeliverable: false,
        blank: false,
        incomplete: false,
    }
}

/// One event of every type for one child, in life-cycle order.
pub fn one_of_each(a: ANumber) -> Vec<Event> {
    let ice = |record: &str, t: &str, d| meta(&a, Agency::Ice, record, t, d);
    let hhs = |record: &str, t: &str, d| meta(&a, Agency::HhsOrr, record, t, d);
    let doj = |record: &str, t: &str, d| meta(&a, Agency::DojEoir, record, t, d);
    let hearing = Timestamp(
        Timestamp::start_of(NaiveDate::from_ymd_opt(2021, 9, 1).unwrap()).0 + 9 * 3_600_000,
    );
    vec![
        Event::ChildEncountered(ice::ChildEncountered {
            meta: ice("enc", "ChildEncountered", 0),
            encounter_id: "E-1".into(),
            area_of_responsibility: "HOU".into(),
            unaccompanied: true,
            birth_date: Some(Date::from(NaiveDate::from_ymd_opt(2008, 6, 15).unwrap())),
            citizenship: Some("GT".into()),
            gender: Some("F".into()),
        }),
        Event::TransferredToOrr(ice::TransferredToOrr {
            meta: ice("bookout", "TransferredToOrr", 2),
            encounter_id: "E-1".into(),
            orr_facility: Some("ORR-TX-07".into()),
            hours_in_custody: Some(51),
        }),
        Event::PlacedInOrrCare(hhs::PlacedInOrrCare {
            meta: hhs("placement", "PlacedInOrrCare", 2),
            facility_id: "ORR-TX-07".into(),
            placement_type: hhs::PlacementType::Shelter,
        }),
        Event::ReleasedToSponsor(hhs::ReleasedToSponsor {
            meta: hhs("release", "ReleasedToSponsor", 30),
            sponsor_id: "SP-9".into(),
            sponsor_category: hhs::SponsorCategory::Cat2A,
            relationship: "AUNT".into(),
            address: address(),
            sponsor_care_agreement: true,
        }),
        Event::WellbeingCallCompleted(hhs::WellbeingCallCompleted {
            meta: hhs("call", "WellbeingCallCompleted", 60),
            reached: true,
            attempt: 1,
        }),
        Event::NoticeToAppearIssued(ice::NoticeToAppearIssued {
            meta: ice("nta", "NoticeToAppearIssued", 31),
            nta_id: "NTA-1".into(),
            issued_on: Date::from(NaiveDate::from_ymd_opt(2021, 4, 1).unwrap()),
        }),
        Event::NoticeToAppearServed(ice::NoticeToAppearServed {
            meta: ice("nta-served", "NoticeToAppearServed", 35),
            nta_id: "NTA-1".into(),
            method: ice::ServiceMethod::Mail,
            served_to: Some(address()),
        }),
        Event::NoticeToAppearFiled(ice::NoticeToAppearFiled {
            meta: ice("nta-filed", "NoticeToAppearFiled", 40),
            nta_id: "NTA-1".into(),
            court: "CHI".into(),
        }),
        Event::FieldOfficeAssigned(ice::FieldOfficeAssigned {
            meta: ice("aor", "FieldOfficeAssigned", 40),
            area_of_responsibility: "CHI".into(),
            docket: None,
        }),
        Event::CaseOpened(doj::CaseOpened {
            meta: doj("proceeding", "CaseOpened", 45),
            court: "CHI".into(),
            hearing_location: Some("CHI".into()),
            nta_date: Some(Date::from(NaiveDate::from_ymd_opt(2021, 4, 1).unwrap())),
            case_type: Some("RMV".into()),
            custody: Some("R".into()),
        }),
        Event::HearingScheduled(doj::HearingScheduled {
            meta: doj("schedule", "HearingScheduled", 46),
            schedule_id: "7001".into(),
            calendar: doj::CalendarType::Master,
            hearing_at: hearing,
            court: "CHI".into(),
            judge: Some("IJ42".into()),
            notice_address: Some(address()),
        }),
        Event::HearingAdjourned(doj::HearingAdjourned {
            meta: doj("schedule-adj", "HearingAdjourned", 100),
            schedule_id: "7000".into(),
            hearing_at: hearing,
            reason_code: "17".into(),
        }),
        Event::HearingAttended(doj::HearingAttended {
            meta: doj("schedule-att", "HearingAttended", 110),
            schedule_id: "6999".into(),
            hearing_at: hearing,
            represented: false,
        }),
        Event::FailedToAppear(doj::FailedToAppear {
            meta: doj("fta", "FailedToAppear", 184),
            schedule_id: Some("7001".into()),
            hearing_at: hearing,
            court: "CHI".into(),
        }),
        Event::HearingOutcomeRecorded(ice::HearingOutcomeRecorded {
            meta: meta(&a, Agency::Ice, "planet", "HearingOutcomeRecorded", 184),
            hearing_schedule_id: Some("7001".into()),
            hearing_at: hearing,
            court: Some("CHI".into()),
            outcome: ice::HearingOutcome::FailedToAppear,
        }),
        Event::InAbsentiaOrderIssued(doj::InAbsentiaOrderIssued {
            meta: doj("absentia", "InAbsentiaOrderIssued", 184),
            court: "CHI".into(),
            decision_code: Some("X".into()),
        }),
        Event::PostReleaseServicesStarted(hhs::PostReleaseServicesStarted {
            meta: hhs("prs", "PostReleaseServicesStarted", 186),
            provider: Some("PRS-PROVIDER-3".into()),
            reason: Some("FTA_REFERRAL".into()),
        }),
        Event::FtaFollowUpRecorded(ice::FtaFollowUpRecorded {
            meta: ice("followup", "FtaFollowUpRecorded", 190),
            hearing_schedule_id: Some("7001".into()),
            hearing_at: Some(hearing),
            outcome: ice::FollowUpOutcome::ContactAttempted,
            area_of_responsibility: Some("CHI".into()),
        }),
        Event::SafetyConcernRaised(ice::SafetyConcernRaised {
            meta: ice("concern", "SafetyConcernRaised", 191),
            concern_id: "SC-1".into(),
            category: ice::SafetyConcernCategory::ForcedLabor,
            severity: ice::Severity::High,
            raised_by_office: Some("CHI".into()),
        }),
        Event::AddressChanged(shared::AddressChanged {
            meta: hhs("addr", "AddressChanged", 200),
            address: Address {
                secondary_unit: None,
                missing_secondary_unit: true,
                ..address()
            },
            previous_address: Some(address()),
            reported_by: Some("SPONSOR".into()),
        }),
        Event::CaseVenueChanged(doj::CaseVenueChanged {
            meta: doj("venue", "CaseVenueChanged", 210),
            from_court: Some("CHI".into()),
            to_court: "HOU".into(),
        }),
        Event::PostReleaseServicesEnded(hhs::PostReleaseServicesEnded {
            meta: hhs("prs-end", "PostReleaseServicesEnded", 300),
            reason: Some("COMPLETED".into()),
        }),
        Event::CaseCompleted(doj::CaseCompleted {
            meta: doj("completion", "CaseCompleted", 320),
            decision_type: Some("O".into()),
            decision_code: "X".into(),
            other_completion: None,
        }),
        Event::LeftOrrCare(hhs::LeftOrrCare {
            meta: hhs("discharge", "LeftOrrCare", 400),
            reason: hhs::LeftCareReason::AgedOut,
        }),
    ]
}
