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
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::{middleware, Json};
use handoff_bus::EventProducer;
use handoff_events::Agency;
use handoff_http::limits::time_limit;
use handoff_http::{Guard, Kind, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ingest::{ingest_reader, Layout, Progress};
use crate::ledger::Ledger;
use crate::publisher::{IngestError, Publisher};
use crate::rejects::{RejectWriter, RejectedRecord};
use crate::Summary;

pub struct HttpIngest {
    pub producer: EventProducer,
    pub guard: Arc<Guard>,
    pub ledger: PathBuf,
    /// Rejects of each request are kept here too, named by token and time.
    pub rejects_dir: PathBuf,
    /// Largest body accepted; bigger exports go through the drop folder.
    pub max_body: usize,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IngestQuery {
    /// The export's file name, which picks the parser (`encounters.csv`,
    /// `tbl_schedule.csv`, ...). Required but for ORR, where it defaults
    /// to `upload.jsonl`.
    name: Option<String>,
    /// EOIR's public (FOIA) layout.
    #[serde(default)]
    #[param(value_type = Option<bool>)]
    public: bool,
}

/// The account of one upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAnswer {
    /// The token's id, as the audit and the logs name it.
    pub token: String,
    pub summary: Summary,
    /// Every record is published, a duplicate, without an event, pending,
    /// rejected or not read.
    pub adds_up: bool,
    pub rejects: Vec<RejectedRecord>,
}

/// An export sent as bytes (`format: binary`, so generated clients
/// upload a file).
struct ExportFile;

impl utoipa::PartialSchema for ExportFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for ExportFile {}

/// An export sent as text. Its schema holds no type: whatever the bytes
/// are, they are read, and every line that is not a record is answered as
/// a reject; no body is invalid as a whole. (A `type: string` here would
/// tell a contract tester that the text `true` is a boolean to refuse.)
struct ExportText;

impl utoipa::PartialSchema for ExportText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{Object, SchemaType};
        let mut text = Object::with_type(SchemaType::AnyValue);
        text.description = Some(
            "The export file's text as it is; each record in it is published or answered as a reject."
                .to_owned(),
        );
        text.into()
    }
}

impl ToSchema for ExportText {}

/// Media types an export may be sent as. Others (a multipart form, JSON)
/// would be read as a file and rejected line by line, so they are refused
/// whole.
const ACCEPTED: [&str; 6] = [
    "text/csv",
    "text/tab-separated-values",
    "text/plain",
    "application/x-ndjson",
    "application/jsonl",
    "application/octet-stream",
];

pub fn router(state: Arc<HttpIngest>) -> OpenApiRouter {
    let limit = state.max_body;
    let time = state.guard.limits().upload_timeout;
    OpenApiRouter::new()
        .routes(routes!(ingest))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(time, time_limit))
        .with_state(state)
}

fn media_type(headers: &HeaderMap) -> Result<(), Problem> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    // curl's --data-binary sends this unless told otherwise.
    if ACCEPTED.contains(&essence.as_str()) || essence == "application/x-www-form-urlencoded" {
        return Ok(());
    }
    Err(Problem::new(
        Kind::UnsupportedMediaType,
        format!(
            "an export is sent as its file's bytes, not as {essence:?}; use Content-Type {}",
            ACCEPTED.join(", ")
        ),
    ))
}

/// An agency system sends an export (CSV, TSV or JSON Lines, as its
/// file) instead of dropping a file; the answer accounts for every record.
#[utoipa::path(
    post,
    path = "/v1/ingest/{agency}",
    tag = "ingest",
    params(
        ("agency" = String, Path, description = "The agency the export is from; the token must speak for it.",
            pattern = "^(ice|hhs|doj)$"),
        IngestQuery,
    ),
    request_body(description = "The export's bytes, as its file.",
        content(
            (ExportText = "text/csv"),
            (ExportText = "text/tab-separated-values"),
            (ExportText = "application/x-ndjson"),
            (ExportFile = "application/octet-stream"),
        )),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Read; every record accounted for.", body = IngestAnswer),
        (status = 422, description = "The body cannot be read as the named export (a header without the columns, a wrong name).", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ingest(
    State(state): State<Arc<HttpIngest>>,
    Path(agency): Path<String>,
    Query(query): Query<IngestQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestAnswer>, Problem> {
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
            return Err(
                Problem::not_found(format!("no agency `{other}`: use ice, hhs or doj"))
                    .at("agency"),
            )
        }
    };
    let token = state.guard.admit_for(&headers, agency)?;
    media_type(&headers)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(
                state.max_body as u64,
                "send bigger exports through the drop folder (handoff ingest --watch), or raise --max-upload-mib",
            )
        } else {
            Problem::of_status(rejection.status(), rejection.body_text())
        }
    })?;
    let name = match (&query.name, layout) {
        (Some(n), _) => n.clone(),
        (None, Layout::Hhs) => "upload.jsonl".to_owned(),
        (None, _) => return Err(Problem::bad_parameter(
            "name",
            "add ?name=<file name> (e.g. encounters.csv or tbl_schedule.csv): it picks the parser",
        )),
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let rejects_path =
        state
            .rejects_dir
            .join(format!("{}-{}-{stamp}.jsonl", token.id, agency.short()));
    let summary = run(
        state.clone(),
        layout,
        name.clone(),
        body,
        rejects_path.clone(),
    )
    .await
    .map_err(|e| match e {
        IngestError::Input { .. } => Problem::unprocessable(e.to_string()).at("name"),
        // The broker, the registry, the ledger or the rejects file: the
        // service's side, and a re-send skips what was published.
        other => Problem::unavailable(other.to_string()),
    })?;
    let rejects = read_rejects(&rejects_path)?;
    tracing::info!(
        token = token.id,
        agency = agency.short(),
        file = name,
        "http ingest done"
    );
    Ok(Json(IngestAnswer {
        token: token.id,
        adds_up: summary.adds_up(),
        summary,
        rejects,
    }))
}

/// The request's rejects, as written: the answer lists each one.
fn read_rejects(path: &std::path::Path) -> Result<Vec<RejectedRecord>, Problem> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Problem::new(
                Kind::Internal,
                format!("cannot read back the rejects {}: {e}", path.display()),
            ))
        }
    };
    text.lines()
        .map(|l| {
            serde_json::from_str(l).map_err(|e| {
                Problem::new(
                    Kind::Internal,
                    format!("a line of {} is not a reject: {e}", path.display()),
                )
            })
        })
        .collect()
}

async fn run(
    state: Arc<HttpIngest>,
    layout: Layout,
    name: String,
    body: Bytes,
    rejects_path: PathBuf,
) -> Result<Summary, IngestError> {
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
