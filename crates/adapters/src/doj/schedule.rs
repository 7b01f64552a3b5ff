//! `tbl_schedule` -> HearingScheduled for every slot (the notice of hearing
//! went out); HearingAdjourned when ADJ_RSN is set; and, in the internal
//! feed, HearingAttended (APPEARANCE = P) or FailedToAppear (APPEARANCE =
//! F). The public release records no appearance: there the only failures
//! to appear are the proceedings' in-absentia orders.

use handoff_events::doj::{
    CalendarType, FailedToAppear, HearingAdjourned, HearingAttended, HearingScheduled,
};
use handoff_events::Event;

use crate::fields::parse_time;
use crate::record::{Parsed, Reject};
use crate::table::Row;
use crate::time::{day, day_at};

pub const COLUMNS: [&str; 18] = [
    "IDNSCHEDULE",
    "IDNPROCEEDING",
    "IDNCASE",
    "ALIEN_NBR",
    "CAL_TYPE",
    "ADJ_DATE",
    "ADJ_TIME_START",
    "ADJ_TIME_STOP",
    "ADJ_RSN",
    "ADJ_MEDIUM",
    "ADJ_MSG",
    "HEARING_LOC_CODE",
    "IJ_CODE",
    "SCHEDULE_TYPE",
    "NOTICE_CODE",
    "UPDATE_DATE",
    "APPEARANCE",
    "REPRESENTED",
];

pub fn map(row: &Row<'_>, public: bool) -> Result<Parsed, Reject> {
    let idnschedule = row.id("IDNSCHEDULE")?;
    let origin = super::origin(row, public, format!("tbl_schedule:{idnschedule}"))?;
    let calendar = match row.required("CAL_TYPE")?.as_str() {
        "M" => CalendarType::Master,
        "I" => CalendarType::Individual,
        other => {
            return Err(Reject::bad_value(
                "CAL_TYPE",
                other,
                "M (master) or I (individual)",
            ))
        }
    };
    let date = row.required_date("ADJ_DATE")?;
    let time =
        match row.get("ADJ_TIME_START") {
            None => None,
            Some(t) => Some(parse_time(&t).ok_or_else(|| {
                Reject::bad_value("ADJ_TIME_START", &t, "a time like 0900 or 9:00")
            })?),
        };
    let hearing_at = day_at(date, time);
    let court = row
        .get("HEARING_LOC_CODE")
        .unwrap_or_else(|| "UNKNOWN".to_owned());
    let scheduled_on = row.date("UPDATE_DATE")?.map(day).unwrap_or(hearing_at);
    let schedule_id = idnschedule.to_string();

    let mut events = vec![Event::HearingScheduled(HearingScheduled {
        meta: origin.meta("HearingScheduled", scheduled_on.min(hearing_at)),
        schedule_id: schedule_id.clone(),
        calendar,
        hearing_at,
        court: court.clone(),
        judge: row.get("IJ_CODE"),
        notice_address: None,
    })];
    if let Some(reason_code) = row.get("ADJ_RSN") {
        events.push(Event::HearingAdjourned(HearingAdjourned {
            meta: origin.meta("HearingAdjourned", hearing_at),
            schedule_id: schedule_id.clone(),
            hearing_at,
            reason_code,
        }));
    }
    match row.get("APPEARANCE").as_deref() {
        None => {}
        Some("P") => events.push(Event::HearingAttended(HearingAttended {
            meta: origin.meta("HearingAttended", hearing_at),
            schedule_id,
            hearing_at,
            represented: row.get("REPRESENTED").as_deref() == Some("Y"),
        })),
        Some("F") => events.push(Event::FailedToAppear(FailedToAppear {
            meta: origin.meta("FailedToAppear", hearing_at),
            schedule_id: Some(schedule_id),
            hearing_at,
            court,
        })),
        Some(other) => {
            return Err(Reject::bad_value(
                "APPEARANCE",
                other,
                "P (appeared), F (failed to appear) or empty",
            ))
        }
    }
    Ok(Parsed::Events(events))
}
