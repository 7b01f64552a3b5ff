//! The Confluent Schema Registry REST API, as far as the stock Java,
//! Python and Go clients use it. Paths, bodies and error codes follow
//! Confluent's documentation; subjects hold Avro only.

use std::sync::Arc;

use apache_avro::Schema;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::compatibility::{self, Level};
use crate::error::ApiError;
use crate::log::SchemaLog;
use crate::records::{Record, SchemaValue};
use crate::state::normalize;

pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// How often a write retries when another instance wins a race.
const WRITE_ATTEMPTS: usize = 5;

type Shared = Arc<SchemaLog>;
type ApiResult = Result<Response, ApiError>;

pub fn router(log: Shared) -> Router {
    Router::new()
        .route("/", get(|| async { ok(json!({})) }))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_raw),
        )
        .route("/schemas/types", get(|| async { ok(json!(["AVRO"])) }))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(schema_by_id_raw))
        .route("/schemas/ids/{id}/versions", get(versions_of_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_of_id))
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility_with_version),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatibility_with_all),
        )
        .route(
            "/config",
            get(get_global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(get_subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .with_state(log)
}

/// How long `/readyz` waits for the log's end; probes time out soon after.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// Ready when the broker answers and this instance has read `_schemas` to
/// its end, so it serves every id any other instance has handed out.
async fn readyz(AxumState(log): AxumState<Shared>) -> Response {
    match tokio::time::timeout(READY_WITHIN, log.catch_up()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({"log": "ok"}))).into_response(),
        Ok(Err(e)) => unready(e.to_string()),
        Err(_) => unready(format!(
            "the log's end was not reached within {READY_WITHIN:?}"
        )),
    }
}

fn unready(reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"log": reason})),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, [("content-type", CONTENT_TYPE)], Json(body)).into_response()
}

#[derive(Deserialize, Default)]
struct DeletedParam {
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize, Default)]
struct PermanentParam {
    #[serde(default)]
    permanent: bool,
}

#[derive(Deserialize, Default)]
struct VerboseParam {
    #[serde(default)]
    verbose: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DefaultToGlobalParam {
    #[serde(default)]
    default_to_global: bool,
}

/// The body of register, lookup and compatibility requests.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaBody {
    schema: String,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<Value>,
}

fn parse_body(body: &Bytes) -> Result<(String, Schema), ApiError> {
    let body: SchemaBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_schema(format!(
            "the request body is not {{\"schema\": \"...\"}}: {e}"
        ))
    })?;
    if let Some(kind) = body.schema_type.as_deref() {
        if !kind.eq_ignore_ascii_case("AVRO") {
            return Err(ApiError::invalid_schema(format!(
                "schema type {kind} is not supported; this registry holds AVRO only"
            )));
        }
    }
    if !body.references.is_empty() {
        return Err(ApiError::invalid_schema(
            "schema references are not supported; register a self-contained schema",
        ));
    }
    let schema = Schema::parse_str(&body.schema).map_err(ApiError::invalid_schema)?;
    Ok((body.schema, schema))
}

/// `latest`, `-1` or a positive version number.
enum VersionRef {
    Latest,
    Number(u32),
}

fn parse_version(raw: &str) -> Result<VersionRef, ApiError> {
    if raw == "latest" || raw == "-1" {
        return Ok(VersionRef::Latest);
    }
    match raw.parse::<u32>() {
        Ok(n) if n >= 1 && n <= i32::MAX as u32 => Ok(VersionRef::Number(n)),
        _ => Err(ApiError::invalid_version(raw)),
    }
}

/// Finds (version, id, deleted) of a subject's version.
async fn resolve_version(
    log: &SchemaLog,
    subject: &str,
    version: &str,
    include_deleted: bool,
) -> Result<(u32, u32, bool), ApiError> {
    let wanted = parse_version(version)?;
    let state = log.state.read().await;
    let versions = state
        .subjects
        .get(subject)
        .filter(|vs| include_deleted || vs.values().any(|v| !v.deleted))
        .ok_or_else(|| ApiError::subject_not_found(subject))?;
    let found = match wanted {
        VersionRef::Latest => versions
            .iter()
            .rev()
            .find(|(_, v)| include_deleted || !v.deleted),
        VersionRef::Number(n) => versions
            .get_key_value(&n)
            .filter(|(_, v)| include_deleted || !v.deleted),
    };
    found
        .map(|(n, v)| (*n, v.id, v.deleted))
        .ok_or_else(|| ApiError::version_not_found(subject, version))
}

