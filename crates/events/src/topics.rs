//! Topic names. One source of truth: topic admin, ACL manifests and tests
//! all read these.

/// ICE (ERO's EARM and OPLA's PLAnet) publish here.
pub const ICE: &str = "handoff.ice.v1";
/// HHS ORR (UC Path) publishes here.
pub const HHS: &str = "handoff.hhs.v1";
/// DOJ EOIR (CASE) publishes here.
pub const DOJ: &str = "handoff.doj.v1";
/// Notifications for systems that would rather consume than receive webhooks.
pub const NOTIFICATIONS: &str = "handoff.notifications.v1";
/// Anything a consumer could not process, with the reason in headers.
pub const DLQ: &str = "handoff.dlq.v1";
/// Every read of a child's record.
pub const AUDIT: &str = "handoff.audit.v1";
/// The schema registry's own log (Confluent's name for it).
pub const SCHEMAS: &str = "_schemas";

/// The three agency topics, the system of record.
pub const AGENCY: [&str; 3] = [ICE, HHS, DOJ];

/// Every topic Handoff creates at start-up.
pub const ALL: [&str; 7] = [ICE, HHS, DOJ, NOTIFICATIONS, DLQ, AUDIT, SCHEMAS];
