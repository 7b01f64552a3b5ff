//! Which subscribers a trigger reaches: those playing one of its roles,
//! not filtering its rule out, and (where they filter by area of
//! responsibility or court) covering the child's.

use crate::config::Subscriber;
use crate::rules::Trigger;

pub fn recipients<'a>(trigger: &Trigger, subscribers: &'a [Subscriber]) -> Vec<&'a Subscriber> {
    subscribers
        .iter()
        .filter(|s| trigger.roles.iter().any(|r| s.roles.contains(r)))
        .filter(|s| s.rules.is_empty() || s.rules.contains(&trigger.rule))
        .filter(|s| s.aor.is_empty() || trigger.aor.as_ref().is_some_and(|a| s.aor.contains(a)))
        .filter(|s| {
            s.court.is_empty() || trigger.court.as_ref().is_some_and(|c| s.court.contains(c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use handoff_events::Timestamp;

    use super::*;
    use crate::config::NotifyConfig;
    use crate::roles::Role;
    use crate::rules::{Priority, Rule};

    fn trigger(roles: &[Role], aor: Option<&str>) -> Trigger {
        Trigger {
            rule: Rule::FailedToAppear,
            roles: roles.to_vec(),
            priority: Priority::Normal,
            cause: "c".into(),
            aor: aor.map(str::to_owned),
            court: Some("HOU".into()),
            at: Timestamp(0),
            payload: crate::payload::Payload::for_child("A000000001"),
        }
    }

    #[test]
    fn the_field_office_of_the_child_and_the_catch_all_receive_it() {
        let config = NotifyConfig::shipped();
        let ids = |t: &Trigger| -> Vec<String> {
            recipients(t, &config.subscribers)
                .iter()
                .map(|s| s.id.clone())
                .collect()
        };
        let fta = trigger(&[Role::Orr, Role::EroFieldOffice, Role::Opla], Some("HOU"));
        assert_eq!(
            ids(&fta),
            vec![
                "orr-post-release",
                "ero-houston",
                "ero-field-offices",
                "opla"
            ]
        );
        let elsewhere = trigger(&[Role::EroFieldOffice], Some("SEA"));
        assert_eq!(ids(&elsewhere), vec!["ero-field-offices"]);
        let nobody = trigger(&[Role::EroFieldOffice], None);
        assert_eq!(
            ids(&nobody),
            vec!["ero-field-offices"],
            "no AOR: only the catch-all"
        );
    }
}
