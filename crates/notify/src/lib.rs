//! Notifications (issue 5, in progress): when a child misses a hearing,
//! an address changes, a deadline passes or an officer raises a safety
//! concern, the right people hear of it once, within seconds.
//!
//! - `config`: `deploy/notify.toml`: the rules' parameters and the
//!   subscribers (who receives what, by which channel).
//! - `roles`: who a rule addresses (ORR, the ERO field office of the
//!   child's area of responsibility, OPLA, EOIR, ...), and the lookup of
//!   the area of responsibility from an address.
//! - `rules`: what an event means for notifications: pure logic, from a
//!   child's state before and after the event.
//! - `matching`: which subscribers a notification reaches.
//! - `projection` (on the tables of `schema`): the notifier as a sink:
//!   outbox rows, timers and offsets in one transaction; timers fire when
//!   the sink is idle, by event time. Delivery is still to come.

pub mod config;
pub mod matching;
pub mod projection;
pub mod roles;
pub mod rules;
pub mod schema;
