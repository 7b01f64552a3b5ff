//! The test harness of the end-to-end tests in `tests/`: each test starts
//! its own real stack (an embedded broker on a free port with its data in
//! a temporary directory, the topics, and a schema registry on the
//! broker), so tests run in parallel without sharing anything, and
//! everything is removed when the stack is dropped.
//!
//! The broker runs on the log engine. `HANDOFF_BROKER_STORAGE=sqlite`
//! (the variable `handoff up` and `handoff broker` read too, so the
//! processes tests start follow it) puts a whole test run on the SQLite
//! engine, to compare the two.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use handoff_bus::embedded::{EmbeddedBroker, Engine};
use handoff_bus::{ensure_topics, KafkaConfig, TopicsConfig};
use handoff_events::{Catalogue, Codec};
use handoff_registry::{RegistryConfig, RunningRegistry};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub mod browser;
pub mod conformance;
pub mod receivers;
mod service_process;
pub mod stores;
mod up_process;
pub mod views;
pub use service_process::ServiceProcess;
pub use up_process::UpProcess;

pub struct Stack {
    pub dir: TempDir,
    pub broker: Option<EmbeddedBroker>,
    pub kafka: KafkaConfig,
    pub registry: RunningRegistry,
    pub shutdown: CancellationToken,
}

/// Logs to the test's captured output when `RUST_LOG` is set.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The engine of the stacks' brokers: `HANDOFF_BROKER_STORAGE`, as the
/// CLI reads it, or the log engine.
pub fn engine() -> Engine {
    match std::env::var("HANDOFF_BROKER_STORAGE").as_deref() {
        Ok("sqlite") => Engine::Sqlite,
        Ok("log") | Err(_) => Engine::default(),
        Ok(other) => panic!("HANDOFF_BROKER_STORAGE={other}: use log or sqlite"),
    }
}

impl Stack {
    /// Broker, topics and registry, all on free ports.
    pub async fn start() -> Stack {
        init_logging();
        let dir = tempfile::tempdir().expect("temp dir");
        let broker = EmbeddedBroker::start_with(dir.path(), 0, engine())
            .await
            .expect("embedded broker starts");
        let kafka = broker.kafka_config();
        let topics = TopicsConfig {
            agency_partitions: 3,
            ..TopicsConfig::default()
        };
        ensure_topics(&kafka, &topics)
            .await
            .expect("topics are created");
        let shutdown = CancellationToken::new();
        let registry = start_registry(&kafka, shutdown.child_token()).await;
        Stack {
            dir,
            broker: Some(broker),
            kafka,
            registry,
            shutdown,
        }
    }

    /// Stops the broker, waits `down`, and starts it again on the same
    /// port and files, with the same engine.
    pub async fn restart_broker(&mut self, down: Duration) {
        let broker = self.broker.take().expect("the broker runs");
        let port = broker.addr.port();
        broker.stop().await;
        tokio::time::sleep(down).await;
        let broker = EmbeddedBroker::start_with(self.dir.path(), port, engine())
            .await
            .expect("the broker restarts on its files");
        self.broker = Some(broker);
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A codec on this stack's registry with the embedded catalogue.
    pub fn codec(&self) -> Codec {
        Codec::new(&self.registry.url, Arc::new(Catalogue::embedded()))
    }

    pub fn registry_url(&self) -> &str {
        &self.registry.url
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.registry.task).await;
        if let Some(broker) = self.broker.take() {
            broker.stop().await;
        }
    }
}

/// A registry on a free port, reading the stack's `_schemas` topic.
pub async fn start_registry(kafka: &KafkaConfig, shutdown: CancellationToken) -> RunningRegistry {
    let config = RegistryConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..RegistryConfig::default()
    };
    handoff_registry::start(kafka, &config, shutdown)
        .await
        .expect("registry starts")
}

