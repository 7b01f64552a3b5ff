//! What a notification carries for its receiver to act on, as a type: the
//! rules build it, the outbox stores it as JSON, and the OpenAPI
//! document's `webhooks` section describes it from this type. Every rule
//! fills the child's part; each rule adds its own fields (absent, not
//! null, where a rule has nothing to add).

use handoff_events::hhs::SponsorCategory;
use handoff_events::ice::{SafetyConcernCategory, Severity};
use handoff_http::{AgencyName, PostalAddress, Symbol, Time};
use handoff_story::NtaStatus;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// The address findings a notification can name.
pub const ADDRESS_FINDINGS: [&str; 3] = ["blank", "undeliverable", "missing_secondary_unit"];

fn address_findings() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ADDRESS_FINDINGS))
        .into()
}

/// The child's latest known address, where to look for it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LatestAddress {
    pub address: PostalAddress,
    pub source_agency: AgencyName,
    pub reported_at: Time,
    /// Whole days from `reported_at` to the notification's `occurred_at`.
    pub age_days: i64,
    /// What is wrong with it, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = address_findings)]
    pub finding: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SponsorRef {
    pub id: String,
    #[schema(schema_with = Symbol::<SponsorCategory>::schema)]
    pub category: Symbol<SponsorCategory>,
    pub relationship: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HearingRef {
    pub at: Time,
    pub court: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConcernRef {
    pub id: String,
    #[schema(schema_with = Symbol::<SafetyConcernCategory>::schema)]
    pub category: Symbol<SafetyConcernCategory>,
    #[schema(schema_with = Symbol::<Severity>::schema)]
    pub severity: Symbol<Severity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Payload {
    pub a_number: String,
    pub latest_address: Option<LatestAddress>,
    pub sponsor: Option<SponsorRef>,
    pub nta_status: NtaStatus,
    pub court: Option<String>,
    /// The ERO field office responsible for the child.
    pub area_of_responsibility: Option<String>,
    /// `failed_to_appear`: the hearing missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hearing: Option<HearingRef>,
    /// `failed_to_appear`: the hearings missed before this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier_ftas: Option<Vec<Time>>,
    /// `address_changed`: who reported the new address, and it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<AgencyName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_address: Option<PostalAddress>,
    /// `safety_concern`: the concern raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concern: Option<ConcernRef>,
    /// `bad_address`: what is wrong with which address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = address_findings)]
    pub finding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<PostalAddress>,
    /// Deadline rules: when the deadline passed, and which reminder this
    /// is (0 for the first notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder: Option<u32>,
}

impl Payload {
    /// A payload naming the child and nothing else yet.
    pub fn for_child(a_number: &str) -> Payload {
        Payload {
            a_number: a_number.to_owned(),
            latest_address: None,
            sponsor: None,
            nta_status: NtaStatus::None,
            court: None,
            area_of_responsibility: None,
            hearing: None,
            earlier_ftas: None,
            reported_by: None,
            new_address: None,
            concern: None,
            finding: None,
            address: None,
            due: None,
            reminder: None,
        }
    }
}