async fn schema_text(log: &SchemaLog, id: u32) -> Result<String, ApiError> {
    log.state
        .read()
        .await
        .schemas
        .get(&id)
        .map(|s| s.text.clone())
        .ok_or_else(|| ApiError::schema_not_found(format!("Schema {id} not found")))
}

async fn list_subjects(
    AxumState(log): AxumState<Shared>,
    Query(q): Query<DeletedParam>,
) -> ApiResult {
    let state = log.state.read().await;
    let subjects: Vec<&String> = state
        .subjects
        .iter()
        .filter(|(_, vs)| q.deleted || vs.values().any(|v| !v.deleted))
        .map(|(s, _)| s)
        .collect();
    Ok(ok(json!(subjects)))
}

async fn list_versions(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    Query(q): Query<DeletedParam>,
) -> ApiResult {
    let state = log.state.read().await;
    let versions: Vec<u32> = state
        .subjects
        .get(&subject)
        .map(|vs| {
            vs.iter()
                .filter(|(_, v)| q.deleted || !v.deleted)
                .map(|(n, _)| *n)
                .collect()
        })
        .unwrap_or_default();
    if versions.is_empty() {
        return Err(ApiError::subject_not_found(&subject));
    }
    Ok(ok(json!(versions)))
}

async fn get_version(
    AxumState(log): AxumState<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Query<DeletedParam>,
) -> ApiResult {
    let (number, id, _) = resolve_version(&log, &subject, &version, q.deleted).await?;
    let text = schema_text(&log, id).await?;
    Ok(ok(
        json!({"subject": subject, "id": id, "version": number, "schema": text}),
    ))
}

async fn get_version_raw(
    AxumState(log): AxumState<Shared>,
    Path((subject, version)): Path<(String, String)>,
) -> ApiResult {
    let (_, id, _) = resolve_version(&log, &subject, &version, false).await?;
    let text = schema_text(&log, id).await?;
    let value: Value = serde_json::from_str(&text).map_err(ApiError::store)?;
    Ok(ok(value))
}

async fn register(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (text, schema) = parse_body(&body)?;
    let normalized = normalize(&text).map_err(ApiError::invalid_schema)?;
    // A schema the subject already holds needs no write, so it is answered
    // from memory, even while the broker is unreachable.
    if let Some(found) = registered(&log, &subject, &normalized).await {
        return Ok(ok(
            json!({"id": found.1, "subject": subject, "version": found.0, "schema": text}),
        ));
    }
    let _writer = log.write_lock.lock().await;
    for _ in 0..WRITE_ATTEMPTS {
        log.catch_up().await?;
        let planned = {
            let state = log.state.read().await;
            let global_id = state.id_of(&normalized);
            let live = state.live_versions(&subject);
            if let Some((version, id)) = live.iter().find(|(_, id)| Some(*id) == global_id) {
                return Ok(ok(
                    json!({"id": id, "subject": subject, "version": version, "schema": text}),
                ));
            }
            let existing: Vec<Schema> = live
                .iter()
                .filter_map(|(_, id)| state.schemas.get(id))
                .filter_map(|s| Schema::parse_str(&s.text).ok())
                .collect();
            let messages = compatibility::check(state.level_for(&subject), &schema, &existing);
            if !messages.is_empty() {
                return Err(ApiError::incompatible(&messages));
            }
            let version = state
                .subjects
                .get(&subject)
                .and_then(|vs| vs.keys().next_back().copied())
                .unwrap_or(0)
                + 1;
            let id = global_id.unwrap_or_else(|| state.next_id());
            SchemaValue {
                subject: subject.clone(),
                version,
                id,
                schema: text.clone(),
                deleted: false,
            }
        };
        log.append(&Record::Schema(planned.clone())).await?;
        let state = log.state.read().await;
        // Ours only if both the version and the id went to this schema:
        // another instance may have taken the same version with the same
        // planned id for a different schema.
        let landed = state
            .subjects
            .get(&subject)
            .and_then(|vs| vs.get(&planned.version))
            .is_some_and(|v| v.id == planned.id)
            && state.id_of(&normalized) == Some(planned.id);
        if landed {
            return Ok(ok(
                json!({"id": planned.id, "subject": subject, "version": planned.version, "schema": text}),
            ));
        }
        tracing::info!(subject, "another registry instance wrote first; retrying");
    }
    Err(ApiError::store(
        "could not register after repeated races with another instance",
    ))
}

