//! The views fed from the real bus, each test run on SQLite and on
//! PostgreSQL: the three agencies' exports merge into one story per child,
//! the API answers each agency only what the policy grants and audits
//! every read, the result does not depend on the interleaving, and a
//! generated history's views equal its truth file.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use handoff_e2e::stores::TestStore;
use handoff_e2e::views::{wait_caught_up, TestViews};
use handoff_e2e::{both_stores, repo_root, run_ingest, Stack};
use handoff_events::{Agency, Catalogue};
use handoff_views::child::NtaStatus;
use handoff_views::narrow::{Narrow, Sort};
use handoff_views::policy::{all_views, Policy};
use handoff_views::queries::{Paging, Queries};
use serde_json::Value;

fn ingest(stack: &Stack, agency: &str, input: &Path) {
    let out = run_ingest(stack, agency, input, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn ingest_fixtures(stack: &Stack) {
    stack.codec().register_catalogue().await.unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    for agency in ["ice", "hhs", "doj"] {
        ingest(stack, agency, &fixtures.join(agency));
    }
}

both_stores!(three_agencies_exports_merge_into_one_story, merge_story);

async fn merge_story(store: TestStore) {
    let stack = Stack::start().await;
    ingest_fixtures(&stack).await;
    let views = TestViews::start(&stack, &store, "views").await;
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(90)).await;
    let api = views.running.api.clone();
    let queries = Queries {
        store: &api.store,
        catalogue: &api.catalogue,
    };
    let state = queries.child("A200000001").await.unwrap().unwrap();
    assert_eq!(
        state.agencies,
        vec![Agency::Ice, Agency::HhsOrr, Agency::DojEoir]
    );
    assert_eq!(state.nta_status, NtaStatus::Filed);
    assert!(state.ftas[0].opla_recorded, "OPLA's FTA matched EOIR's");
    assert_eq!(state.ftas[0].follow_ups.len(), 1);
    assert!(state.in_absentia_at.is_some());
    let latest = state.latest_address().unwrap();
    assert_eq!(
        latest.at.to_rfc3339(),
        "2021-09-20T00:00:00.000Z",
        "ICE and EOIR both heard of a move that day"
    );
    assert_ne!(latest.agency, Agency::HhsOrr, "ORR's update is older");
    assert_eq!(
        state.eoir_address().unwrap().address.city.as_deref(),
        Some("Española")
    );
    views.stop().await;
    stack.stop().await;
}

both_stores!(the_api_answers_by_policy_and_audits_every_read, api_story);

/// GET with an agency's token (or none).
async fn get(base: &str, path: &str, secret: Option<&str>) -> (u16, Value) {
    let mut req = handoff_e2e::http().get(format!("{base}{path}"));
    if let Some(s) = secret {
        req = req.header("authorization", format!("Bearer {s}"));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Each view's path, with parameters that make every field appear.
fn view_path(view: &str) -> String {
    let wide = "as_of=2021-01-01&limit=1000";
    match view {
        "child" => "/v1/children/A200000001".to_owned(),
        "ice" | "hhs_orr" | "doj_eoir" => format!("/v1/views/{view}?{wide}"),
        "fta" => "/v1/fta?limit=1000".to_owned(),
        "nta_backlog" => "/v1/nta-backlog?older_than_days=0&as_of=2030-01-01".to_owned(),
        "hearings_upcoming" => "/v1/hearings/upcoming?days=3650&as_of=2030-06-01".to_owned(),
        "data_quality" => "/v1/data-quality?kind=bad_address&as_of=2030-01-01".to_owned(),
        other => panic!("no path for view {other}"),
    }
}

/// The field names an answer carries.
fn fields_of(view: &str, body: &Value) -> Vec<String> {
    let items: Vec<&Value> = if view == "child" {
        vec![&body["child"]]
    } else {
        body["items"].as_array().unwrap().iter().collect()
    };
    let mut fields: Vec<String> = items
        .iter()
        .flat_map(|i| i.as_object().unwrap().keys().cloned())
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

async fn api_story(store: TestStore) {
    let stack = Stack::start().await;
    ingest_fixtures(&stack).await;
    let views = TestViews::start(&stack, &store, "views-api").await;
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(90)).await;
    let base = views.serve().await;
    let policy = Policy::shipped();

    // The whole matrix: every agency x every view x every field. A view the
    // policy does not grant is 403; a granted one carries exactly the
    // granted fields (each field is present in the fixtures' answers).
    let mut probed = 0;
    for agency in Agency::ALL {
        let secret = &views.secrets[&agency];
        for (view, all_fields) in all_views() {
            let (status, body) = get(&base, &view_path(view), Some(secret)).await;
            if !policy.may_read(agency, view) {
                assert_eq!(status, 403, "{agency:?} {view}: {body}");
                continue;
            }
            assert_eq!(status, 200, "{agency:?} {view}: {body}");
            let seen = fields_of(view, &body);
            for field in &all_fields {
                probed += 1;
                assert_eq!(
                    seen.contains(field),
                    policy.allows(agency, view, field),
                    "{agency:?} {view}.{field}: the answer {} it, the policy {} it",
                    if seen.contains(field) { "has" } else { "lacks" },
                    if policy.allows(agency, view, field) {
                        "grants"
                    } else {
                        "does not grant"
                    },
                );
            }
        }
    }
    assert!(probed > 100, "the matrix covered {probed} cells");

    // Authentication and parameters.
    let orr = views.secrets[&Agency::HhsOrr].as_str();
    assert_eq!(get(&base, "/v1/children/A200000001", None).await.0, 401);
    assert_eq!(get(&base, "/v1/fta", Some("nope")).await.0, 401);
    assert_eq!(
        get(&base, "/v1/children/A299999999", Some(orr)).await.0,
        404
    );
    let (status, body) = get(&base, "/v1/children/A12X", Some(orr)).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&base, "/v1/fta?since=yesterday", Some(orr)).await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "since", "{body}");
    let (status, body) = get(&base, "/v1/data-quality?kind=typos", Some(orr)).await;
    assert_eq!(status, 400);
    assert_eq!(body["parameter"], "kind", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("bad_address"),
        "{body}"
    );

    // Pagination: pages of one walk the whole list without overlap.
    let ice = views.secrets[&Agency::Ice].as_str();
    let (_, all) = get(&base, "/v1/views/ice?limit=1000", Some(ice)).await;
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 2, "{all}");
    let mut walked = Vec::new();
    let mut offset = Some(0);
    while let Some(o) = offset {
        let (_, page) = get(
            &base,
            &format!("/v1/views/ice?limit=1&offset={o}"),
            Some(ice),
        )
        .await;
        walked.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["a_number"].clone()),
        );
        offset = page["next_offset"].as_i64();
    }
    let listed: Vec<Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["a_number"].clone())
        .collect();
    assert_eq!(walked, listed);

    // The OpenAPI document names every endpoint; metrics count events.
    let (_, doc) = get(&base, "/openapi.json", None).await;
    for path in [
        "/v1/children/{a_number}",
        "/v1/views/ice",
        "/v1/views/hhs_orr",
        "/v1/views/doj_eoir",
        "/v1/fta",
        "/v1/nta-backlog",
        "/v1/hearings/upcoming",
        "/v1/data-quality",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from /openapi.json"
        );
    }
    // Lag comes from the consumer's statistics, every 5 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let (status, metrics) = get(&base, "/metrics", None).await;
        assert_eq!(status, 200);
        let metrics = metrics.as_str().unwrap().to_owned();
        if metrics.contains("handoff_views_consumer_lag{") {
            break metrics;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no lag in {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        metrics.contains("handoff_views_consumer_lag{topic=\"handoff.ice.v1\",partition=\"0\"} 0"),
        "caught up, so no lag: {metrics}"
    );
    assert!(
        metrics.contains("handoff_views_events_applied_total{event_type=\"FailedToAppear\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("handoff_views_store_batch_seconds_count"));

    // The audit: every read above, with who and which A-numbers, in the
    // store and on handoff.audit.v1. The A-number a miss asked about is not
    // recorded as returned.
    let log = handoff_views::audit::log(&views.running.api.store)
        .await
        .unwrap();
    let orr_child_reads: Vec<_> = log
        .iter()
        .filter(|r| r.agency == "HHS_ORR" && r.endpoint == "GET /v1/children/{a_number}")
        .collect();
    assert_eq!(orr_child_reads.len(), 2, "{orr_child_reads:?}");
    assert_eq!(orr_child_reads[0].a_numbers, vec!["A200000001"]);
    assert!(orr_child_reads[1].a_numbers.is_empty());
    assert!(log
        .iter()
        .any(|r| r.endpoint == "GET /v1/views/ice" && r.a_numbers.len() as i64 == total));
    assert!(log.iter().all(|r| !r.token_id.is_empty()));
    let audited_on_topic = read_audit_topic(&stack, log.len()).await;
    assert_eq!(
        audited_on_topic
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        log.iter().map(|r| r.id).collect::<Vec<_>>(),
        "every audit record reaches handoff.audit.v1, in order"
    );
    views.stop().await;
    stack.stop().await;
}

/// Reads `n` records from handoff.audit.v1 (one partition ordered by id
/// within each token's key, so sorted here by id).
async fn read_audit_topic(stack: &Stack, n: usize) -> Vec<Value> {
    use rdkafka::Message;
    let consumer = handoff_e2e::reader(&stack.kafka, handoff_events::topics::AUDIT);
    let mut out: BTreeMap<i64, Value> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while out.len() < n {
        let m = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} audit records on the topic", out.len()))
            .unwrap();
        let v: Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        out.insert(v["id"].as_i64().unwrap(), v);
    }
    out.into_values().collect()
}

both_stores!(another_interleaving_gives_identical_views, interleavings);

/// Publishes `events` in the given order, builds the views, returns the
/// content checksum of the tables.
async fn checksum_after(events: &[handoff_events::Event], store: &TestStore) -> String {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let producer = handoff_bus::EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    for e in events {
        producer.publish(e, None).await.unwrap();
    }
    let views = TestViews::start(&stack, store, "views-order").await;
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(90)).await;
    let (sum, _) = handoff_views::checksum::content_checksum(&views.running.api.store)
        .await
        .unwrap();
    views.stop().await;
    stack.stop().await;
    sum
}

