//! The views on SQLite fed from the real bus (work in progress for issue
//! 4): the three agencies' fixture exports merge into one story per child.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_bus::{SinkRunner, SinkRunnerConfig};
use handoff_e2e::{handoff_bin, repo_root, Stack};
use handoff_events::{topics, Agency, Catalogue};
use handoff_views::child::NtaStatus;
use handoff_views::SqliteViews;
use tokio_util::sync::CancellationToken;

fn ingest(stack: &Stack, agency: &str, input: &Path) {
    let out = Command::new(handoff_bin())
        .args(["ingest", agency])
        .arg(input)
        .args([
            "--brokers",
            &stack.kafka.brokers,
            "--registry-url",
            stack.registry_url(),
            "--quiet",
        ])
        .arg("--ledger")
        .arg(stack.data_dir().join("ledger.db"))
        .arg("--rejects")
        .arg(stack.data_dir().join(format!("rejects-{agency}.jsonl")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agencies_exports_merge_into_one_story_per_child() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    for (agency, dir) in [("ice", "ice"), ("hhs", "hhs"), ("doj", "doj")] {
        ingest(&stack, agency, &fixtures.join(dir));
    }
    let db = stack.data_dir().join("views.db");
    let catalogue = Arc::new(Catalogue::embedded());
    let views = SqliteViews::open(&db, catalogue.clone()).await.unwrap();
    let runner = SinkRunner::new(
        &stack.kafka,
        SinkRunnerConfig::new("views", &topics::AGENCY),
        stack.codec(),
        views,
    )
    .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));

    let reader = SqliteViews::open(&db, catalogue).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = loop {
        if let Some(s) = reader.child("A200000001").await.unwrap() {
            if s.agencies.len() == 3 && s.ftas.len() == 1 && s.hearings.len() >= 3 {
                break s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the views did not catch up within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        state.agencies,
        vec![Agency::Ice, Agency::HhsOrr, Agency::DojEoir]
    );
    assert_eq!(state.nta_status, NtaStatus::Filed);
    assert!(
        state.ftas[0].opla_recorded,
        "OPLA's FTA record matched EOIR's"
    );
    assert_eq!(state.ftas[0].follow_ups.len(), 1);
    assert!(state.in_absentia_at.is_some());
    let latest = state.latest_address().unwrap();
    assert_eq!(
        latest.at.to_rfc3339(),
        "2021-09-20T00:00:00.000Z",
        "ICE and EOIR both heard of a move that day"
    );
    assert_ne!(
        latest.agency,
        Agency::HhsOrr,
        "ORR's 2021-09-17 update is older"
    );
    assert_eq!(
        state.eoir_address().unwrap().address.city.as_deref(),
        Some("Española")
    );
    stop.cancel();
    task.await.unwrap().unwrap();
    stack.stop().await;
}