/// (version, id) of `normalized` among the subject's live versions.
async fn registered(log: &SchemaLog, subject: &str, normalized: &str) -> Option<(u32, u32)> {
    let state = log.state.read().await;
    let id = state.id_of(normalized)?;
    state
        .live_versions(subject)
        .into_iter()
        .find(|(_, v)| *v == id)
}

async fn lookup(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    Query(q): Query<DeletedParam>,
    body: Bytes,
) -> ApiResult {
    let (text, _) = parse_body(&body)?;
    let normalized = normalize(&text).map_err(ApiError::invalid_schema)?;
    let state = log.state.read().await;
    let versions = state
        .subjects
        .get(&subject)
        .filter(|vs| q.deleted || vs.values().any(|v| !v.deleted))
        .ok_or_else(|| ApiError::subject_not_found(&subject))?;
    let id = state.id_of(&normalized);
    let found = versions
        .iter()
        .filter(|(_, v)| q.deleted || !v.deleted)
        .find(|(_, v)| Some(v.id) == id);
    match found {
        Some((version, v)) => Ok(ok(json!({
            "subject": subject,
            "id": v.id,
            "version": version,
            "schema": state.schemas.get(&v.id).map(|s| s.text.clone()).unwrap_or(text),
        }))),
        None => Err(ApiError::schema_not_found("Schema not found")),
    }
}

async fn delete_subject(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    Query(q): Query<PermanentParam>,
) -> ApiResult {
    let _writer = log.write_lock.lock().await;
    log.catch_up().await?;
    let versions: Vec<(u32, u32, bool)> = {
        let state = log.state.read().await;
        state
            .subjects
            .get(&subject)
            .map(|vs| vs.iter().map(|(n, v)| (*n, v.id, v.deleted)).collect())
            .unwrap_or_default()
    };
    if versions.is_empty() || (!q.permanent && versions.iter().all(|(_, _, d)| *d)) {
        return Err(ApiError::subject_not_found(&subject));
    }
    if q.permanent && versions.iter().any(|(_, _, d)| !d) {
        return Err(ApiError::subject_not_soft_deleted(&subject));
    }
    let mut affected = Vec::new();
    for (version, id, deleted) in versions {
        let record = if q.permanent {
            Record::SchemaTombstone {
                subject: subject.clone(),
                version,
            }
        } else if !deleted {
            let text = schema_text(&log, id).await?;
            Record::Schema(SchemaValue {
                subject: subject.clone(),
                version,
                id,
                schema: text,
                deleted: true,
            })
        } else {
            continue;
        };
        log.append(&record).await?;
        affected.push(version);
    }
    Ok(ok(json!(affected)))
}

async fn delete_version(
    AxumState(log): AxumState<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Query<PermanentParam>,
) -> ApiResult {
    let _writer = log.write_lock.lock().await;
    log.catch_up().await?;
    let (number, id, deleted) = resolve_version(&log, &subject, &version, q.permanent).await?;
    let record = if q.permanent {
        if !deleted {
            return Err(ApiError::version_not_soft_deleted(&subject, number));
        }
        Record::SchemaTombstone {
            subject: subject.clone(),
            version: number,
        }
    } else {
        Record::Schema(SchemaValue {
            subject: subject.clone(),
            version: number,
            id,
            schema: schema_text(&log, id).await?,
            deleted: true,
        })
    };
    log.append(&record).await?;
    Ok(ok(json!(number)))
}

async fn schema_by_id(AxumState(log): AxumState<Shared>, Path(id): Path<u32>) -> ApiResult {
    Ok(ok(json!({"schema": schema_text(&log, id).await?})))
}

async fn schema_by_id_raw(AxumState(log): AxumState<Shared>, Path(id): Path<u32>) -> ApiResult {
    let text = schema_text(&log, id).await?;
    Ok(ok(serde_json::from_str(&text).map_err(ApiError::store)?))
}

async fn versions_of_id(AxumState(log): AxumState<Shared>, Path(id): Path<u32>) -> ApiResult {
    schema_text(&log, id).await?;
    let state = log.state.read().await;
    let pairs: Vec<Value> = state
        .subjects
        .iter()
        .flat_map(|(s, vs)| {
            vs.iter()
                .filter(|(_, v)| v.id == id && !v.deleted)
                .map(move |(n, _)| json!({"subject": s, "version": n}))
        })
        .collect();
    Ok(ok(json!(pairs)))
}

