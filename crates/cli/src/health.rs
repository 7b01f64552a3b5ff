//! `/healthz` (the process is alive) and `/readyz` (it can do its job: the
//! broker answers and the registry serves), for load balancers and
//! Kubernetes probes.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use handoff_bus::KafkaConfig;
use handoff_http::Problem;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
pub fn router(kafka: &KafkaConfig, registry_url: &str) -> anyhow::Result<OpenApiRouter> {
    let readiness = Arc::new(Readiness::new(kafka, registry_url)?);
    Ok(OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .with_state(readiness))
}

#[derive(Serialize, ToSchema)]
struct Status {
    /// `ok`.
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
struct Ready {
    /// `ok`.
    broker: &'static str,
    /// `ok`.
    registry: &'static str,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive.", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// The service can do its job: the broker answers and the registry
/// serves.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready.", body = Ready)))]
async fn readyz(State(r): State<Arc<Readiness>>) -> Result<Json<Ready>, Problem> {
    let (broker, registry) = tokio::join!(r.broker(), r.registry());
    match (broker, registry) {
        (Ok(()), Ok(())) => Ok(Json(Ready {
            broker: "ok",
            registry: "ok",
        })),
        (broker, registry) => {
            let why: Vec<String> = [("broker", broker), ("registry", registry)]
                .into_iter()
                .filter_map(|(part, r)| r.err().map(|e| format!("{part}: {e}")))
                .collect();
            Err(Problem::unavailable(format!(
                "not ready: {}",
                why.join("; ")
            )))
        }
    }
}
