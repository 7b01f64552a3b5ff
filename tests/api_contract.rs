//! The API's contract (one representation, a generated OpenAPI document,
//! problem details, limits), checked against `handoff up` as agency
//! systems meet it: every endpoint walked as each agency, schemathesis
//! run per agency token with Handoff's own policy and time checks, and a
//! client generated from the document by a stock generator.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use handoff_e2e::conformance::{
    assert_instants_are_rfc3339, assert_matches_schema, schemathesis_run,
};
use handoff_e2e::{python, repo_root, UpProcess};
use handoff_events::Agency;
use handoff_views::policy::Policy;
use serde_json::{json, Value};

/// The demo's tokens by agency symbol.
fn demo_secrets(data_dir: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(data_dir.join("demo-secrets.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// The policy view a path answers from; `None` for the notification
/// listing, where each agency reads its own subscribers' notifications.
fn view_of(path: &str) -> Option<&'static str> {
    Some(match path {
        "/v1/children/{a_number}" => "child",
        "/v1/views/ice" => "ice",
        "/v1/views/hhs_orr" => "hhs_orr",
        "/v1/views/doj_eoir" => "doj_eoir",
        "/v1/fta" => "fta",
        "/v1/nta-backlog" => "nta_backlog",
        "/v1/hearings/upcoming" => "hearings_upcoming",
        "/v1/data-quality" => "data_quality",
        "/v1/notifications" => return None,
        other => panic!("no view for {other}"),
    })
}

async fn get(url: &str, token: Option<&str>) -> (u16, String, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.json().await.unwrap_or(Value::Null))
}

/// Checks an error answer is a problem of `status` per the document.
fn assert_problem(doc: &Value, answer: &(u16, String, Value), status: u16, context: &str) {
    let (got, kind, body) = answer;
    assert_eq!(*got, status, "{context}: {body}");
    assert_eq!(kind, "application/problem+json", "{context}");
    assert_eq!(body["status"], status, "{context}");
    assert_matches_schema(
        doc,
        &json!({"$ref": "#/components/schemas/Problem"}),
        body,
        context,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_agency_meets_the_documented_contract() {
    let dir = tempfile::tempdir().unwrap();
    // Schemathesis makes thousands of requests: the rate is not under test.
    let up = UpProcess::start(
        dir.path(),
        &["--demo", "--rate-limit", "100000", "--rate-burst", "100000"],
    );
    let secrets = demo_secrets(dir.path());
    let base = up.http.clone();
    let (_, _, doc) = get(&format!("{base}/openapi.json"), None).await;

    // The document: OpenAPI 3.1, webhooks, and every error a problem.
    assert_eq!(doc["openapi"], "3.1.0");
    for hook in ["notification", "heartbeat"] {
        assert!(
            doc["webhooks"][hook]["post"]["requestBody"].is_object(),
            "{hook}"
        );
    }
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/children/{a_number}",
        "/v1/views/ice",
        "/v1/fta",
        "/v1/ingest/{agency}",
        "/v1/notifications/{id}/ack",
        "/v1/notifications",
        "/healthz",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("200"), "{method} {path}");
            for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
            if operation["security"].is_array() {
                for status in ["401", "403", "429"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
        }
    }

    // Every GET of a child's data, as each agency: granted views answer
    // as documented with RFC 3339 times; the others 403, as a problem.
    let ice = &secrets["ICE"];
    let (_, _, ftas) = get(&format!("{base}/v1/fta?limit=1"), Some(ice)).await;
    let a_number = ftas["items"][0]["a_number"].as_str().unwrap().to_owned();
    let policy = Policy::shipped();
    for agency in Agency::ALL {
        let token = &secrets[agency.symbol()];
        for (path, item) in paths.iter().filter(|(p, _)| p.starts_with("/v1/")) {
            let Some(operation) = item.get("get") else {
                continue;
            };
            let url = format!("{base}{}", path.replace("{a_number}", &a_number));
            let answer = get(&url, Some(token)).await;
            let context = format!("{} GET {path}", agency.symbol());
            if view_of(path).is_some_and(|view| !policy.may_read(agency, view)) {
                assert_problem(&doc, &answer, 403, &context);
                continue;
            }
            let (status, _, body) = &answer;
            assert_eq!(*status, 200, "{context}: {body}");
            let schema = &operation["responses"]["200"]["content"]["application/json"]["schema"];
            assert_matches_schema(&doc, schema, body, &context);
            assert_instants_are_rfc3339(body, &context);
        }
    }

    // Problems: no token, a bad parameter, nobody's A-number, no route.
    let orr = &secrets["HHS_ORR"];
    assert_problem(
        &doc,
        &get(&format!("{base}/v1/fta"), None).await,
        401,
        "no token",
    );
    let bad = get(&format!("{base}/v1/fta?limit=-1"), Some(orr)).await;
    assert_problem(&doc, &bad, 400, "limit=-1");
    assert_eq!(bad.2["parameter"], "limit");
    // A misspelt filter is refused, never ignored into an unfiltered list.
    let typo = get(&format!("{base}/v1/views/hhs_orr?cuort=SFR"), Some(orr)).await;
    assert_problem(&doc, &typo, 400, "an undeclared parameter");
    assert_eq!(typo.2["parameter"], "cuort");
    let detail = typo.2["detail"].as_str().unwrap();
    assert!(detail.contains("court"), "{detail}");
    let nobody = get(&format!("{base}/v1/children/A999999998"), Some(orr)).await;
    assert_problem(&doc, &nobody, 404, "an unknown child");
    assert_problem(
        &doc,
        &get(&format!("{base}/v2/fta"), Some(orr)).await,
        404,
        "no route",
    );

    // Schemathesis, once per agency token.
    let policy_file = repo_root().join("deploy/policy.toml");
    let openapi = format!("{base}/openapi.json");
    for agency in Agency::ALL {
        let run = schemathesis_run(
            &openapi,
            &secrets[agency.symbol()],
            agency.symbol(),
            &policy_file,
            40,
        );
        assert!(
            run.passed,
            "schemathesis as {}:\n{}",
            agency.symbol(),
            run.output
        );
    }

    // A client generated from the document by a stock generator.
    let generated = tempfile::tempdir().unwrap();
    let doc_file = generated.path().join("openapi.json");
    std::fs::write(&doc_file, doc.to_string()).unwrap();
    let out = Command::new(repo_root().join(".venv/bin/openapi-python-client"))
        .args(["generate", "--meta", "none", "--path"])
        .arg(&doc_file)
        .arg("--output-path")
        .arg(generated.path().join("client"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(python())
        .arg(repo_root().join("tests/peers/api_client.py"))
        .arg(generated.path())
        .arg(&base)
        .arg(orr)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("page PageMissedHearing"), "{said}");
    assert!(
        said.contains("hearing_at datetime "),
        "times arrive as datetimes: {said}"
    );
    assert!(said.contains("refused Problem 400 a_number"), "{said}");
    up.sigterm_and_wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_answer_as_problems_and_slow_only_the_token_over_its_rate() {
    let dir = tempfile::tempdir().unwrap();
    let (reader, reader_entry) = handoff_auth::new_token("ice-reader", Agency::Ice);
    let (uploader, uploader_entry) = handoff_auth::new_token("ice-uploader", Agency::Ice);
    let tokens = dir.path().join("tokens.toml");
    let file = handoff_auth::Tokens {
        tokens: vec![reader_entry, uploader_entry],
    };
    std::fs::write(&tokens, toml::to_string(&file).unwrap()).unwrap();
    let up = UpProcess::start(
        &dir.path().join("data"),
        &[
            "--tokens",
            tokens.to_str().unwrap(),
            "--rate-limit",
            "1",
            "--rate-burst",
            "2",
            "--max-upload-mib",
            "1",
        ],
    );
    let base = up.http.clone();
    let (_, _, doc) = get(&format!("{base}/openapi.json"), None).await;
    let http = reqwest::Client::new();

    // The reader goes over its rate: 429 with Retry-After, then served
    // again once it has waited that long.
    let fta = format!("{base}/v1/fta");
    let mut limited = None;
    for _ in 0..10 {
        let response = http.get(&fta).bearer_auth(&reader).send().await.unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 200);
    }
    let limited = limited.expect("ten requests at once go over a rate of 1/s with a burst of 2");
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let kind = limited.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = limited.json().await.unwrap();
    assert_problem(&doc, &(429, kind, body.clone()), 429, "over the rate");
    assert_eq!(body["retry_after_seconds"], wait);
    // Another token of the same agency is not slowed.
    let other = get(&format!("{base}/v1/fta"), Some(&uploader)).await;
    assert_eq!(other.0, 200, "{}", other.2);
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    assert_eq!(
        get(&fta, Some(&reader)).await.0,
        200,
        "served after Retry-After"
    );

    // A body over --max-upload-mib: 413 naming the limit.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let answer = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        (status, kind, response.json::<Value>().await.unwrap())
    };
    let ingest = format!("{base}/v1/ingest/ice?name=encounters.csv");
    let too_big = http
        .post(&ingest)
        .bearer_auth(&uploader)
        .header("content-type", "text/csv")
        .body(vec![b'x'; (1 << 20) + 1])
        .send()
        .await
        .unwrap();
    let too_big = answer(too_big).await;
    assert_problem(&doc, &too_big, 413, "over --max-upload-mib");
    assert_eq!(too_big.2["limit_bytes"], 1 << 20);
    assert!(
        too_big.2["detail"].as_str().unwrap().contains("1 MiB"),
        "{}",
        too_big.2
    );

    // A form instead of the file: 415, naming the media types accepted.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let form = http
        .post(&ingest)
        .bearer_auth(&uploader)
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--")
        .send()
        .await
        .unwrap();
    let form = answer(form).await;
    assert_problem(&doc, &form, 415, "a multipart form");
    assert!(
        form.2["detail"].as_str().unwrap().contains("text/csv"),
        "{}",
        form.2
    );

    // An acknowledgement's body that is not JSON, or not an Ack.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let ack = format!("{base}/v1/notifications/1/ack");
    let text = http
        .post(&ack)
        .bearer_auth(&uploader)
        .header("content-type", "text/plain")
        .body("yes")
        .send()
        .await
        .unwrap();
    assert_problem(&doc, &answer(text).await, 415, "an ack as text");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let wrong = http
        .post(&ack)
        .bearer_auth(&uploader)
        .json(&json!({"follow_up": "yes"}))
        .send()
        .await
        .unwrap();
    let wrong = answer(wrong).await;
    assert_problem(&doc, &wrong, 400, "an ack of the wrong type");
    assert_eq!(wrong.2["parameter"], "follow_up");
    up.sigterm_and_wait();
}

/// A server that answers `GET /v1/fta` with `status` and `body`,
/// documented by `schema`.
async fn fake_api(schema: Value, status: u16, body: Value) -> String {
    use axum::routing::get;
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "fake", "version": "1"},
        "paths": {"/v1/fta": {"get": {"responses": {"200": {
            "description": "a page",
            "content": {"application/json": {"schema": schema}},
        }}}}},
    });
    let app = axum::Router::new()
        .route("/openapi.json", get(move || async move { axum::Json(doc) }))
        .route(
            "/v1/fta",
            get(move || async move {
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    axum::Json(body),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_run_fails_on_a_wrong_schema_a_500_a_policy_breach_or_a_number_for_a_time()
{
    let page = json!({"type": "object", "required": ["items", "total"],
        "properties": {"items": {"type": "array"}, "total": {"type": "integer"}}});
    let item = |fields: Value| json!({"items": [fields], "total": 1});
    let cases = [
        (
            "a wrong schema",
            page.clone(),
            200,
            json!({"items": [], "total": "many"}),
            "Response violates schema",
        ),
        ("a 500", page.clone(), 500, json!({}), "Server error"),
        (
            "a field outside the policy",
            page.clone(),
            200,
            item(json!({"a_number": "A200000001", "area_of_responsibility": "HOU"})),
            "which the policy does not grant it",
        ),
        (
            "a number where a time belongs",
            page.clone(),
            200,
            item(json!({"a_number": "A200000001", "hearing_at": 1_557_360_000_000i64})),
            "not an RFC 3339 UTC time",
        ),
    ];
    let policy = repo_root().join("deploy/policy.toml");
    // The control: the same run passes an answer that keeps the contract.
    let good = item(json!({"a_number": "A200000001", "hearing_at": "2019-05-09T00:00:00.000Z"}));
    let base = fake_api(page.clone(), 200, good).await;
    let run = schemathesis_run(&format!("{base}/openapi.json"), "t", "HHS_ORR", &policy, 5);
    assert!(run.passed, "{}", run.output);
    for (what, schema, status, body, said) in cases {
        let base = fake_api(schema, status, body).await;
        let run = schemathesis_run(&format!("{base}/openapi.json"), "t", "HHS_ORR", &policy, 5);
        assert!(!run.passed, "{what} passed:\n{}", run.output);
        assert!(
            run.output.contains(said),
            "{what}: no {said:?} in\n{}",
            run.output
        );
    }
}
