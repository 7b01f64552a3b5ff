//! Avro logical types for time, as small newtypes.
//!
//! Events carry instants as `timestamp-millis` and calendar days as `date`,
//! so that any Confluent client decodes them to its own native time types.
//! The newtypes give the Rust side the same logical types (the derived
//! schema must equal the `.avsc` file) and convert to and from `chrono`.

use std::collections::HashSet;
use std::fmt;

use apache_avro::schema::{Name, NamespaceRef};
use apache_avro::{AvroSchemaComponent, Schema};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// The federal fiscal year a day falls in: October to September, named
/// by the year it ends (1 October 2020 is in FY2021).
pub fn fiscal_year(day: NaiveDate) -> i32 {
    use chrono::Datelike;
    if day.month() >= 10 {
        day.year() + 1
    } else {
        day.year()
    }
}

/// An instant in UTC, milliseconds since the Unix epoch (`timestamp-millis`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Timestamp(at.timestamp_millis())
    }

    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// Midnight UTC at the start of a calendar day; source systems that only
    /// record a date mean "some time that day".
    pub fn start_of(day: NaiveDate) -> Self {
        Self::from_datetime(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")))
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// RFC 3339 text, as CloudEvents' `ce_time` wants it.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_rfc3339())
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self::from_datetime(at)
    }
}

impl AvroSchemaComponent for Timestamp {
    fn get_schema_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Schema {
        Schema::TimestampMillis
    }
}

/// A calendar day, days since 1970-01-01 (`date`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Date(pub i32);

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch");

impl Date {
    pub fn from_naive(day: NaiveDate) -> Self {
        Date((day - EPOCH).num_days() as i32)
    }

    pub fn to_naive(self) -> NaiveDate {
        EPOCH + chrono::Duration::days(i64::from(self.0))
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_naive())
    }
}

impl From<NaiveDate> for Date {
    fn from(day: NaiveDate) -> Self {
        Self::from_naive(day)
    }
}

impl AvroSchemaComponent for Date {
    fn get_schema_in_ctxt(_: &mut HashSet<Name>, _: NamespaceRef) -> Schema {
        Schema::Date
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_days_since_epoch() {
        let day = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap();
        let d = Date::from_naive(day);
        assert_eq!(d.0, 18017);
        assert_eq!(d.to_naive(), day);
        assert_eq!(
            Date::from_naive(NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()).0,
            -1
        );
    }

    #[test]
    fn timestamps_print_as_rfc3339_with_millis() {
        let t = Timestamp::start_of(NaiveDate::from_ymd_opt(2019, 5, 1).unwrap());
        assert_eq!(t.to_rfc3339(), "2019-05-01T00:00:00.000Z");
        assert_eq!(t.0, 1_556_668_800_000);
    }
}
