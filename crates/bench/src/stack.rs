//! A fresh local stack for one measurement: the embedded broker and the
//! schema registry, each its own `handoff` process on a free port, the
//! topics created and the schemas registered. Everything it started is
//! stopped when it is dropped.
//!
//! The broker runs on Handoff's log engine, as `handoff up` does, unless a
//! measurement asks for the SQLite engine it replaced (the `broker` part).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_bus::KafkaConfig;
use handoff_events::{Catalogue, Codec};

use crate::process::{free_port, run_to_end, Finished, Service};
use crate::BenchError;

/// The embedded broker's storage engine (`handoff broker --broker-storage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Handoff's own segment files (`crates/log`), the default.
    Log,
    /// Nisshi's SQLite engine, kept selectable for a release.
    Sqlite,
}

impl Engine {
    /// The value of `--broker-storage`.
    pub fn flag(self) -> &'static str {
        match self {
            Engine::Log => "log",
            Engine::Sqlite => "sqlite",
        }
    }

    /// How BENCHMARKS.md names it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Log => "log engine",
            Engine::Sqlite => "SQLite engine",
        }
    }
}

pub struct BenchStack {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub kafka: KafkaConfig,
    pub registry_url: String,
    // Dropped (killed) registry first, then the broker.
    registry: Service,
    broker: Service,
}

impl BenchStack {
    /// Starts a broker on the log engine in `dir/broker` and a registry,
    /// creates the topics and registers the catalogue.
    pub async fn start(bin: &Path, dir: &Path) -> Result<BenchStack, BenchError> {
        BenchStack::start_on(bin, dir, Engine::Log).await
    }

    /// `start`, with the broker on `engine`.
    pub async fn start_on(
        bin: &Path,
        dir: &Path,
        engine: Engine,
    ) -> Result<BenchStack, BenchError> {
        let io = |source| BenchError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let port = free_port()?;
        let broker = Service::start(
            bin,
            "broker",
            &args(&[
                "broker",
                "--data-dir",
                &dir.join("broker").display().to_string(),
                "--port",
                &port.to_string(),
                "--broker-storage",
                engine.flag(),
            ]),
            dir,
        )?;
        let brokers = format!("127.0.0.1:{port}");
        wait_listening(&brokers, &broker).await?;
        run_to_end(
            bin,
            "topics",
            &args(&["topics", "--brokers", &brokers]),
            dir,
        )?;
        let listen = format!("127.0.0.1:{}", free_port()?);
        let registry = Service::start(
            bin,
            "registry",
            &args(&["registry", "--brokers", &brokers, "--listen", &listen]),
            dir,
        )?;
        wait_listening(&listen, &registry).await?;
        let registry_url = format!("http://{listen}");
        let stack = BenchStack {
            bin: bin.to_owned(),
            dir: dir.to_owned(),
            kafka: KafkaConfig::new(brokers),
            registry_url,
            registry,
            broker,
        };
        stack
            .codec()
            .register_catalogue()
            .await
            .map_err(|e| BenchError::Run(format!("registering the schemas: {e}")))?;
        Ok(stack)
    }

    pub fn codec(&self) -> Codec {
        Codec::new(&self.registry_url, Arc::new(Catalogue::embedded()))
    }

    /// `--brokers B --registry-url R`, which every client command takes.
    pub fn client_args(&self) -> Vec<String> {
        args(&[
            "--brokers",
            &self.kafka.brokers,
            "--registry-url",
            &self.registry_url,
        ])
    }

    /// Stops the registry, then the broker cleanly, and says how the broker
    /// fared: its peak resident memory over everything measured on it.
    pub fn stop(self) -> Result<Finished, BenchError> {
        let BenchStack {
            registry, broker, ..
        } = self;
        drop(registry);
        let finished = broker.stop()?;
        if !finished.success {
            return Err(BenchError::Run(
                "the broker did not stop cleanly; see broker.log in the work directory".into(),
            ));
        }
        Ok(finished)
    }

    /// Fails if the broker or registry has died.
    pub fn check(&mut self) -> Result<(), BenchError> {
        for service in [&mut self.broker, &mut self.registry] {
            if service.exited() {
                return Err(service.failure("exited"));
            }
        }
        Ok(())
    }
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Until something accepts connections on `address` (or `service` dies).
async fn wait_listening(address: &str, service: &Service) -> Result<(), BenchError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(service.failure(&format!("did not listen on {address} within 60 s")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
