//! The data-sharing policy (`deploy/policy.toml`): which fields of a
//! child's record each agency may read. Filtering keeps only granted
//! fields, so a field added to the record later stays hidden from every
//! agency until the policy grants it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use handoff_events::Agency;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub agencies: BTreeMap<Agency, Grant>,
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

impl Policy {
    pub fn parse(text: &str, path: &str) -> Result<Self, PolicyError> {
        toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
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

    /// Whether `agency` may read `field`.
    pub fn allows(&self, agency: Agency, field: &str) -> bool {
        self.agencies
            .get(&agency)
            .is_some_and(|g| g.fields.contains(field))
    }

    /// The record with only the fields `agency` may read. An agency the
    /// policy does not name gets nothing.
    pub fn filter(&self, agency: Agency, record: &Value) -> Value {
        let Value::Object(fields) = record else {
            return Value::Object(Map::new());
        };
        Value::Object(
            fields
                .iter()
                .filter(|(name, _)| self.allows(agency, name))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use handoff_events::samples;

    use super::*;
    use crate::ChildState;

    fn shipped() -> Policy {
        Policy::shipped()
    }

    /// Every agency x every field of the record: present in the filtered
    /// record exactly when the policy grants it, and every granted field
    /// exists in the record (a typo in the policy would grant nothing).
    #[test]
    fn the_policy_matrix_leaks_nothing() {
        let policy = shipped();
        let state = ChildState::from_events(
            "A000000999",
            &samples::one_of_each("A000000999".parse().unwrap()),
        );
        let record = serde_json::to_value(&state).unwrap();
        let all: Vec<String> = record.as_object().unwrap().keys().cloned().collect();
        for agency in Agency::ALL {
            let seen = policy.filter(agency, &record);
            let seen = seen.as_object().unwrap();
            for field in &all {
                assert_eq!(
                    seen.contains_key(field),
                    policy.allows(agency, field),
                    "{agency:?} and field {field}"
                );
            }
            for granted in &policy.agencies[&agency].fields {
                assert!(
                    all.contains(granted),
                    "the policy grants {agency:?} `{granted}`, which the record does not have"
                );
            }
        }
        assert!(
            !policy.allows(Agency::HhsOrr, "safety_concerns"),
            "ICE enforcement detail stays with ICE"
        );
        assert!(!policy.allows(Agency::HhsOrr, "area_of_responsibility"));
        assert!(!policy.allows(Agency::DojEoir, "sponsor"));
    }

    #[test]
    fn an_unnamed_agency_or_a_bad_file_gets_nothing() {
        let policy = Policy::parse("[agencies.ICE]\nfields = [\"a_number\"]\n", "test").unwrap();
        let record = serde_json::json!({"a_number": "A1", "court": "X"});
        assert_eq!(
            policy.filter(Agency::HhsOrr, &record),
            serde_json::json!({})
        );
        assert_eq!(
            policy.filter(Agency::Ice, &record),
            serde_json::json!({"a_number": "A1"})
        );
        assert!(Policy::parse("[agencies.FBI]\nfields = []\n", "p.toml")
            .unwrap_err()
            .to_string()
            .contains("p.toml"));
    }
}
