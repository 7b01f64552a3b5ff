//! The three ways in: HTTP ingest authenticated per agency, the drop
//! folder, and an ingest that rides out a broker restart.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use handoff_adapters::{ingest_files, Layout, Ledger, Progress, Publisher, RejectWriter, Summary};
use handoff_auth::{new_token, Tokens};
use handoff_bus::EventProducer;
use handoff_e2e::{handoff_bin, http, reader, repo_root, run_ingest, Stack, UpProcess};
use handoff_events::{topics, Agency};
use rdkafka::Message;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures").join(path)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_ingest_accepts_only_the_agencys_own_token() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (ice_secret, ice) = new_token("ice-earm-1", Agency::Ice);
    let (hhs_secret, hhs) = new_token("orr-ucpath-1", Agency::HhsOrr);
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        toml::to_string(&Tokens {
            tokens: vec![ice, hhs],
        })
        .unwrap(),
    )
    .unwrap();
    let up = UpProcess::start(
        &dir.path().join("data"),
        &[
            "--brokers",
            &stack.kafka.brokers,
            "--registry-url",
            stack.registry_url(),
            "--tokens",
            tokens.to_str().unwrap(),
        ],
    );
    let url = format!("{}/v1/ingest/ice?name=encounters.csv", up.http);
    let body = fixture("ice/encounters.csv");
    let post = |auth: Option<String>| {
        let mut req = http().post(&url).body(body.clone());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("Bearer not-a-token".into()))
            .await
            .unwrap()
            .status(),
        401
    );
    let wrong = post(Some(format!("Bearer {hhs_secret}"))).await.unwrap();
    assert_eq!(
        wrong.status(),
        403,
        "ORR's token cannot publish to ICE's topic"
    );
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("speaks for HHS_ORR, not ICE"));

    let ok = post(Some(format!("Bearer {ice_secret}"))).await.unwrap();
    assert_eq!(ok.status(), 200);
    let answer: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(answer["token"], "ice-earm-1");
    assert_eq!(answer["adds_up"], true);
    let file = &answer["summary"]["files"]["encounters.csv"];
    assert_eq!(
        (
            file["records"].as_u64(),
            file["published"].as_u64(),
            file["events_published"].as_u64()
        ),
        (Some(7), Some(2), Some(3))
    );
    assert_eq!(answer["rejects"].as_array().unwrap().len(), 4);

    // ICE's token cannot post ORR records either.
    let cross = http()
        .post(format!("{}/v1/ingest/hhs", up.http))
        .header("authorization", format!("Bearer {ice_secret}"))
        .body(fixture("hhs/uc_path.jsonl"))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    up.sigterm_and_wait();
    stack.stop().await;
}

