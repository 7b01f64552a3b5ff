//! An ingest stopped halfway, by SIGKILL or by Ctrl-C, loses nothing and
//! counts nothing twice: the re-run's account plus what the killed run left
//! in the ledger cover every record exactly once, and a Ctrl-C's own
//! account adds up with the rest counted as not read.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use handoff_adapters::{FileSummary, Summary};
use handoff_e2e::{ingest_command, Stack};
use handoff_gen::{GenConfig, Truth};

/// Event ids the ledger holds (read while, or after, an ingest writes it).
async fn ledger_ids(ledger: &Path) -> u64 {
    if !ledger.exists() {
        return 0;
    }
    let db = libsql::Builder::new_local(ledger).build().await.unwrap();
    let conn = db.connect().unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    // New ids wait in `recent` until it is merged into `published`.
    let both = "SELECT (SELECT count(*) FROM published) + (SELECT count(*) FROM recent)";
    let mut rows = match conn.query(both, ()).await {
        Ok(rows) => rows,
        Err(_) => return 0, // not created yet
    };
    let row = rows.next().await.unwrap().unwrap();
    row.get::<i64>(0).unwrap() as u64
}

/// Starts the ingest and waits until its ledger holds some, not all, ids.
async fn start_and_wait_for_some(
    stack: &Stack,
    input: &Path,
    summary: &Path,
    total: u64,
) -> std::process::Child {
    let ledger = stack.data_dir().join("ledger.db");
    let mut child = ingest_command(
        stack,
        "hhs",
        input,
        &["--summary-json", summary.to_str().unwrap()],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let start = Instant::now();
    loop {
        let n = ledger_ids(&ledger).await;
        if n > 0 {
            assert!(n < total, "the ingest finished before it could be stopped");
            return child;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest ended before its first batch was acknowledged"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no batch acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A generated UC Path export of 10,000 children, what `truth.json` says
/// its account must be, and a stack to ingest it into.
struct Setup {
    _dir: tempfile::TempDir,
    input: PathBuf,
    expected: FileSummary,
    stack: Stack,
    summary: PathBuf,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = GenConfig {
        children: 10_000,
        ..GenConfig::default()
    };
    let truth: Truth = handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    Setup {
        input: dir.path().join("hhs/uc_path.jsonl"),
        expected: truth.files["uc_path.jsonl"].clone(),
        summary: stack.data_dir().join("summary.json"),
        _dir: dir,
        stack,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_file_then_a_rerun_accounts_for_every_record_once() {
    let Setup {
        _dir,
        input,
        expected,
        stack,
        summary,
    } = setup().await;

    let mut killed =
        start_and_wait_for_some(&stack, &input, &summary, expected.events_published).await;
    killed.kill().unwrap(); // SIGKILL: no handler, no account
    killed.wait().unwrap();
    let ledger = stack.data_dir().join("ledger.db");
    let left = ledger_ids(&ledger).await;
    assert!(left > 0 && left < expected.events_published, "{left}");
    assert!(!summary.exists(), "a killed run writes no account");

    let out = ingest_command(
        &stack,
        "hhs",
        &input,
        &["--summary-json", summary.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rerun: Summary = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let f = &rerun.files["uc_path.jsonl"];
    assert!(f.adds_up());
    // Every record is in the re-run's account: the killed run's as
    // duplicates, the rest as published, the bad ones rejected as planted.
    assert_eq!(f.records, expected.records);
    assert_eq!(f.rejected, expected.rejected);
    assert_eq!(
        f.published + f.duplicates,
        expected.published + expected.duplicates
    );
    assert!(
        f.duplicates > expected.duplicates,
        "the killed run's records come back as duplicates"
    );
    // The ledger holds every event once: what the killed run left, plus
    // what the re-run published (an event acknowledged but not yet in the
    // ledger at the kill is published again, and counted only then).
    assert_eq!(left + f.events_published, expected.events_published);
    assert_eq!(ledger_ids(&ledger).await, expected.events_published);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_mid_file_ends_with_an_account_that_adds_up() {
    let Setup {
        _dir,
        input,
        expected,
        stack,
        summary,
    } = setup().await;

    let child = start_and_wait_for_some(&stack, &input, &summary, expected.events_published).await;
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("every record is accounted for"), "{stderr}");
    let stopped: Summary = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let f = &stopped.files["uc_path.jsonl"];
    assert!(f.adds_up(), "{stopped}");
    assert_eq!(
        f.records, expected.records,
        "the rest is counted, as not read"
    );
    assert!(f.not_read > 0 && f.published > 0, "{stopped}");
    // What it says it published is exactly what the ledger holds.
    let ledger = stack.data_dir().join("ledger.db");
    assert_eq!(ledger_ids(&ledger).await, f.events_published);
    stack.stop().await;
}
