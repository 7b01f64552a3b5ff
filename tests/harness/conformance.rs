//! The API contract's checks for tests: schemathesis (from the test venv)
//! run against a live `/openapi.json` with Handoff's own checks
//! (`tests/peers/api_checks.py`), and the same instant rule in Rust for
//! answers and webhook bodies a test holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::repo_root;

/// The test venv's `schemathesis`, which the README's test command installs.
fn schemathesis() -> PathBuf {
    let bin = repo_root().join(".venv/bin/schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup.sh (the README's test command does)",
        bin.display()
    );
    bin
}

/// What a schemathesis run said.
pub struct Conformance {
    pub passed: bool,
    pub output: String,
}

/// Runs schemathesis against `openapi_url` as `agency` (ICE, HHS_ORR,
/// DOJ_EOIR) with `token`, every check but `positive_data_acceptance`
/// (which would need to know which A-numbers and export names exist)
/// plus the policy and instant checks, `examples` test cases per
/// operation.
pub fn schemathesis_run(
    openapi_url: &str,
    token: &str,
    agency: &str,
    policy: &Path,
    examples: u32,
) -> Conformance {
    // Schemathesis keeps failing cases in `.schemathesis/` under its
    // working directory and replays them on the next run: each run gets
    // its own, so no run replays another's (or the repository's).
    let workdir = tempfile::tempdir().expect("a working directory");
    let out = Command::new(schemathesis())
        .current_dir(workdir.path())
        .args(["run", openapi_url, "--max-examples"])
        .arg(examples.to_string())
        .args(["--exclude-checks", "positive_data_acceptance", "--no-color"])
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"))
        .env("SCHEMATHESIS_HOOKS", "api_checks")
        .env("PYTHONPATH", repo_root().join("tests/peers"))
        .env("HANDOFF_AGENCY", agency)
        .env("HANDOFF_POLICY", policy)
        .output()
        .expect("schemathesis runs");
    Conformance {
        passed: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Whether `text` is an RFC 3339 UTC time with milliseconds.
pub fn is_instant(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
}

/// Fails on any instant in `value` that is not RFC 3339 UTC with
/// milliseconds (a number, another format): keys `*_at`, `at`, `as_of`,
/// `due`, and the lists `opla_only_ftas`, `earlier_ftas`.
pub fn assert_instants_are_rfc3339(value: &Value, context: &str) {
    fn walk(value: &Value, path: &str, bad: &mut Vec<String>) {
        let check = |v: &Value, at: String, bad: &mut Vec<String>| {
            if !(v.is_null() || v.as_str().is_some_and(is_instant)) {
                bad.push(format!("{at} = {v}"));
            }
        };
        match value {
            Value::Object(o) => {
                for (k, v) in o {
                    let here = format!("{path}.{k}");
                    if k.ends_with("_at") || ["at", "as_of", "due"].contains(&k.as_str()) {
                        check(v, here, bad);
                    } else if ["opla_only_ftas", "earlier_ftas"].contains(&k.as_str()) {
                        for (i, x) in v.as_array().into_iter().flatten().enumerate() {
                            check(x, format!("{here}[{i}]"), bad);
                        }
                    } else {
                        walk(v, &here, bad);
                    }
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"), bad);
                }
            }
            _ => {}
        }
    }
    let mut bad = Vec::new();
    walk(value, "$", &mut bad);
    assert!(
        bad.is_empty(),
        "{context}: instants not RFC 3339 UTC with milliseconds: {bad:?}"
    );
}

/// Fails unless `instance` is valid against `schema` (a schema of the
/// OpenAPI document `doc`, whose `$ref`s it may use; JSON Schema 2020-12,
/// as OpenAPI 3.1 uses).
pub fn assert_matches_schema(doc: &Value, schema: &Value, instance: &Value, context: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("the document's schema {schema} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{context}: does not match {schema}: {errors:?}\n{instance}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_or_another_format_where_a_time_belongs_is_found() {
        assert!(is_instant("2019-05-09T00:00:00.000Z"));
        assert!(!is_instant("2019-05-09T00:00:00Z"));
        assert!(!is_instant("2019-05-09T00:00:00.000+00:00"));
        let ok = serde_json::json!({"at": "2019-05-09T00:00:00.000Z", "x": {"due": null}});
        assert_instants_are_rfc3339(&ok, "ok");
        let bad = serde_json::json!({"items": [{"hearing_at": 1557360000000i64}]});
        let caught = std::panic::catch_unwind(|| assert_instants_are_rfc3339(&bad, "bad"));
        assert!(caught.is_err());
    }
}
