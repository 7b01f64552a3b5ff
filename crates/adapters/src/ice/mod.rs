//! ICE: CSV extracts in the style of EID/ENFORCE (ERO's EARM) with OPLA's
//! PLAnet hearing outcomes. Two files:
//! - `encounters*.csv`: one row per encounter of an unaccompanied child,
//!   with book-out to ORR;
//! - `case_actions*.csv`: one row per case action (NTA issued, served,
//!   filed; field office; safety concern; FTA follow-up; OPLA hearing
//!   outcome; address update).

pub mod case_actions;
pub mod encounters;

pub const SYSTEM_EARM: &str = "EARM";
pub const SYSTEM_PLANET: &str = "PLANET";
