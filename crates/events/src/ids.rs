//! Deterministic event ids: re-ingesting the same export yields the same
//! ids, so every consumer can drop duplicates by id alone (the CloudEvents
//! `id` + `source` rule).

use uuid::Uuid;

/// The UUIDv5 namespace of Handoff event ids, a random UUID chosen once.
/// Fixed forever: changing it would change every event id ever issued.
pub const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c1d_3f2e_8a0b_5c47_9e21_4b7f_0d3a_6e58);

/// UUIDv5 of (source system, source record id, event type). The parts are
/// joined with the ASCII unit separator so that no choice of ids can make
/// two different triples collide as text.
pub fn event_id(source_system: &str, source_record_id: &str, event_type: &str) -> Uuid {
    let name = format!("{source_system}\u{1f}{source_record_id}\u{1f}{event_type}");
    Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_id_and_any_change_a_new_one() {
        let a = event_id("CASE", "tbl_schedule:42", "FailedToAppear");
        assert_eq!(a, event_id("CASE", "tbl_schedule:42", "FailedToAppear"));
        assert_eq!(a.get_version_num(), 5);
        assert_ne!(a, event_id("CASE", "tbl_schedule:42", "HearingAttended"));
        assert_ne!(a, event_id("CASE", "tbl_schedule:43", "FailedToAppear"));
        // Joining without a separator would make these two collide.
        assert_ne!(event_id("AB", "C", "X"), event_id("A", "BC", "X"));
    }
}
