//! `encounters.csv` -> ChildEncountered, and TransferredToOrr when the
//! child was booked out to ORR.

use handoff_events::ice::{ChildEncountered, TransferredToOrr};
use handoff_events::{Agency, AgencyCaseIds, Date, Event};

use crate::origin::Origin;
use crate::record::{Parsed, Reject};
use crate::table::Row;
use crate::time::at;

pub const COLUMNS: [&str; 12] = [
    "SUBJECT_ID",
    "A_NUMBER",
    "ENCOUNTER_ID",
    "APPREHENSION_DATE",
    "AOR",
    "UAC_FLAG",
    "BIRTH_DATE",
    "CITIZENSHIP",
    "GENDER",
    "BOOK_OUT_DATE",
    "RELEASE_REASON",
    "ORR_FACILITY",
];

pub fn map(row: &Row<'_>) -> Parsed {
    match try_map(row) {
        Ok(events) => Parsed::Events(events),
        Err(reject) => Parsed::Rejected(reject),
    }
}

fn try_map(row: &Row<'_>) -> Result<Vec<Event>, Reject> {
    let encounter_id = row.required("ENCOUNTER_ID")?;
    let a_number = row.a_number("A_NUMBER")?;
    let apprehended = row
        .datetime("APPREHENSION_DATE")?
        .ok_or_else(|| Reject::missing("APPREHENSION_DATE"))?;
    let aor = row.required("AOR")?;
    let unaccompanied = match row.get("UAC_FLAG").as_deref() {
        Some("Y") | None => true,
        Some("N") => false,
        Some(other) => return Err(Reject::bad_value("UAC_FLAG", other, "Y or N")),
    };
    let birth = row.date("BIRTH_DATE")?;
    let book_out = row.datetime("BOOK_OUT_DATE")?;
    let origin = Origin {
        agency: Agency::Ice,
        system: super::SYSTEM_EARM,
        record_id: format!("encounters:{encounter_id}"),
        a_number: Some(a_number),
        case_ids: AgencyCaseIds {
            ice_subject_id: row.get("SUBJECT_ID"),
            ..Default::default()
        },
        recorded_at: None,
        correlation_id: Some(format!("encounter:{encounter_id}")),
        statistical: false,
    };
    let mut events = vec![Event::ChildEncountered(ChildEncountered {
        meta: origin.meta("ChildEncountered", at(apprehended)),
        encounter_id: encounter_id.clone(),
        area_of_responsibility: aor,
        unaccompanied,
        birth_date: birth.map(Date::from),
        citizenship: row.get("CITIZENSHIP"),
        gender: row.get("GENDER"),
    })];
    let to_orr = row
        .get("RELEASE_REASON")
        .is_some_and(|r| r.to_uppercase().contains("ORR"));
    if let (Some(out), true) = (book_out, to_orr) {
        let hours = (out - apprehended).num_hours();
        events.push(Event::TransferredToOrr(TransferredToOrr {
            meta: origin.meta("TransferredToOrr", at(out)),
            encounter_id,
            orr_facility: row.get("ORR_FACILITY"),
            hours_in_custody: i32::try_from(hours).ok().filter(|h| *h >= 0),
        }));
    } else if book_out.is_none() && to_orr {
        return Err(Reject::missing("BOOK_OUT_DATE"));
    }
    Ok(events)
}
