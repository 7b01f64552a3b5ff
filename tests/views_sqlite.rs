//! The views on SQLite fed from the real bus (work in progress for issue
//! 4): the three agencies' fixture exports merge into one story per child.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_bus::{SinkRunner, SinkRunnerConfig};
use handoff_e2e::{repo_root, run_ingest, Stack};
use handoff_events::{topics, Agency, Catalogue};
use handoff_views::child::NtaStatus;
use handoff_views::SqliteViews;
use tokio_util::sync::CancellationToken;

fn ingest(stack: &Stack, agency: &str, input: &Path) {
    let out = run_ingest(stack, agency, input, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agencies_exports_merge_into_one_story_per_child() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    for (agency, dir) in [("ice", "ice"), ("hhs", "hhs"), ("doj", "doj")] {
        ingest(&stack, agency, &fixtures.join(dir));
    }
    let db = stack.data_dir().join("views.db");
    let catalogue = Arc::new(Catalogue::embedded());
    let views = SqliteViews::open(&db, catalogue.clone()).await.unwrap();
    let runner = SinkRunner::new(
        &stack.kafka,
        SinkRunnerConfig::new("views", &topics::AGENCY),
        stack.codec(),
        views,
    )
    .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));

    let reader = SqliteViews::open(&db, catalogue).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = loop {
        if let Some(s) = reader.child("A200000001").await.unwrap() {
            if s.agencies.len() == 3 && s.ftas.len() == 1 && s.hearings.len() >= 3 {
                break s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the views did not catch up within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        state.agencies,
        vec![Agency::Ice, Agency::HhsOrr, Agency::DojEoir]
    );
    assert_eq!(state.nta_status, NtaStatus::Filed);
    assert!(
        state.ftas[0].opla_recorded,
        "OPLA's FTA record matched EOIR's"
    );
    assert_eq!(state.ftas[0].follow_ups.len(), 1);
    assert!(state.in_absentia_at.is_some());
    let latest = state.latest_address().unwrap();
    assert_eq!(
        latest.at.to_rfc3339(),
        "2021-09-20T00:00:00.000Z",
        "ICE and EOIR both heard of a move that day"
    );
    assert_ne!(
        latest.agency,
        Agency::HhsOrr,
        "ORR's 2021-09-17 update is older"
    );
    assert_eq!(
        state.eoir_address().unwrap().address.city.as_deref(),
        Some("Española")
    );
    stop.cancel();
    task.await.unwrap().unwrap();
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_filters_by_policy_and_audits_every_read() {
    use handoff_auth::{new_token, Tokens};
    use handoff_views::api::{router, ApiState};
    use handoff_views::policy::Policy;

    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    for agency in ["ice", "hhs", "doj"] {
        ingest(&stack, agency, &fixtures.join(agency));
    }
    let db = stack.data_dir().join("views.db");
    let catalogue = Arc::new(Catalogue::embedded());
    let views = SqliteViews::open(&db, catalogue.clone()).await.unwrap();
    let runner = SinkRunner::new(
        &stack.kafka,
        SinkRunnerConfig::new("views-api", &topics::AGENCY),
        stack.codec(),
        views,
    )
    .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));

    let (ice_secret, ice) = new_token("ice-ero-1", Agency::Ice);
    let (orr_secret, orr) = new_token("orr-1", Agency::HhsOrr);
    let policy = Policy::load(&repo_root().join("deploy/policy.toml")).unwrap();
    let state = Arc::new(ApiState {
        views: SqliteViews::open(&db, catalogue.clone()).await.unwrap(),
        policy: policy.clone(),
        tokens: Arc::new(Tokens {
            tokens: vec![ice, orr],
        }),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serve_stop = stop.clone();
    tokio::spawn(async move {
        axum::serve(listener, router(state))
            .with_graceful_shutdown(serve_stop.cancelled_owned())
            .await
            .unwrap();
    });

    let get = |secret: Option<&str>, a: &str| {
        let mut req = handoff_e2e::http().get(format!("{base}/v1/children/{a}"));
        if let Some(s) = secret {
            req = req.header("authorization", format!("Bearer {s}"));
        }
        req.send()
    };
    // Wait until the views hold the child's safety concern (ICE's record).
    let deadline = Instant::now() + Duration::from_secs(60);
    let ice_view: serde_json::Value = loop {
        let r = get(Some(&ice_secret), "A-200-000-001").await.unwrap();
        if r.status() == 200 {
            let v: serde_json::Value = r.json().await.unwrap();
            if v["child"]["safety_concerns"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
            {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "views did not catch up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let orr_view: serde_json::Value = get(Some(&orr_secret), "A200000001")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (agency, view) in [(Agency::Ice, &ice_view), (Agency::HhsOrr, &orr_view)] {
        let fields = view["child"].as_object().unwrap();
        for field in fields.keys() {
            assert!(
                policy.allows(agency, field),
                "{agency:?} got {field}, which the policy does not grant"
            );
        }
    }
    assert!(
        orr_view["child"].get("safety_concerns").is_none(),
        "ICE enforcement detail never reaches ORR"
    );
    assert!(
        orr_view["child"]["ftas"]
            .as_array()
            .is_some_and(|f| f.len() == 1),
        "ORR sees the missed hearing"
    );

    assert_eq!(get(None, "A200000001").await.unwrap().status(), 401);
    assert_eq!(get(Some("nope"), "A200000001").await.unwrap().status(), 401);
    assert_eq!(
        get(Some(&orr_secret), "A299999999").await.unwrap().status(),
        404
    );
    assert_eq!(get(Some(&orr_secret), "A12X").await.unwrap().status(), 400);

    let log = SqliteViews::open(&db, catalogue)
        .await
        .unwrap()
        .audit_log()
        .await
        .unwrap();
    let orr_reads: Vec<_> = log.iter().filter(|r| r.1 == "orr-1").collect();
    assert_eq!(
        orr_reads.len(),
        2,
        "both ORR reads that reached a record lookup are audited: {orr_reads:?}"
    );
    assert_eq!(orr_reads[0].3, "A200000001");
    assert_eq!(
        orr_reads[1].3, "",
        "a miss is audited with no A-number returned"
    );
    assert!(log.iter().any(|r| r.0 == "ICE" && r.1 == "ice-ero-1"));
    stop.cancel();
    task.await.unwrap().unwrap();
    stack.stop().await;
}

/// Publishes `events` in the given order into a fresh stack, runs the
/// views until every child has all its events, and returns each child's
/// stored state as JSON.
async fn views_after(
    events: &[handoff_events::Event],
    children: &[&str],
) -> Vec<serde_json::Value> {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let producer = handoff_bus::EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    for e in events {
        producer.publish(e, None).await.unwrap();
    }
    let db = stack.data_dir().join("views.db");
    let catalogue = Arc::new(Catalogue::embedded());
    let views = SqliteViews::open(&db, catalogue.clone()).await.unwrap();
    let runner = SinkRunner::new(
        &stack.kafka,
        SinkRunnerConfig::new("views-order", &topics::AGENCY),
        codec,
        views,
    )
    .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));
    let reader = SqliteViews::open(&db, catalogue).await.unwrap();
    let per_child = events.len() / children.len();
    let mut states = Vec::new();
    for a in children {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = reader.child(a).await.unwrap() {
                if s.events == per_child {
                    states.push(serde_json::to_value(&s).unwrap());
                    break;
                }
            }
            assert!(Instant::now() < deadline, "views of {a} incomplete");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    stop.cancel();
    task.await.unwrap().unwrap();
    stack.stop().await;
    states
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_interleaving_of_the_same_events_gives_identical_views() {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;

    let children = ["A000000601", "A000000602", "A000000603"];
    let events: Vec<handoff_events::Event> = children
        .iter()
        .flat_map(|a| handoff_events::samples::one_of_each(a.parse().unwrap()))
        .collect();
    let in_order = views_after(&events, &children).await;
    let mut shuffled = events.clone();
    shuffled.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(42));
    let reordered = views_after(&shuffled, &children).await;
    assert_eq!(in_order, reordered);
}
