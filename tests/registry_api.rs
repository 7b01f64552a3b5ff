//! The schema registry's REST API against a real broker: Confluent's
//! paths, bodies and error codes, compatibility enforcement, deletes, and
//! state that survives a restart and is shared by a second instance.

use std::time::Duration;

use handoff_e2e::{http, start_registry, Stack};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn record(fields: &str) -> String {
    format!(r#"{{"type":"record","name":"Child","namespace":"test.v1","fields":[{fields}]}}"#)
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Self {
        Api {
            http: http(),
            base: base.to_owned(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(body) = body {
            req = req
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("registry answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }
    async fn register(&self, subject: &str, schema: &str) -> (u16, Value) {
        self.post(
            &format!("/subjects/{subject}/versions"),
            json!({"schema": schema}),
        )
        .await
    }
}

fn code(body: &Value) -> i64 {
    body["error_code"].as_i64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_lookup_and_reads_follow_confluent() {
    let stack = Stack::start().await;
    let api = Api::new(stack.registry_url());
    let v1 = record(r#"{"name":"a","type":"string"}"#);

    let (status, body) = api.register("s1", &v1).await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().unwrap();
    // Same text again, or the same schema with other spacing: same id, no new version.
    assert_eq!(api.register("s1", &v1).await.1["id"], id);
    let spaced = v1.replace(",", " , ");
    assert_eq!(api.register("s1", &spaced).await.1["id"], id);
    // The same schema under another subject shares the id.
    assert_eq!(api.register("s2", &v1).await.1["id"], id);

    assert_eq!(api.get("/subjects").await, (200, json!(["s1", "s2"])));
    assert_eq!(api.get("/subjects/s1/versions").await, (200, json!([1])));
    let (status, latest) = api.get("/subjects/s1/versions/latest").await;
    assert_eq!(status, 200);
    assert_eq!(latest["version"], 1);
    assert_eq!(latest["id"], id);
    assert_eq!(latest["subject"], "s1");
    assert_eq!(latest["schema"], v1);
    assert_eq!(api.get("/subjects/s1/versions/1").await.1, latest);
    assert_eq!(
        api.get(&format!("/schemas/ids/{id}")).await,
        (200, json!({"schema": v1}))
    );
    assert_eq!(
        api.get(&format!("/schemas/ids/{id}/versions")).await.1,
        json!([{"subject": "s1", "version": 1}, {"subject": "s2", "version": 1}])
    );
    assert_eq!(api.get("/schemas/types").await.1, json!(["AVRO"]));
    let (status, found) = api.post("/subjects/s1", json!({"schema": v1})).await;
    assert_eq!(
        (status, found["version"].clone(), found["id"].clone()),
        (200, json!(1), json!(id))
    );

    // Confluent's error codes.
    let (status, body) = api.get("/subjects/nope/versions").await;
    assert_eq!((status, code(&body)), (404, 40401));
    let (status, body) = api.get("/subjects/s1/versions/7").await;
    assert_eq!((status, code(&body)), (404, 40402));
    let (status, body) = api.get("/schemas/ids/999").await;
    assert_eq!((status, code(&body)), (404, 40403));
    let other = record(r#"{"name":"zzz","type":"int"}"#);
    let (status, body) = api.post("/subjects/s1", json!({"schema": other})).await;
    assert_eq!((status, code(&body)), (404, 40403));
    let (status, body) = api.get("/subjects/s1/versions/zero").await;
    assert_eq!((status, code(&body)), (422, 42202));
    let (status, body) = api
        .register(
            "s1",
            r#"{"type":"record","name":"X","fields":[{"name":"a","type":"nosuchtype"}]}"#,
        )
        .await;
    assert_eq!((status, code(&body)), (422, 42201), "{body}");
    let (status, body) = api
        .put("/config", json!({"compatibility": "SIDEWAYS"}))
        .await;
    assert_eq!((status, code(&body)), (422, 42203));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compatibility_is_enforced_per_level_with_409() {
    let stack = Stack::start().await;
    let api = Api::new(stack.registry_url());
    assert_eq!(
        api.get("/config").await.1,
        json!({"compatibilityLevel": "BACKWARD_TRANSITIVE"})
    );
    let v1 = record(r#"{"name":"a","type":"string"}"#);
    let required_added = record(r#"{"name":"a","type":"string"},{"name":"b","type":"int"}"#);
    let optional_added =
        record(r#"{"name":"a","type":"string"},{"name":"b","type":["null","int"],"default":null}"#);
    api.register("s", &v1).await;

    let (status, body) = api
        .post(
            "/compatibility/subjects/s/versions/latest?verbose=true",
            json!({"schema": required_added}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["is_compatible"], false);
    assert!(
        body["messages"][0].as_str().unwrap().contains("b"),
        "{body}"
    );
    let (status, body) = api.register("s", &required_added).await;
    assert_eq!((status, code(&body)), (409, 409), "{body}");

    assert_eq!(
        api.post(
            "/compatibility/subjects/s/versions/latest",
            json!({"schema": optional_added})
        )
        .await
        .1,
        json!({"is_compatible": true})
    );
    let (status, body) = api.register("s", &optional_added).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.get("/subjects/s/versions").await.1, json!([1, 2]));

    // A subject-level NONE lets anything in; the global level is unchanged.
    let (status, body) = api.get("/config/s").await;
    assert_eq!((status, code(&body)), (404, 40408));
    assert_eq!(
        api.get("/config/s?defaultToGlobal=true").await.1["compatibilityLevel"],
        "BACKWARD_TRANSITIVE"
    );
    assert_eq!(
        api.put("/config/s", json!({"compatibility": "NONE"})).await,
        (200, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        api.get("/config/s").await.1,
        json!({"compatibilityLevel": "NONE"})
    );
    let unrelated = record(r#"{"name":"x","type":"long"}"#);
    assert_eq!(api.register("s", &unrelated).await.0, 200);
    assert_eq!(
        api.delete("/config/s").await,
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    // Back at BACKWARD_TRANSITIVE, a schema dropping `x` without default... is fine
    // backward; but FORWARD on the subject refuses removing a field without default.
    assert_eq!(
        api.put("/config/s", json!({"compatibility": "FORWARD"}))
            .await
            .0,
        200
    );
    let (status, body) = api
        .register(
            "s",
            &record(r#"{"name":"y","type":["null","long"],"default":null}"#),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, 409),
        "old readers need x: {body}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_are_soft_first_then_permanent() {
    let stack = Stack::start().await;
    let api = Api::new(stack.registry_url());
    let v1 = record(r#"{"name":"a","type":"string"}"#);
    let v2 = record(r#"{"name":"a","type":"string"},{"name":"b","type":"int","default":0}"#);
    let id1 = api.register("s", &v1).await.1["id"].clone();
    api.register("s", &v2).await;

    let (status, body) = api.delete("/subjects/s/versions/1?permanent=true").await;
    assert_eq!((status, code(&body)), (404, 40407));
    assert_eq!(api.delete("/subjects/s/versions/1").await, (200, json!(1)));
    assert_eq!(api.get("/subjects/s/versions").await.1, json!([2]));
    assert_eq!(
        api.get("/subjects/s/versions?deleted=true").await.1,
        json!([1, 2])
    );
    assert_eq!(
        api.delete("/subjects/s/versions/1?permanent=true").await,
        (200, json!(1))
    );
    assert_eq!(
        api.get("/subjects/s/versions?deleted=true").await.1,
        json!([2])
    );
    // The id still resolves: data written with it must stay readable.
    assert_eq!(api.get(&format!("/schemas/ids/{id1}")).await.0, 200);

    let (status, body) = api.delete("/subjects/s?permanent=true").await;
    assert_eq!((status, code(&body)), (404, 40405));
    assert_eq!(api.delete("/subjects/s").await, (200, json!([2])));
    assert_eq!(api.get("/subjects").await.1, json!([]));
    assert_eq!(api.get("/subjects?deleted=true").await.1, json!(["s"]));
    assert_eq!(
        api.delete("/subjects/s?permanent=true").await,
        (200, json!([2]))
    );
    assert_eq!(api.get("/subjects?deleted=true").await.1, json!([]));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_and_a_second_instance_serve_the_same_ids() {
    let stack = Stack::start().await;
    let api = Api::new(stack.registry_url());
    let mut ids = Vec::new();
    for i in 0..5 {
        let schema = record(&format!(r#"{{"name":"f{i}","type":"string"}}"#));
        let (status, body) = api.register(&format!("subject-{i}"), &schema).await;
        assert_eq!(status, 200);
        ids.push((schema, body["id"].clone()));
    }

    // A second instance on the same topic, running beside the first.
    let second = start_registry(&stack.kafka, CancellationToken::new()).await;
    let api2 = Api::new(&second.url);
    for (i, (schema, id)) in ids.iter().enumerate() {
        assert_eq!(
            api2.get(&format!("/schemas/ids/{id}")).await.1["schema"],
            *schema
        );
        assert_eq!(
            api2.get(&format!("/subjects/subject-{i}/versions/1"))
                .await
                .1["id"],
            *id
        );
    }

    // Both instances take writes at once (to a subject without a
    // compatibility check, so every write must succeed); no id may end up
    // naming two schemas, and both instances must agree on each.
    assert_eq!(
        api.put("/config/race", json!({"compatibility": "NONE"}))
            .await
            .0,
        200
    );
    let mut writes = Vec::new();
    for i in 0..6 {
        let base = if i % 2 == 0 {
            stack.registry_url().to_owned()
        } else {
            second.url.clone()
        };
        writes.push(tokio::spawn(async move {
            let schema = record(&format!(r#"{{"name":"race{i}","type":"long"}}"#));
            let (status, body) = Api::new(&base).register("race", &schema).await;
            assert_eq!(status, 200, "{body}");
            (body["id"].clone(), schema)
        }));
    }
    let mut granted = std::collections::HashSet::new();
    for w in writes {
        let (id, schema) = w.await.unwrap();
        assert!(granted.insert(id.to_string()), "id {id} given twice");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (s1, b1) = api.get(&format!("/schemas/ids/{id}")).await;
            let (s2, b2) = api2.get(&format!("/schemas/ids/{id}")).await;
            if s1 == 200 && s2 == 200 {
                assert_eq!(
                    b1["schema"], schema,
                    "instance 1 maps id {id} to another schema"
                );
                assert_eq!(
                    b2["schema"], schema,
                    "instance 2 maps id {id} to another schema"
                );
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "id {id} not visible on both"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Restart: stop the first registry, start a fresh one; same answers.
    stack.shutdown.cancel();
    let restarted = start_registry(&stack.kafka, CancellationToken::new()).await;
    let api3 = Api::new(&restarted.url);
    for (i, (schema, id)) in ids.iter().enumerate() {
        let (_, body) = api3
            .get(&format!("/subjects/subject-{i}/versions/latest"))
            .await;
        assert_eq!(
            (body["id"].clone(), body["schema"].clone()),
            (id.clone(), json!(schema))
        );
    }
    stack.stop().await;
}
