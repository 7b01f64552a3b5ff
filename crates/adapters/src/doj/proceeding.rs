//! `B_TblProceeding` -> CaseOpened; CaseVenueChanged when transferred;
//! FailedToAppear and InAbsentiaOrderIssued (dated by COMP_DATE) when
//! ABSENTIA = Y (only `Y` is reliable); CaseCompleted when the proceeding
//! has a decision and a completion date.

use handoff_events::doj::{
    CaseCompleted, CaseOpened, CaseVenueChanged, FailedToAppear, InAbsentiaOrderIssued,
};
use handoff_events::{Date, Event};

use crate::fields::parse_time;
use crate::record::{Parsed, Reject};
use crate::table::Row;
use crate::time::{day, day_at};

pub const COLUMNS: [&str; 18] = [
    "IDNPROCEEDING",
    "IDNCASE",
    "ALIEN_NBR",
    "OSC_DATE",
    "INPUT_DATE",
    "BASE_CITY_CODE",
    "HEARING_LOC_CODE",
    "IJ_CODE",
    "TRANSFER_DATE",
    "HEARING_DATE",
    "HEARING_TIME",
    "DEC_TYPE",
    "DEC_CODE",
    "OTHER_COMP",
    "COMP_DATE",
    "ABSENTIA",
    "TRANSFER_TO",
    "CASE_TYPE",
];

pub fn map(row: &Row<'_>, public: bool) -> Result<Parsed, Reject> {
    let idnproceeding = row.id("IDNPROCEEDING")?;
    let origin = super::origin(row, public, format!("B_TblProceeding:{idnproceeding}"))?;
    let court = row.required("BASE_CITY_CODE")?;
    let hearing_location = row.get("HEARING_LOC_CODE");
    let input = row.required_date("INPUT_DATE")?;
    let osc = row.date("OSC_DATE")?;
    let transfer = row.date("TRANSFER_DATE")?;
    let hearing = row.date("HEARING_DATE")?;
    let completed = row.date("COMP_DATE")?;
    let hearing_time = row.get("HEARING_TIME").and_then(|t| parse_time(&t));
    let decision = row.get("DEC_CODE");
    let other_completion = row.get("OTHER_COMP");
    let in_absentia = row.get("ABSENTIA").as_deref() == Some("Y");

    let mut events = vec![Event::CaseOpened(CaseOpened {
        meta: origin.meta("CaseOpened", day(input)),
        court: court.clone(),
        hearing_location: hearing_location.clone(),
        nta_date: osc.map(Date::from),
        case_type: row.get("CASE_TYPE"),
        custody: None,
    })];
    if let (Some(to_court), Some(on)) = (row.get("TRANSFER_TO"), transfer) {
        events.push(Event::CaseVenueChanged(CaseVenueChanged {
            meta: origin.meta("CaseVenueChanged", day(on)),
            from_court: Some(court.clone()),
            to_court,
        }));
    }
    let hearing_court = hearing_location.clone().unwrap_or_else(|| court.clone());
    if in_absentia {
        let ordered_on = completed.ok_or_else(|| Reject::missing("COMP_DATE"))?;
        let hearing_at = day_at(hearing.unwrap_or(ordered_on), hearing_time);
        events.push(Event::FailedToAppear(FailedToAppear {
            meta: origin.meta("FailedToAppear", hearing_at),
            schedule_id: None,
            hearing_at,
            court: hearing_court.clone(),
        }));
        events.push(Event::InAbsentiaOrderIssued(InAbsentiaOrderIssued {
            meta: origin.meta("InAbsentiaOrderIssued", day(ordered_on)),
            court: hearing_court,
            decision_code: decision.clone(),
        }));
    }
    if let (Some(code), Some(on)) = (decision.or(other_completion.clone()), completed) {
        events.push(Event::CaseCompleted(CaseCompleted {
            meta: origin.meta("CaseCompleted", day(on)),
            decision_type: row.get("DEC_TYPE"),
            decision_code: code,
            other_completion,
        }));
    }
    Ok(Parsed::Events(events))
}