async fn interleavings(store: TestStore) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;

    let children = ["A000000601", "A000000602", "A000000603"];
    let events: Vec<handoff_events::Event> = children
        .iter()
        .flat_map(|a| handoff_events::samples::one_of_each(a.parse().unwrap()))
        .collect();
    let in_order = checksum_after(&events, &store).await;
    let other = match &store {
        TestStore::Sqlite(_) => TestStore::sqlite(),
        TestStore::Postgres { .. } => TestStore::postgres(),
    };
    let mut shuffled = events.clone();
    shuffled.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(42));
    let reordered = checksum_after(&shuffled, &other).await;
    assert_eq!(in_order, reordered);
}

both_stores!(
    a_generated_history_gives_the_views_its_truth_says,
    truth_story
);

async fn truth_story(store: TestStore) {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let config = handoff_gen::GenConfig {
        children: 1500,
        ..handoff_gen::GenConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let truth = handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();
    for agency in ["ice", "hhs", "doj"] {
        ingest(&stack, agency, &dir.path().join(agency));
    }
    let views = TestViews::start(&stack, &store, "views-truth").await;
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(300)).await;
    let f = &truth.facts;
    let as_of = handoff_events::Timestamp::start_of(config.as_of.succ_opt().unwrap());
    let api = views.running.api.clone();
    let q = Queries {
        store: &api.store,
        catalogue: &Catalogue::embedded(),
    };
    let none = Paging {
        limit: 0,
        offset: 0,
    };
    assert_eq!(
        q.ftas(&Narrow::default(), Sort::default(), none)
            .await
            .unwrap()
            .total as u64,
        f.fta_events,
        "FTAs"
    );
    assert_eq!(
        q.nta_backlog(0, &Narrow::default(), Sort::default(), as_of, none)
            .await
            .unwrap()
            .total as u64,
        f.released_without_served_nta,
        "released, NTA never served"
    );
    assert_eq!(
        q.nta_backlog(60, &Narrow::default(), Sort::default(), as_of, none)
            .await
            .unwrap()
            .total as u64,
        f.released_without_served_nta_over_60_days,
        "NTA backlog over 60 days"
    );
    let summary: BTreeMap<&str, i64> = q
        .data_quality_summary(60, as_of)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let expected: BTreeMap<&str, u64> = [
        ("fta_without_follow_up", f.ftas_without_follow_up),
        ("fta_missing_in_opla", f.eoir_fta_missing_in_opla),
        ("fta_missing_in_eoir", f.opla_fta_missing_in_eoir),
        ("address_disagreement", f.address_disagreements),
        ("bad_address", f.bad_latest_addresses.values().sum()),
        ("single_agency", f.single_agency_a_numbers),
        ("nta_not_served", f.released_without_served_nta_over_60_days),
        ("hearing_without_outcome", f.hearings_without_outcome),
    ]
    .into_iter()
    .collect();
    let actual: BTreeMap<&str, u64> = summary.iter().map(|(k, v)| (*k, *v as u64)).collect();
    assert_eq!(actual, expected, "data-quality counts against truth.json");
    assert!(
        expected.values().all(|n| *n > 0),
        "the history is big enough to plant every kind: {expected:?}"
    );
    for (finding, n) in &f.bad_latest_addresses {
        let page = q
            .data_quality(
                "bad_address",
                60,
                as_of,
                Paging {
                    limit: 100_000,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let found = page
            .items
            .iter()
            .filter(|i| i.detail.as_deref() == Some(finding.as_str()))
            .count() as u64;
        assert_eq!(found, *n, "bad latest addresses: {finding}");
    }
    // Every child and every A-number only one agency knows has a row.
    let children = api
        .store
        .query("SELECT COUNT(*) FROM children", vec![])
        .await
        .unwrap()[0][0]
        .as_i64()
        .unwrap() as u64;
    assert_eq!(children, f.children + f.single_agency_a_numbers);
    views.stop().await;
    stack.stop().await;
}