/// The repository root (where `schemas/` and `.venv/` are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `handoff` binary built by `cargo build` beside this test binary.
/// The README's test command builds it first.
pub fn handoff_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("handoff");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --ignore-rust-version --bins` first (the README's test command does)",
        bin.display()
    );
    bin
}

/// The Python of the test venv (confluent-kafka, fastavro). The README's
/// test command creates it; a test that needs it fails loudly without it.
pub fn python() -> PathBuf {
    let py = std::env::var_os("HANDOFF_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        py.exists(),
        "{} is missing: run scripts/setup.sh (the README's test command does) to create the test venv",
        py.display()
    );
    py
}

/// A blocking HTTP client with a short timeout, for registry calls.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Runs the stock-client peer `tests/peers/confluent_peer.py` with the
/// test venv's Python and returns its standard output.
pub fn python_peer(args: &[&str]) -> String {
    let script = repo_root().join("tests/peers/confluent_peer.py");
    let out = std::process::Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python peer failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// GETs a URL's body as text, panicking with the URL on failure.
pub async fn get_text(url: &str) -> String {
    http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// GETs a URL and parses the JSON body, panicking with the URL on failure.
pub async fn get_json(url: &str) -> serde_json::Value {
    http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body is not JSON: {e}"))
}

/// The first `count` events on `topic` (from the beginning, every
/// partition), with their keys; fails after 30 s without the next one.
pub async fn read_events(
    stack: &Stack,
    topic: &str,
    count: usize,
) -> Vec<(String, handoff_events::Event)> {
    use rdkafka::Message;
    let consumer = reader(&stack.kafka, topic);
    let codec = stack.codec();
    let mut out = Vec::new();
    while out.len() < count {
        let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {count} events on {topic}", out.len()))
            .expect("a record");
        let key = String::from_utf8(m.key().expect("a key").to_vec()).expect("a UTF-8 key");
        let payload = m.payload().expect("a payload");
        out.push((key, codec.decode(payload).await.expect("an event")));
    }
    out
}

/// A consumer assigned every partition of `topic` from the beginning,
/// without a consumer group (no group join to wait for).
pub fn reader(kafka: &KafkaConfig, topic: &str) -> rdkafka::consumer::StreamConsumer {
    use rdkafka::consumer::Consumer;
    let consumer: rdkafka::consumer::StreamConsumer = kafka
        .consumer("handoff-test-reader")
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("topic metadata");
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        tpl.add_partition_offset(topic, p.id(), rdkafka::Offset::Beginning)
            .expect("partition");
    }
    consumer.assign(&tpl).expect("assign");
    consumer
}

/// Ingests a generated history's three exports (`<data>/ice`, `hhs`,
/// `doj`) on a thread of its own, so a test can kill services meanwhile.
pub fn ingest_in_background(stack: &Stack, data: &Path) -> std::thread::JoinHandle<()> {
    let (brokers, registry) = (stack.kafka.brokers.clone(), stack.registry_url().to_owned());
    let ledger = stack.data_dir().join("ledger.db");
    let data = data.to_owned();
    std::thread::spawn(move || {
        for agency in ["ice", "hhs", "doj"] {
            let out = std::process::Command::new(handoff_bin())
                .args(["ingest", agency])
                .arg(data.join(agency))
                .args(["--brokers", &brokers, "--registry-url", &registry])
                .arg("--ledger")
                .arg(&ledger)
                .arg("--rejects")
                .arg(data.join(format!("rejects-{agency}.jsonl")))
                .arg("--quiet")
                .output()
                .expect("handoff ingest runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    })
}

pub fn run_ingest(
    stack: &Stack,
    agency: &str,
    input: &Path,
    extra: &[&str],
) -> std::process::Output {
    ingest_command(stack, agency, input, extra)
        .output()
        .expect("handoff ingest runs")
}

/// `handoff ingest <agency> <input>` against the stack, with its ledger
/// and rejects in the stack's directory, plus `extra` arguments; not
/// started.
pub fn ingest_command(
    stack: &Stack,
    agency: &str,
    input: &Path,
    extra: &[&str],
) -> std::process::Command {
    let mut command = std::process::Command::new(handoff_bin());
    command
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
        .args(extra);
    command
}
