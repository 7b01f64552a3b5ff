//! `POST /v1/ingest/{agency}`: an agency system sends an export over HTTP
//! instead of dropping a file. The bearer token must speak for that agency
//! (ICE's token cannot publish to ORR's topic). The answer is the account
//! of every record, with the rejects inline.
//!
//! Query: `name` (the export's file name, which picks the parser: e.g.
//! `encounters.csv`, `tbl_schedule.csv`; ORR defaults to `upload.jsonl`),
//! `public=true` for EOIR's FOIA layout.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use handoff_auth::{Denied, Tokens};
use handoff_bus::EventProducer;
use handoff_events::Agency;
use serde::Deserialize;
use serde_json::json;

use crate::ingest::{ingest_reader, Layout, Progress};
use crate::ledger::Ledger;
use crate::publisher::{IngestError, Publisher};
use crate::rejects::RejectWriter;

pub struct HttpIngest {
    pub producer: EventProducer,
    pub tokens: Arc<Tokens>,
    pub ledger: PathBuf,
    /// Rejects of each request are kept here too, named by token and time.
    pub rejects_dir: PathBuf,
    /// Largest body accepted; bigger exports go through the drop folder.
    pub max_body: usize,
}

#[derive(Deserialize)]
struct IngestQuery {
    name: Option<String>,
    #[serde(default)]
    public: bool,
}

pub fn router(state: Arc<HttpIngest>) -> Router {
    let limit = state.max_body;
    Router::new()
        .route("/v1/ingest/{agency}", post(ingest))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn ingest(
    State(state): State<Arc<HttpIngest>>,
    Path(agency): Path<String>,
    Query(query): Query<IngestQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (agency, layout) = match agency.as_str() {
        "ice" => (Agency::Ice, Layout::Ice),
        "hhs" => (Agency::HhsOrr, Layout::Hhs),
        "doj" => (
            Agency::DojEoir,
            Layout::Doj {
                public: query.public,
            },
        ),
        other => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no agency `{other}`: use ice, hhs or doj"),
            )
        }
    };
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let token = match state.tokens.authorize(authorization, agency) {
        Ok(token) => token.clone(),
        Err(denied @ Denied::WrongAgency { .. }) => {
            return error(StatusCode::FORBIDDEN, denied.to_string())
        }
        Err(denied) => return error(StatusCode::UNAUTHORIZED, denied.to_string()),
    };
    let name = match (&query.name, layout) {
        (Some(n), _) => n.clone(),
        (None, Layout::Hhs) => "upload.jsonl".to_owned(),
        (None, _) => return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "add ?name=<file name> (e.g. encounters.csv or tbl_schedule.csv): it picks the parser",
        ),
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let rejects_path =
        state
            .rejects_dir
            .join(format!("{}-{}-{stamp}.jsonl", token.id, agency.short()));
    let result = run(
        state.clone(),
        layout,
        name.clone(),
        body,
        rejects_path.clone(),
    )
    .await;
    match result {
        Ok(summary) => {
            let rejects: Vec<serde_json::Value> = std::fs::read_to_string(&rejects_path)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            tracing::info!(
                token = token.id,
                agency = agency.short(),
                file = name,
                "http ingest done"
            );
            Json(json!({
                "token": token.id,
                "summary": summary,
                "adds_up": summary.adds_up(),
                "rejects": rejects,
            }))
            .into_response()
        }
        Err(e @ IngestError::Input { .. }) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        Err(e @ (IngestError::Registry { .. } | IngestError::NotAcknowledged { .. })) => {
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn run(
    state: Arc<HttpIngest>,
    layout: Layout,
    name: String,
    body: Bytes,
    rejects_path: PathBuf,
) -> Result<crate::Summary, IngestError> {
    let ledger = Ledger::open(&state.ledger).await?;
    let rejects = RejectWriter::create(&rejects_path).map_err(|source| IngestError::Rejects {
        path: rejects_path.display().to_string(),
        source,
    })?;
    let mut publisher = Publisher::new(state.producer.clone(), ledger, rejects);
    let mut progress = Progress::new(body.len() as u64, false);
    // A request is not stopped halfway: the client waits for its account.
    let never = tokio_util::sync::CancellationToken::new();
    ingest_reader(
        layout,
        &name,
        Cursor::new(body),
        &mut publisher,
        &mut progress,
        &never,
    )
    .await?;
    let summary = publisher.finish().await?;
    // An unusable body (a wrong name, a header without the columns) is the
    // client's to fix.
    if let Some((_, why)) = summary.failed_files().next() {
        return Err(IngestError::Input {
            file: name,
            message: why.to_owned(),
        });
    }
    Ok(summary)
}
