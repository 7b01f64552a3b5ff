//! Records every event shares: the envelope (`EventMeta`), each agency's
//! case ids and the address with its data-quality findings.
//!
//! Each type mirrors a file in `schemas/common/`; `tests::catalogue` proves
//! the derived schema equals the file, so the files stay the source of truth.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::a_number::ANumber;
use crate::time::Timestamp;

/// The agency whose system produced an event. One topic per agency, so a
/// broker ACL can say "only ICE writes handoff.ice.v1".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, AvroSchema,
)]
#[avro(namespace = "gov.handoff.v1")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Agency {
    Ice,
    HhsOrr,
    DojEoir,
}

impl Agency {
    pub const ALL: [Agency; 3] = [Agency::Ice, Agency::HhsOrr, Agency::DojEoir];

    /// The symbol as written in the schema and on the wire.
    pub fn symbol(self) -> &'static str {
        match self {
            Agency::Ice => "ICE",
            Agency::HhsOrr => "HHS_ORR",
            Agency::DojEoir => "DOJ_EOIR",
        }
    }

    /// The short name used on the command line and in topic names.
    pub fn short(self) -> &'static str {
        match self {
            Agency::Ice => "ice",
            Agency::HhsOrr => "hhs",
            Agency::DojEoir => "doj",
        }
    }

    /// The topic this agency's adapters publish to.
    pub fn topic(self) -> &'static str {
        match self {
            Agency::Ice => crate::topics::ICE,
            Agency::HhsOrr => crate::topics::HHS,
            Agency::DojEoir => crate::topics::DOJ,
        }
    }
}

/// Each agency's own identifiers for the case (`schemas/common/AgencyCaseIds.avsc`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct AgencyCaseIds {
    pub ice_subject_id: Option<String>,
    pub ice_case_id: Option<String>,
    pub orr_case_number: Option<String>,
    pub eoir_idncase: Option<String>,
    pub eoir_idnproceeding: Option<String>,
}

/// A postal address plus the findings an adapter made about it
/// (`schemas/common/Address.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct Address {
    pub street: Option<String>,
    pub secondary_unit: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    #[avro(default = "\"US\"")]
    pub country: String,
    #[avro(default = "false")]
    pub missing_secondary_unit: bool,
    #[avro(default = "false")]
    pub undeliverable: bool,
    #[avro(default = "false")]
    pub blank: bool,
    /// Known in part, without a street (added after v1's first release;
    /// records written before it read as `false`).
    #[avro(default = "false")]
    #[serde(default)]
    pub incomplete: bool,
}

impl Default for Address {
    /// A blank address: what an export with no address at all maps to.
    fn default() -> Self {
        Address {
            street: None,
            secondary_unit: None,
            city: None,
            state: None,
            postal_code: None,
            country: "US".to_owned(),
            missing_secondary_unit: false,
            undeliverable: false,
            blank: true,
            incomplete: false,
        }
    }
}

/// The envelope of every event (`schemas/common/EventMeta.avsc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct EventMeta {
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    pub source_agency: Agency,
    pub source_system: String,
    pub source_record_id: String,
    pub a_number: Option<ANumber>,
    pub case_ids: AgencyCaseIds,
    pub correlation_id: Option<String>,
    #[avro(default = "false")]
    pub statistical: bool,
}
