//! Source dates to event instants. Agency exports record local dates and
//! times without a zone; Handoff stores them as UTC instants of the same
//! wall-clock reading, so a hearing at 09:00 reads as 09:00 everywhere.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use handoff_events::Timestamp;

pub fn at(dt: NaiveDateTime) -> Timestamp {
    Timestamp::from_datetime(dt.and_utc())
}

pub fn day(d: NaiveDate) -> Timestamp {
    Timestamp::start_of(d)
}

pub fn day_at(d: NaiveDate, t: Option<NaiveTime>) -> Timestamp {
    at(d.and_time(t.unwrap_or(NaiveTime::MIN)))
}
