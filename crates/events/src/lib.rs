//! The Handoff v1 event catalogue and everything needed to put an event on
//! the wire: identifiers, time types, the schema catalogue of `schemas/`,
//! deterministic ids, CloudEvents headers and the Confluent codec.

pub mod a_number;
pub mod access;
pub mod catalogue;
pub mod cloudevents;
pub mod codec;
pub mod common;
pub mod datum;
pub mod doj;
pub mod event;
pub mod hhs;
pub mod ice;
pub mod ids;
pub mod samples;
pub mod shared;
pub mod time;
pub mod topics;

pub use a_number::{ANumber, ANumberError};
pub use catalogue::{Catalogue, EventSchema};
pub use codec::{Codec, CodecError};
pub use common::{Address, Agency, AgencyCaseIds, EventMeta};
pub use event::{Event, EVENT_TYPES};
pub use time::{Date, Timestamp};

#[cfg(test)]
mod schema_agreement;
