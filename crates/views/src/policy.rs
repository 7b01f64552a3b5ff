//! The data-sharing policy (`deploy/policy.toml`): which views each agency
//! may read, and which fields of each. Filtering keeps only granted
//! fields, so a field added to a view later stays hidden from every agency
//! until the policy grants it. The file is checked when loaded: a view or
//! field name the views do not have is an error, not a silent grant of
//! nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use handoff_events::Agency;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::answers::{
    event_type, fields_of, ChildRecord, EoirCase, Finding, IceChild, MissedHearing, OrrChild,
    UnservedNta, UpcomingHearing,
};
use crate::child::field_fed_by;

/// Per agency, per view, the fields granted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub agencies: BTreeMap<Agency, BTreeMap<String, Grant>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub fields: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the policy {path}: {message}")]
    Read { path: String, message: String },
    #[error("the policy {path} is not valid: {message}")]
    Parse { path: String, message: String },
}

/// Every view the API serves and the fields it has: `child` (one child's
/// merged record, `GET /v1/children/{a_number}`) and the lists.
/// The fields are those of the answer types, so the policy names exactly
/// what the API can send.
pub fn all_views() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("child", fields_of::<ChildRecord>()),
        ("ice", fields_of::<IceChild>()),
        ("hhs_orr", fields_of::<OrrChild>()),
        ("doj_eoir", fields_of::<EoirCase>()),
        ("fta", fields_of::<MissedHearing>()),
        ("nta_backlog", fields_of::<UnservedNta>()),
        ("hearings_upcoming", fields_of::<UpcomingHearing>()),
        ("data_quality", fields_of::<Finding>()),
    ]
}

impl Policy {
    pub fn parse(text: &str, path: &str) -> Result<Self, PolicyError> {
        let err = |message: String| PolicyError::Parse {
            path: path.to_owned(),
            message,
        };
        let policy: Policy = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let views = all_views();
        for (agency, grants) in &policy.agencies {
            for (view, grant) in grants {
                let Some((_, fields)) = views.iter().find(|(v, _)| v == view) else {
                    let names: Vec<&str> = views.iter().map(|(v, _)| *v).collect();
                    return Err(err(format!(
                        "[agencies.{}.{view}]: there is no view `{view}`; the views are {}",
                        agency.symbol(),
                        names.join(", ")
                    )));
                };
                if let Some(unknown) = grant.fields.iter().find(|f| !fields.contains(f)) {
                    return Err(err(format!(
                        "[agencies.{}.{view}]: the view has no field `{unknown}`; its fields are {}",
                        agency.symbol(),
                        fields.join(", ")
                    )));
                }
            }
        }
        Ok(policy)
    }

    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The policy shipped in `deploy/policy.toml`, compiled in.
    pub fn shipped() -> Self {
        Self::parse(
            include_str!("../../../deploy/policy.toml"),
            "deploy/policy.toml",
        )
        .expect("the shipped policy is checked by tests")
    }

    /// Whether `agency` may read `view` at all.
    pub fn may_read(&self, agency: Agency, view: &str) -> bool {
        self.agencies
            .get(&agency)
            .is_some_and(|g| g.contains_key(view))
    }

    /// Whether `agency` may read `field` of `view`.
    pub fn allows(&self, agency: Agency, view: &str, field: &str) -> bool {
        self.agencies
            .get(&agency)
            .and_then(|g| g.get(view))
            .is_some_and(|g| g.fields.contains(field))
    }

    /// The item with only the fields `agency` may read of `view`. An
    /// agency or view the policy does not name gets nothing. A child's
    /// `timeline` keeps only the events feeding fields the agency may read.
    pub fn filter(&self, agency: Agency, view: &str, item: &Value) -> Value {
        let Value::Object(fields) = item else {
            return Value::Object(Map::new());
        };
        let mut kept: Map<String, Value> = fields
            .iter()
            .filter(|(name, _)| self.allows(agency, view, name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if view == "child" {
            if let Some(Value::Array(entries)) = kept.get_mut("timeline") {
                entries.retain(|e| {
                    let event = e["event"].as_str().and_then(event_type);
                    event.is_some_and(|t| self.allows(agency, "child", field_fed_by(t)))
                });
            }
        }
        Value::Object(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ChildState;

    #[test]
    fn the_shipped_policy_keeps_enforcement_detail_with_ice() {
        let policy = Policy::shipped();
        assert!(!policy.allows(Agency::HhsOrr, "child", "safety_concerns"));
        assert!(!policy.allows(Agency::HhsOrr, "child", "area_of_responsibility"));
        assert!(!policy.allows(Agency::DojEoir, "child", "sponsor"));
        assert!(!policy.may_read(Agency::HhsOrr, "ice"));
        assert!(policy.may_read(Agency::Ice, "ice"));
    }

    #[test]
    fn the_timeline_shows_only_events_behind_granted_fields() {
        let state = ChildState::from_events(
            "A000000777",
            &handoff_events::samples::one_of_each("A000000777".parse().unwrap()),
        );
        let record = serde_json::to_value(ChildRecord::from(&state)).unwrap();
        let policy = Policy::shipped();
        let events = |agency| -> Vec<String> {
            policy.filter(agency, "child", &record)["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event"].as_str().unwrap().to_owned())
                .collect()
        };
        let ice = events(Agency::Ice);
        assert_eq!(ice.len(), state.events, "ICE sees every event");
        let orr = events(Agency::HhsOrr);
        assert!(orr.contains(&"failed_to_appear".to_owned()));
        assert!(!orr.contains(&"safety_concern_raised".to_owned()));
        assert!(!orr.contains(&"hearing_outcome_recorded".to_owned()));
        for e in &orr {
            assert!(
                policy.allows(
                    Agency::HhsOrr,
                    "child",
                    field_fed_by(event_type(e).unwrap())
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn an_unnamed_agency_or_a_bad_file_gets_nothing() {
        let policy =
            Policy::parse("[agencies.ICE.child]\nfields = [\"a_number\"]\n", "test").unwrap();
        let record = serde_json::json!({"a_number": "A1", "court": "X"});
        assert_eq!(
            policy.filter(Agency::HhsOrr, "child", &record),
            serde_json::json!({})
        );
        assert_eq!(
            policy.filter(Agency::Ice, "child", &record),
            serde_json::json!({"a_number": "A1"})
        );
        assert_eq!(
            policy.filter(Agency::Ice, "fta", &record),
            serde_json::json!({})
        );
        let bad = |text: &str| Policy::parse(text, "p.toml").unwrap_err().to_string();
        assert!(bad("[agencies.FBI.child]\nfields = []\n").contains("p.toml"));
        let typo = bad("[agencies.ICE.child]\nfields = [\"courts\"]\n");
        assert!(typo.contains("no field `courts`"), "{typo}");
        let view = bad("[agencies.ICE.cases]\nfields = []\n");
        assert!(view.contains("no view `cases`"), "{view}");
    }
}
