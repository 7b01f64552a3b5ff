//! Events DOJ EOIR publishes on `handoff.doj.v1`, mapped from the CASE
//! tables (proceedings, schedules, decisions, EOIR-33 address changes).
//! Each type mirrors `schemas/doj/<Name>.avsc`.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Address, EventMeta};
use crate::time::{Date, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct CaseOpened {
    pub meta: EventMeta,
    pub court: String,
    pub hearing_location: Option<String>,
    pub nta_date: Option<Date>,
    pub case_type: Option<String>,
    pub custody: Option<String>,
}

/// EOIR's calendar: master calendar (`M`) first, then individual merits (`I`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CalendarType {
    Master,
    Individual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct HearingScheduled {
    pub meta: EventMeta,
    pub schedule_id: String,
    pub calendar: CalendarType,
    pub hearing_at: Timestamp,
    pub court: String,
    pub judge: Option<String>,
    pub notice_address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct HearingAdjourned {
    pub meta: EventMeta,
    pub schedule_id: String,
    pub hearing_at: Timestamp,
    pub reason_code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct HearingAttended {
    pub meta: EventMeta,
    pub schedule_id: String,
    pub hearing_at: Timestamp,
    pub represented: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct FailedToAppear {
    pub meta: EventMeta,
    pub schedule_id: Option<String>,
    pub hearing_at: Timestamp,
    pub court: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct InAbsentiaOrderIssued {
    pub meta: EventMeta,
    pub court: String,
    pub decision_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct CaseVenueChanged {
    pub meta: EventMeta,
    pub from_court: Option<String>,
    pub to_court: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct CaseCompleted {
    pub meta: EventMeta,
    pub decision_type: Option<String>,
    pub decision_code: String,
    pub other_completion: Option<String>,
}