fn wait_for(path: &Path, within: Duration) {
    let deadline = Instant::now() + within;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {within:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drop_folder_publishes_whole_files_and_explains_failures() {
    let stack = Stack::start().await;
    let drop = tempfile::tempdir().unwrap();
    let d = drop.path();
    let mut watcher = Command::new(handoff_bin())
        .args(["ingest", "ice", "--watch"])
        .arg(d)
        .args([
            "--brokers",
            &stack.kafka.brokers,
            "--registry-url",
            stack.registry_url(),
            "--ledger",
        ])
        .arg(stack.data_dir().join("ledger.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // A file still being written: the writer appends for a while; the
    // watcher must wait until it stops changing.
    let content = fixture("ice/case_actions.csv");
    let path = d.join("case_actions.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    let half = content.len() / 2;
    f.write_all(&content[..half]).unwrap();
    for chunk in content[half..].chunks(content[half..].len() / 4 + 1) {
        std::thread::sleep(Duration::from_millis(700));
        f.write_all(chunk).unwrap();
        f.flush().unwrap();
        assert!(
            path.exists(),
            "a file is not taken while it is being written"
        );
    }
    drop_file(f);
    wait_for(
        &d.join("done/case_actions.csv.summary.json"),
        Duration::from_secs(30),
    );
    let summary: Summary = serde_json::from_slice(
        &std::fs::read(d.join("done/case_actions.csv.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        summary.files["case_actions.csv"].records, 10,
        "the whole file was read, not half of it"
    );
    assert!(d.join("done/case_actions.csv").exists() && !path.exists());
    assert_eq!(
        std::fs::read_to_string(d.join("rejects/case_actions.csv.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    // A .part file is never touched; renamed, it is published.
    std::fs::write(d.join("encounters.csv.part"), fixture("ice/encounters.csv")).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        d.join("encounters.csv.part").exists(),
        "a .part file is left alone"
    );
    std::fs::rename(d.join("encounters.csv.part"), d.join("encounters.csv")).unwrap();
    wait_for(
        &d.join("done/encounters.csv.summary.json"),
        Duration::from_secs(30),
    );

    // A file the ICE adapter cannot read goes to failed/ with its reason.
    std::fs::write(d.join("payroll.csv"), b"a,b\n1,2\n").unwrap();
    wait_for(
        &d.join("failed/payroll.csv.reason"),
        Duration::from_secs(30),
    );
    assert!(d.join("failed/payroll.csv").exists());
    let reason = std::fs::read_to_string(d.join("failed/payroll.csv.reason")).unwrap();
    assert!(reason.contains("not an ICE extract"), "{reason}");

    watcher.kill().unwrap();
    let _ = watcher.wait();
    stack.stop().await;
}

fn drop_file(f: std::fs::File) {
    drop(f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_rides_out_a_broker_restart_without_loss_or_double_counting() {
    let gen_dir = tempfile::tempdir().unwrap();
    let config = handoff_gen::GenConfig {
        children: 3000,
        ..handoff_gen::GenConfig::default()
    };
    let truth = handoff_gen::generate(&config, gen_dir.path(), |_| {}).unwrap();
    let mut stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();

    let producer = EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    let ledger = Ledger::open(&stack.data_dir().join("ledger.db"))
        .await
        .unwrap();
    let rejects = RejectWriter::create(&stack.data_dir().join("rejects.jsonl")).unwrap();
    let files = vec![gen_dir.path().join("hhs/uc_path.jsonl")];
    let ingest = tokio::spawn(async move {
        let mut publisher = Publisher::new(producer, ledger, rejects);
        let mut progress = Progress::new(0, false);
        let never = tokio_util::sync::CancellationToken::new();
        ingest_files(Layout::Hhs, &files, &mut publisher, &mut progress, &never).await?;
        publisher.finish().await
    });

    // Stop the broker while the ingest runs, and bring it back on the same
    // port and files a few seconds later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !ingest.is_finished(),
        "the ingest must still be running when the broker stops"
    );
    stack.restart_broker(Duration::from_secs(3)).await;

    let summary = ingest
        .await
        .unwrap()
        .expect("the ingest completes after the broker is back");
    let expected = &truth.files["uc_path.jsonl"];
    assert_eq!(
        &summary.files["uc_path.jsonl"], expected,
        "counted once each, as the truth says"
    );

    // Every event is on the topic (a retried send may be there twice; the
    // ids are the same, so consumers drop the copy).
    let consumer = reader(&stack.kafka, topics::HHS);
    let mut ids = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while (ids.len() as u64) < expected.events_published {
        assert!(
            Instant::now() < deadline,
            "only {} of {} events on the topic",
            ids.len(),
            expected.events_published
        );
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(5), consumer.recv()).await {
            let headers = m.headers().unwrap();
            ids.insert(
                handoff_bus::headers::get(headers, "ce_id")
                    .unwrap()
                    .to_owned(),
            );
        }
    }
    assert_eq!(ids.len() as u64, expected.events_published);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_broker_gone_ingest_fails_clearly_and_counts_nothing_unacknowledged() {
    let mut stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    // The broker goes away for good before the ingest starts.
    stack.broker.take().unwrap().stop().await;
    let out = run_ingest(
        &stack,
        "hhs",
        &repo_root().join("tests/fixtures/hhs/uc_path.jsonl"),
        &["-X", "message.timeout.ms=3000"],
    );
    assert!(
        !out.status.success(),
        "an ingest whose events were not acknowledged must fail"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not acknowledge"), "{stderr}");
    // Whichever notices first (the producer's ack timeout, or the registry,
    // whose log is on the broker), the error says what to do.
    assert!(stderr.contains("re-run once the"), "{stderr}");
    assert!(stderr.contains("were not counted"), "{stderr}");
    // What it reports as published before the failure: nothing.
    let published_line = stderr
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap_or_else(|| panic!("no account in:\n{stderr}"));
    let cols: Vec<&str> = published_line.split_whitespace().collect();
    assert_eq!(
        cols.get(2),
        Some(&"0"),
        "no record counted as published: {published_line}"
    );
    // Every record is in the account all the same: the bad lines as
    // rejected (no broker needed for that), the rest as not read.
    let n = |i: usize| -> u64 { cols[i].parse().unwrap() };
    assert!(n(7) > 0, "{published_line}");
    assert_eq!(
        n(1),
        n(6) + n(7),
        "records = rejected + not read: {published_line}"
    );
    assert!(stderr.contains("every record is accounted for"), "{stderr}");
    stack.stop().await;
}
