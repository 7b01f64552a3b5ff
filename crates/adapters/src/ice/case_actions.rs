//! `case_actions.csv` -> one event per action: the NTA's life (issued,
//! served, filed), field office assignment, safety concerns, FTA
//! follow-ups, OPLA's hearing outcomes (SYSTEM = PLANET) and address
//! updates from officer contact.

use handoff_events::ice::{
    FieldOfficeAssigned, FollowUpOutcome, FtaFollowUpRecorded, HearingOutcome,
    HearingOutcomeRecorded, NoticeToAppearFiled, NoticeToAppearIssued, NoticeToAppearServed,
    SafetyConcernCategory, SafetyConcernRaised, ServiceMethod, Severity,
};
use handoff_events::shared::AddressChanged;
use handoff_events::{Agency, AgencyCaseIds, Date, Event};

use crate::address::{assess, RawAddress};
use crate::origin::Origin;
use crate::record::{Parsed, Reject, RejectCode};
use crate::table::Row;
use crate::time::at;

pub const COLUMNS: [&str; 20] = [
    "ACTION_ID",
    "SYSTEM",
    "SUBJECT_ID",
    "A_NUMBER",
    "ACTION_TYPE",
    "ACTION_DATE",
    "NTA_ID",
    "SERVICE_METHOD",
    "STREET",
    "UNIT",
    "CITY",
    "STATE",
    "ZIP",
    "COURT",
    "AOR",
    "CONCERN_CATEGORY",
    "SEVERITY",
    "IDNSCHEDULE",
    "HEARING_DATE",
    "OUTCOME",
];

pub const ACTION_TYPES: [&str; 8] = [
    "NTA_ISSUED",
    "NTA_SERVED",
    "NTA_FILED",
    "AOR_ASSIGNED",
    "SAFETY_CONCERN",
    "FTA_FOLLOW_UP",
    "HEARING_OUTCOME",
    "ADDRESS_UPDATE",
];

pub fn map(row: &Row<'_>) -> Parsed {
    match try_map(row) {
        Ok(event) => Parsed::Events(vec![event]),
        Err(reject) => Parsed::Rejected(reject),
    }
}

/// Parses an enum column by its symbol names.
fn symbol<T>(row: &Row<'_>, column: &str, options: &[(&str, T)]) -> Result<T, Reject>
where
    T: Copy,
{
    let v = row
        .required(column)?
        .to_uppercase()
        .replace([' ', '-'], "_");
    options
        .iter()
        .find(|(name, _)| *name == v)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            Reject::bad_value(column, &v, &format!("one of {}", names.join(", ")))
        })
}

fn address(row: &Row<'_>) -> Option<handoff_events::Address> {
    let raw = RawAddress {
        street: row.raw("STREET"),
        unit: row.raw("UNIT"),
        city: row.raw("CITY"),
        state: row.raw("STATE"),
        zip: row.raw("ZIP"),
    };
    let assessed = assess(&raw);
    (!assessed.blank).then_some(assessed)
}

