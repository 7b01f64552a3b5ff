//! `/healthz` (the process is alive) and `/readyz` (it can do its job: the
//! broker answers and the registry serves), for load balancers and
//! Kubernetes probes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use handoff_bus::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;

pub struct Readiness {
    metadata_client: Arc<BaseConsumer>,
    registry_url: String,
    http: reqwest::Client,
}

impl Readiness {
    fn new(kafka: &KafkaConfig, registry_url: &str) -> anyhow::Result<Self> {
        Ok(Readiness {
            metadata_client: Arc::new(kafka.client().create()?),
            registry_url: registry_url.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()?,
        })
    }

    async fn broker(&self) -> Result<(), String> {
        let client = self.metadata_client.clone();
        tokio::task::spawn_blocking(move || client.fetch_metadata(None, Duration::from_secs(2)))
            .await
            .map_err(|e| e.to_string())?
            .map(|_| ())
            .map_err(|e| format!("broker unreachable: {e}"))
    }

    async fn registry(&self) -> Result<(), String> {
        let url = format!("{}/subjects", self.registry_url);
        match self.http.get(&url).send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("registry answered {}", r.status())),
            Err(e) => Err(format!("registry unreachable: {e}")),
        }
    }
}

/// The two endpoints for a service on `kafka` using the registry at
/// `registry_url`; every long-running subcommand merges them into its own
/// listener.
pub fn router(kafka: &KafkaConfig, registry_url: &str) -> anyhow::Result<Router> {
    let readiness = Arc::new(Readiness::new(kafka, registry_url)?);
    Ok(Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .with_state(readiness))
}

async fn readyz(State(r): State<Arc<Readiness>>) -> impl IntoResponse {
    let (broker, registry) = tokio::join!(r.broker(), r.registry());
    let status = |c: &Result<(), String>| match c {
        Ok(()) => json!("ok"),
        Err(e) => json!(e),
    };
    let body = json!({"broker": status(&broker), "registry": status(&registry)});
    let code = if broker.is_ok() && registry.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
