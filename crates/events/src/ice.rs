//! Events ICE publishes on `handoff.ice.v1`: ERO's custody, transfer, NTA
//! and field work (EARM), and OPLA's record of hearing outcomes (PLAnet).
//! Each type mirrors `schemas/ice/<Name>.avsc`.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Address, EventMeta};
use crate::time::{Date, Timestamp};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct ChildEncountered {
    pub meta: EventMeta,
    pub encounter_id: String,
    pub area_of_responsibility: String,
    pub unaccompanied: bool,
    pub birth_date: Option<Date>,
    pub citizenship: Option<String>,
    pub gender: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct TransferredToOrr {
    pub meta: EventMeta,
    pub encounter_id: String,
    pub orr_facility: Option<String>,
    pub hours_in_custody: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct NoticeToAppearIssued {
    pub meta: EventMeta,
    pub nta_id: String,
    pub issued_on: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceMethod {
    Personal,
    Mail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct NoticeToAppearServed {
    pub meta: EventMeta,
    pub nta_id: String,
    pub method: ServiceMethod,
    pub served_to: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct NoticeToAppearFiled {
    pub meta: EventMeta,
    pub nta_id: String,
    pub court: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct FieldOfficeAssigned {
    pub meta: EventMeta,
    pub area_of_responsibility: String,
    pub docket: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SafetyConcernCategory {
    Trafficking,
    Exploitation,
    ForcedLabor,
    AbuseOrNeglect,
    SponsorConcern,
    Missing,
    Other,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, AvroSchema,
)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct SafetyConcernRaised {
    pub meta: EventMeta,
    pub concern_id: String,
    pub category: SafetyConcernCategory,
    pub severity: Severity,
    pub raised_by_office: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FollowUpOutcome {
    Located,
    NotLocated,
    ContactAttempted,
    ReferredToOrr,
    CaseClosed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct FtaFollowUpRecorded {
    pub meta: EventMeta,
    pub hearing_schedule_id: Option<String>,
    pub hearing_at: Option<Timestamp>,
    pub outcome: FollowUpOutcome,
    pub area_of_responsibility: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HearingOutcome {
    Attended,
    FailedToAppear,
    Adjourned,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct HearingOutcomeRecorded {
    pub meta: EventMeta,
    pub hearing_schedule_id: Option<String>,
    pub hearing_at: Timestamp,
    pub court: Option<String>,
    pub outcome: HearingOutcome,
}