fn try_map(row: &Row<'_>) -> Result<Event, Reject> {
    let action_id = row.required("ACTION_ID")?;
    let system = match row
        .get("SYSTEM")
        .as_deref()
        .map(str::to_uppercase)
        .as_deref()
    {
        None | Some("EARM") => super::SYSTEM_EARM,
        Some("PLANET") => super::SYSTEM_PLANET,
        Some(other) => return Err(Reject::bad_value("SYSTEM", other, "EARM or PLANET")),
    };
    let a_number = row.a_number("A_NUMBER")?;
    let kind = row.required("ACTION_TYPE")?.to_uppercase();
    let when = row
        .datetime("ACTION_DATE")?
        .ok_or_else(|| Reject::missing("ACTION_DATE"))?;
    let origin = Origin {
        agency: Agency::Ice,
        system,
        record_id: format!("case_actions:{action_id}"),
        a_number: Some(a_number),
        case_ids: AgencyCaseIds {
            ice_subject_id: row.get("SUBJECT_ID"),
            ..Default::default()
        },
        recorded_at: None,
        correlation_id: row.get("NTA_ID").map(|n| format!("nta:{n}")),
        statistical: false,
    };
    let occurred = at(when);
    let meta = |t: &str| origin.meta(t, occurred);
    let hearing_at = || -> Result<Option<handoff_events::Timestamp>, Reject> {
        Ok(row.datetime("HEARING_DATE")?.map(at))
    };
    Ok(match kind.as_str() {
        "NTA_ISSUED" => Event::NoticeToAppearIssued(NoticeToAppearIssued {
            meta: meta("NoticeToAppearIssued"),
            nta_id: row.required("NTA_ID")?,
            issued_on: Date::from(when.date()),
        }),
        "NTA_SERVED" => Event::NoticeToAppearServed(NoticeToAppearServed {
            meta: meta("NoticeToAppearServed"),
            nta_id: row.required("NTA_ID")?,
            method: symbol(
                row,
                "SERVICE_METHOD",
                &[
                    ("PERSONAL", ServiceMethod::Personal),
                    ("MAIL", ServiceMethod::Mail),
                ],
            )?,
            served_to: address(row),
        }),
        "NTA_FILED" => Event::NoticeToAppearFiled(NoticeToAppearFiled {
            meta: meta("NoticeToAppearFiled"),
            nta_id: row.required("NTA_ID")?,
            court: row.required("COURT")?,
        }),
        "AOR_ASSIGNED" => Event::FieldOfficeAssigned(FieldOfficeAssigned {
            meta: meta("FieldOfficeAssigned"),
            area_of_responsibility: row.required("AOR")?,
            docket: None,
        }),
        "SAFETY_CONCERN" => Event::SafetyConcernRaised(SafetyConcernRaised {
            meta: meta("SafetyConcernRaised"),
            concern_id: action_id.clone(),
            category: symbol(
                row,
                "CONCERN_CATEGORY",
                &[
                    ("TRAFFICKING", SafetyConcernCategory::Trafficking),
                    ("EXPLOITATION", SafetyConcernCategory::Exploitation),
                    ("FORCED_LABOR", SafetyConcernCategory::ForcedLabor),
                    ("ABUSE_OR_NEGLECT", SafetyConcernCategory::AbuseOrNeglect),
                    ("SPONSOR_CONCERN", SafetyConcernCategory::SponsorConcern),
                    ("MISSING", SafetyConcernCategory::Missing),
                    ("OTHER", SafetyConcernCategory::Other),
                ],
            )?,
            severity: symbol(
                row,
                "SEVERITY",
                &[
                    ("LOW", Severity::Low),
                    ("MEDIUM", Severity::Medium),
                    ("HIGH", Severity::High),
                    ("CRITICAL", Severity::Critical),
                ],
            )?,
            raised_by_office: row.get("AOR"),
        }),
        "FTA_FOLLOW_UP" => Event::FtaFollowUpRecorded(FtaFollowUpRecorded {
            meta: meta("FtaFollowUpRecorded"),
            hearing_schedule_id: row.get("IDNSCHEDULE"),
            hearing_at: hearing_at()?,
            outcome: symbol(
                row,
                "OUTCOME",
                &[
                    ("LOCATED", FollowUpOutcome::Located),
                    ("NOT_LOCATED", FollowUpOutcome::NotLocated),
                    ("CONTACT_ATTEMPTED", FollowUpOutcome::ContactAttempted),
                    ("REFERRED_TO_ORR", FollowUpOutcome::ReferredToOrr),
                    ("CASE_CLOSED", FollowUpOutcome::CaseClosed),
                ],
            )?,
            area_of_responsibility: row.get("AOR"),
        }),
        "HEARING_OUTCOME" => Event::HearingOutcomeRecorded(HearingOutcomeRecorded {
            meta: meta("HearingOutcomeRecorded"),
            hearing_schedule_id: row.get("IDNSCHEDULE"),
            hearing_at: hearing_at()?.ok_or_else(|| Reject::missing("HEARING_DATE"))?,
            court: row.get("COURT"),
            outcome: symbol(
                row,
                "OUTCOME",
                &[
                    ("ATTENDED", HearingOutcome::Attended),
                    ("FAILED_TO_APPEAR", HearingOutcome::FailedToAppear),
                    ("ADJOURNED", HearingOutcome::Adjourned),
                    ("OTHER", HearingOutcome::Other),
                ],
            )?,
        }),
        "ADDRESS_UPDATE" => Event::AddressChanged(AddressChanged {
            meta: meta("AddressChanged"),
            address: address(row).unwrap_or_default(),
            previous_address: None,
            reported_by: Some("OFFICER".to_owned()),
        }),
        other => {
            return Err(Reject::new(
                RejectCode::UnknownRecordType,
                Some("ACTION_TYPE"),
                format!(
                    "ACTION_TYPE `{other}` is not one of {}",
                    ACTION_TYPES.join(", ")
                ),
            ))
        }
    })
}
