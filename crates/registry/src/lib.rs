//! A Confluent-compatible schema registry whose only storage is the
//! `_schemas` topic on the broker, like Confluent's own. No usable
//! registry installs on our machines (Karapace is not published; the Rust
//! alternatives mis-check logical types), and keeping state in the topic
//! means a restarted or second instance serves the same ids.
//!
//! Production may use Confluent Schema Registry, Apicurio or Karapace
//! instead: every Handoff client speaks only the REST API.

pub mod api;
pub mod compatibility;
pub mod error;
pub mod log;
pub mod records;
pub mod state;

use std::net::SocketAddr;

use handoff_bus::KafkaConfig;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use compatibility::Level;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Where the REST API listens. Default 127.0.0.1:8081, Confluent's port.
    pub listen: SocketAddr,
    /// The log topic. Default `_schemas`; it must have one partition.
    pub topic: String,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            topic: "_schemas".to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Log(#[from] log::LogError),
    #[error("cannot listen on {addr}: {source}; choose a free port with --registry-listen")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A registry that has loaded its log and is serving.
pub struct RunningRegistry {
    pub addr: SocketAddr,
    pub url: String,
    pub task: JoinHandle<()>,
}

/// Loads the log to its end, then serves until `shutdown` fires. The topic
/// must exist (topic admin creates it at start-up).
pub async fn start(
    kafka: &KafkaConfig,
    config: &RegistryConfig,
    shutdown: CancellationToken,
) -> Result<RunningRegistry, RegistryError> {
    let (log, reader) = log::SchemaLog::open(kafka, &config.topic, shutdown.clone())?;
    log.catch_up().await?;
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| RegistryError::Bind {
                addr: config.listen,
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| RegistryError::Bind {
            addr: config.listen,
            source,
        })?;
    let app = api::router(log);
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "schema registry server failed");
        }
        reader.abort();
    });
    Ok(RunningRegistry {
        addr,
        url: format!("http://{addr}"),
        task,
    })
}