async fn subjects_of_id(AxumState(log): AxumState<Shared>, Path(id): Path<u32>) -> ApiResult {
    schema_text(&log, id).await?;
    let state = log.state.read().await;
    let subjects: Vec<&String> = state
        .subjects
        .iter()
        .filter(|(_, vs)| vs.values().any(|v| v.id == id && !v.deleted))
        .map(|(s, _)| s)
        .collect();
    Ok(ok(json!(subjects)))
}

async fn compatibility_response(
    log: &SchemaLog,
    subject: &str,
    version: Option<&str>,
    verbose: bool,
    body: &Bytes,
) -> ApiResult {
    let (_, schema) = parse_body(body)?;
    let against: Vec<Schema> = match version {
        Some(version) => {
            let (_, id, _) = resolve_version(log, subject, version, false).await?;
            vec![Schema::parse_str(&schema_text(log, id).await?).map_err(ApiError::store)?]
        }
        None => {
            let state = log.state.read().await;
            state
                .live_versions(subject)
                .iter()
                .filter_map(|(_, id)| state.schemas.get(id))
                .filter_map(|s| Schema::parse_str(&s.text).ok())
                .collect()
        }
    };
    let level = log.state.read().await.level_for(subject);
    // A single named version is checked alone, even at a transitive level.
    let messages = compatibility::check(level, &schema, &against);
    let mut body = json!({"is_compatible": messages.is_empty()});
    if verbose {
        body["messages"] = json!(messages);
    }
    Ok(ok(body))
}

async fn compatibility_with_version(
    AxumState(log): AxumState<Shared>,
    Path((subject, version)): Path<(String, String)>,
    Query(q): Query<VerboseParam>,
    body: Bytes,
) -> ApiResult {
    compatibility_response(&log, &subject, Some(&version), q.verbose, &body).await
}

async fn compatibility_with_all(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    Query(q): Query<VerboseParam>,
    body: Bytes,
) -> ApiResult {
    compatibility_response(&log, &subject, None, q.verbose, &body).await
}

#[derive(Deserialize)]
struct ConfigBody {
    compatibility: String,
}

fn parse_level(body: &Bytes) -> Result<Level, ApiError> {
    let body: ConfigBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_level(format!(
            "the body must be {{\"compatibility\": \"<LEVEL>\"}}: {e}"
        ))
    })?;
    body.compatibility.parse().map_err(ApiError::invalid_level)
}

async fn get_global_config(AxumState(log): AxumState<Shared>) -> ApiResult {
    let level = log.state.read().await.global_level.unwrap_or_default();
    Ok(ok(json!({"compatibilityLevel": level})))
}

async fn put_global_config(AxumState(log): AxumState<Shared>, body: Bytes) -> ApiResult {
    let level = parse_level(&body)?;
    let _writer = log.write_lock.lock().await;
    log.append(&Record::Config {
        subject: None,
        level,
    })
    .await?;
    Ok(ok(json!({"compatibility": level})))
}

async fn delete_global_config(AxumState(log): AxumState<Shared>) -> ApiResult {
    let _writer = log.write_lock.lock().await;
    let previous = log.state.read().await.global_level.unwrap_or_default();
    log.append(&Record::ConfigTombstone { subject: None })
        .await?;
    Ok(ok(json!({"compatibilityLevel": previous})))
}

async fn get_subject_config(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    Query(q): Query<DefaultToGlobalParam>,
) -> ApiResult {
    let state = log.state.read().await;
    match state.subject_levels.get(&subject) {
        Some(level) => Ok(ok(json!({"compatibilityLevel": level}))),
        None if q.default_to_global => Ok(ok(
            json!({"compatibilityLevel": state.global_level.unwrap_or_default()}),
        )),
        None => Err(ApiError::subject_level_not_configured(&subject)),
    }
}

async fn put_subject_config(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let level = parse_level(&body)?;
    let _writer = log.write_lock.lock().await;
    log.append(&Record::Config {
        subject: Some(subject),
        level,
    })
    .await?;
    Ok(ok(json!({"compatibility": level})))
}

async fn delete_subject_config(
    AxumState(log): AxumState<Shared>,
    Path(subject): Path<String>,
) -> ApiResult {
    let _writer = log.write_lock.lock().await;
    let previous = log
        .state
        .read()
        .await
        .subject_levels
        .get(&subject)
        .copied()
        .ok_or_else(|| ApiError::subject_level_not_configured(&subject))?;
    log.append(&Record::ConfigTombstone {
        subject: Some(subject),
    })
    .await?;
    Ok(ok(json!({"compatibilityLevel": previous})))
}
