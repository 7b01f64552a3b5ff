//! Events HHS ORR publishes on `handoff.hhs.v1` from UC Path: care,
//! release to a sponsor, post-release services, well-being calls.
//! Each type mirrors `schemas/hhs/<Name>.avsc`.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Address, EventMeta};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlacementType {
    Shelter,
    FosterCare,
    StaffSecure,
    Secure,
    ResidentialTreatment,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct PlacedInOrrCare {
    pub meta: EventMeta,
    pub facility_id: String,
    pub placement_type: PlacementType,
}

/// ORR's sponsor categories. Category 4 (no viable sponsor) is not a
/// release, so it has no symbol here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub enum SponsorCategory {
    #[serde(rename = "CAT_1")]
    Cat1,
    #[serde(rename = "CAT_2A")]
    Cat2A,
    #[serde(rename = "CAT_2B")]
    Cat2B,
    #[serde(rename = "CAT_3")]
    Cat3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct ReleasedToSponsor {
    pub meta: EventMeta,
    pub sponsor_id: String,
    pub sponsor_category: SponsorCategory,
    pub relationship: String,
    pub address: Address,
    #[avro(default = "true")]
    pub sponsor_care_agreement: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct PostReleaseServicesStarted {
    pub meta: EventMeta,
    pub provider: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct PostReleaseServicesEnded {
    pub meta: EventMeta,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct WellbeingCallCompleted {
    pub meta: EventMeta,
    pub reached: bool,
    #[avro(default = "1")]
    pub attempt: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeftCareReason {
    AgedOut,
    RanAway,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct LeftOrrCare {
    pub meta: EventMeta,
    pub reason: LeftCareReason,
}
