//! Notifications: when a child misses a hearing, an address changes, a
//! deadline passes or an officer raises a safety concern, the right people
//! hear of it once, within seconds, and a failure to deliver is never
//! silent.
//!
//! - `config`: `deploy/notify.toml`: the rules' parameters, delivery
//!   settings and the subscribers (who receives what, by which channel).
//! - `roles`: who a rule addresses (ORR, the ERO field office of the
//!   child's area of responsibility, OPLA, EOIR, ...), and the lookup of
//!   the area of responsibility from an address.
//! - `rules`: what an event means for notifications: pure logic, from a
//!   child's state before and after the event.
//! - `matching`: which subscribers a notification reaches.
//! - `projection` (on the tables of `schema`): the notifier as a sink:
//!   outbox rows, timers and offsets in one transaction; timers fire when
//!   the sink is idle, by event time; history is kept, not sent.
//! - `outbox`: the notification states and their transitions.
//! - `notification`, `payload`: what a subscriber receives, per channel,
//!   and the types the OpenAPI document's `webhooks` are generated from.
//! - `delivery`: the per-subscriber delivery loops and the channels
//!   (webhook, e-mail, topic), retries, backoff, dead letters.
//! - `api`: acknowledgements; `metrics`; `service`: all of it started.

pub mod api;
pub mod config;
pub mod delivery;
pub mod matching;
pub mod metrics;
pub mod notification;
pub mod outbox;
pub mod payload;
pub mod projection;
pub mod roles;
pub mod rules;
pub mod schema;
pub mod service;
