//! The `handoff` binary as a user runs it: `up` on a data directory, seen
//! from stock clients, stopped by SIGTERM and restarted; `schemas check`
//! refusing an incompatible change.

use std::path::Path;
use std::process::Command;

use handoff_e2e::{get_json, get_text, handoff_bin, http, python_peer, Stack, UpProcess};
use handoff_events::{topics, Catalogue};
use serde_json::json;

async fn subject_ids(registry: &str) -> Vec<(String, i64)> {
    let subjects = get_json(&format!("{registry}/subjects")).await;
    let mut ids = Vec::new();
    for s in subjects.as_array().unwrap() {
        let s = s.as_str().unwrap();
        let latest = get_json(&format!("{registry}/subjects/{s}/versions/latest")).await;
        ids.push((s.to_owned(), latest["id"].as_i64().unwrap()));
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_stock_clients_stops_on_sigterm_and_restarts_with_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let up = UpProcess::start(dir.path(), &[]);

    let listed = python_peer(&["topics", "--brokers", &up.broker]);
    for topic in topics::ALL {
        assert!(
            listed.lines().any(|l| l == topic),
            "AdminClient does not list {topic}: {listed}"
        );
    }
    let ids = subject_ids(&up.registry).await;
    let expected: Vec<String> = Catalogue::embedded()
        .subjects()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        ids.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
        expected
    );
    let ready = http()
        .get(format!("{}/readyz", up.http))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap(),
        json!({"broker": "ok", "registry": "ok"})
    );
    // One exposition for the views and the notifier, ending once.
    let metrics = get_text(&format!("{}/metrics", up.http)).await;
    assert!(
        metrics.contains("handoff_views_store_batch_seconds"),
        "{metrics}"
    );
    assert!(
        metrics.contains("handoff_notify_delivery_seconds"),
        "{metrics}"
    );
    assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");
    assert!(metrics.ends_with("# EOF\n"));

    up.sigterm_and_wait();

    let up = UpProcess::start(dir.path(), &[]);
    assert_eq!(
        subject_ids(&up.registry).await,
        ids,
        "same ids after a restart on the same data directory"
    );
    up.sigterm_and_wait();
}

fn copy_schemas(to: &Path) {
    let from = handoff_e2e::repo_root().join("schemas");
    for folder in std::fs::read_dir(&from).unwrap() {
        let folder = folder.unwrap().path();
        let target = to.join(folder.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
}

fn schemas_check(registry: &str, dir: &Path) -> (i32, String) {
    let out = Command::new(handoff_bin())
        .args(["schemas", "check", "--registry", registry, "--dir"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn edit_failed_to_appear(dir: &Path, new_field: serde_json::Value) {
    let path = dir.join("doj/FailedToAppear.avsc");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    schema["fields"].as_array_mut().unwrap().push(new_field);
    std::fs::write(&path, serde_json::to_string_pretty(&schema).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_check_refuses_an_incompatible_change_and_the_registry_says_409() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_schemas(dir.path());

    let (code, out) = schemas_check(stack.registry_url(), dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().all(|l| l.starts_with("unchanged")), "{out}");

    // A compatible change: a new optional field with a default.
    edit_failed_to_appear(
        dir.path(),
        json!({"name": "notes", "type": ["null", "string"], "default": null}),
    );
    let (code, out) = schemas_check(stack.registry_url(), dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("compatible    handoff.doj.v1-gov.handoff.v1.FailedToAppear"),
        "{out}"
    );

    // An incompatible one: a required field no old event has.
    edit_failed_to_appear(dir.path(), json!({"name": "judge_code", "type": "string"}));
    let (code, out) = schemas_check(stack.registry_url(), dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("INCOMPATIBLE  handoff.doj.v1-gov.handoff.v1.FailedToAppear"),
        "{out}"
    );
    assert!(
        out.contains("judge_code"),
        "the message names the field: {out}"
    );
    assert!(
        out.contains("+      \"name\": \"judge_code\""),
        "the diff shows the added field: {out}"
    );

    let text = Catalogue::from_dir(dir.path())
        .unwrap()
        .get("FailedToAppear")
        .unwrap()
        .text
        .clone();
    let resp = http()
        .post(format!(
            "{}/subjects/handoff.doj.v1-gov.handoff.v1.FailedToAppear/versions",
            stack.registry_url()
        ))
        .json(&json!({"schema": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error_code"],
        409
    );
    stack.stop().await;
}

#[test]
fn notify_subscribers_lists_every_office_and_whether_its_secret_is_set() {
    let out = Command::new(handoff_bin())
        .args(["notify", "subscribers"])
        .env_remove("HANDOFF_SECRET_ORR")
        .env("HANDOFF_SECRET_EOIR", "set-for-this-test")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let shipped = handoff_notify::config::NotifyConfig::shipped();
    for s in &shipped.subscribers {
        assert!(
            text.contains(&format!("{}  (", s.id)),
            "{} missing: {text}",
            s.id
        );
    }
    assert!(
        text.contains("(secret in HANDOFF_SECRET_ORR: NOT SET)"),
        "{text}"
    );
    assert!(
        text.contains("(secret in HANDOFF_SECRET_EOIR: set)"),
        "{text}"
    );
    assert!(text.contains(&format!("{} subscriber(s)", shipped.subscribers.len())));

    // A mistake in the file is named with the file.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notify.toml");
    std::fs::write(&bad, "[delivery]\nmax_attempts = 0\n").unwrap();
    let out = Command::new(handoff_bin())
        .args(["notify", "subscribers", "--notify-config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("notify.toml") && err.contains("max_attempts"),
        "{err}"
    );
}
