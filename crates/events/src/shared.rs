//! Events any agency may publish. `AddressChanged` is one record type on
//! all three agency topics: an address is an address whoever heard of it,
//! and TopicRecordNameStrategy gives each topic its own subject anyway.

use apache_avro::AvroSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Address, EventMeta};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[avro(namespace = "gov.handoff.v1")]
pub struct AddressChanged {
    pub meta: EventMeta,
    pub address: Address,
    pub previous_address: Option<Address>,
    pub reported_by: Option<String>,
}
