//! Who may read and write which topic on a secured cluster: the Kafka
//! principals of a deployment and their ACLs. One source of truth: `handoff
//! topics --acls` prints it, and the check of `deploy/` compares the compose
//! file's ACL script and the Strimzi `KafkaUser`s against it, so a manifest
//! cannot grant what the code does not expect (or miss what it needs).

use crate::topics;

/// A Kafka operation an ACL allows. Read and Write imply Describe, so the
/// table never names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Read,
    Write,
}

impl Operation {
    /// The name Kafka's tools and Strimzi use.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "Read",
            Operation::Write => "Write",
        }
    }
}

/// One principal (a SCRAM user or a certificate's CN) and what it may do.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub name: &'static str,
    /// Why it exists, for the printed table and the manifests' comments.
    pub role: &'static str,
    pub reads: &'static [&'static str],
    pub writes: &'static [&'static str],
    /// Consumer groups it joins (Read on the group).
    pub groups: &'static [&'static str],
}

/// Every principal of a deployment. The operators' admin principal (topic
/// creation, ACLs) is a super user and is not listed.
pub const PRINCIPALS: [Principal; 8] = [
    Principal {
        name: "ice",
        role: "ICE's adapter: publishes EID/EARM extracts",
        reads: &[],
        writes: &[topics::ICE],
        groups: &[],
    },
    Principal {
        name: "hhs",
        role: "HHS ORR's adapter: publishes UC Path records",
        reads: &[],
        writes: &[topics::HHS],
        groups: &[],
    },
    Principal {
        name: "doj",
        role: "DOJ EOIR's adapter: publishes CASE tables",
        reads: &[],
        writes: &[topics::DOJ],
        groups: &[],
    },
    Principal {
        name: "handoff-registry",
        role: "the schema registry: its log is _schemas",
        reads: &[topics::SCHEMAS],
        writes: &[topics::SCHEMAS],
        groups: &["handoff-registry"],
    },
    Principal {
        name: "handoff-views",
        role: "the views and their API: read the agency topics, audit every read of a child",
        reads: &topics::AGENCY,
        writes: &[topics::AUDIT, topics::DLQ],
        groups: &["handoff-views"],
    },
    Principal {
        name: "handoff-notify",
        role: "the notifier: reads the agency topics, publishes notifications",
        reads: &topics::AGENCY,
        writes: &[topics::NOTIFICATIONS, topics::DLQ],
        groups: &["handoff-notify"],
    },
    Principal {
        name: "handoff-analyst",
        role: "replay and export: reads the history (no consumer group)",
        reads: &topics::AGENCY,
        writes: &[],
        groups: &[],
    },
    Principal {
        name: "handoff-audit",
        role: "the audit reader: the only principal that reads handoff.audit.v1",
        reads: &[topics::AUDIT],
        writes: &[],
        groups: &["handoff-audit"],
    },
];

/// One ACL: principal, operation, resource type (`topic` or `group`), name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Acl {
    pub principal: &'static str,
    pub operation: Operation,
    pub resource: &'static str,
    pub name: &'static str,
}

/// Every ACL of the table, sorted.
pub fn acls() -> Vec<Acl> {
    let mut all = Vec::new();
    for p in PRINCIPALS {
        let acl = |operation, resource, name| Acl {
            principal: p.name,
            operation,
            resource,
            name,
        };
        all.extend(p.reads.iter().map(|t| acl(Operation::Read, "topic", t)));
        all.extend(p.writes.iter().map(|t| acl(Operation::Write, "topic", t)));
        all.extend(p.groups.iter().map(|g| acl(Operation::Read, "group", g)));
    }
    all.sort();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agency_writes_only_its_own_topic() {
        for (agency, topic) in [
            ("ice", topics::ICE),
            ("hhs", topics::HHS),
            ("doj", topics::DOJ),
        ] {
            let writes: Vec<_> = acls()
                .into_iter()
                .filter(|a| a.operation == Operation::Write && a.name.starts_with("handoff."))
                .filter(|a| a.name == topic || a.principal == agency)
                .map(|a| (a.principal, a.name))
                .collect();
            assert_eq!(writes, vec![(agency, topic)], "{agency}");
        }
    }

    #[test]
    fn only_the_audit_reader_reads_the_audit_log() {
        let readers: Vec<_> = acls()
            .into_iter()
            .filter(|a| a.operation == Operation::Read && a.name == topics::AUDIT)
            .map(|a| a.principal)
            .collect();
        assert_eq!(readers, vec!["handoff-audit"]);
    }

    #[test]
    fn every_topic_has_a_writer_and_every_kept_topic_a_reader() {
        for topic in topics::ALL {
            let has = |op| acls().iter().any(|a| a.name == topic && a.operation == op);
            assert!(has(Operation::Write), "{topic} has no writer");
            // Dead letters and notifications are read by operators and
            // agency systems outside this table.
            if topic != topics::DLQ && topic != topics::NOTIFICATIONS {
                assert!(has(Operation::Read), "{topic} has no reader");
            }
        }
    }
}
