//! The notifier's sink fed from the real bus, on SQLite and PostgreSQL:
//! the fixtures' three exports produce one outbox row per (cause, rule,
//! subscriber), with gap-free sequence numbers per subscriber, and
//! redelivering every event adds nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use handoff_bus::{SinkRunner, SinkRunnerConfig};
use handoff_e2e::stores::TestStore;
use handoff_e2e::views::{agency_topic_ends, applied};
use handoff_e2e::{both_stores, repo_root, run_ingest, Stack};
use handoff_events::{topics, Catalogue};
use handoff_notify::config::NotifyConfig;
use handoff_notify::projection::{open_store, Notifier};
use handoff_store::{Store, StoreLocation};
use tokio_util::sync::CancellationToken;

/// One topic subscriber per role, no filters: every trigger reaches
/// exactly one subscriber per role it addresses.
const CONFIG: &str = r#"
[[subscriber]]
id = "orr"
agency = "HHS_ORR"
office = "ORR"
roles = ["orr"]
channel = "topic"
[[subscriber]]
id = "ero"
agency = "ICE"
office = "ERO"
roles = ["ero_field_office"]
channel = "topic"
[[subscriber]]
id = "ero-sup"
agency = "ICE"
office = "ERO supervisors"
roles = ["ero_supervisor", "field_office_director"]
channel = "topic"
[[subscriber]]
id = "opla"
agency = "ICE"
office = "OPLA"
roles = ["opla"]
channel = "topic"
[[subscriber]]
id = "eoir"
agency = "DOJ_EOIR"
office = "EOIR"
roles = ["eoir"]
channel = "topic"
"#;

async fn run_until_caught_up(stack: &Stack, location: &StoreLocation) {
    let config = Arc::new(NotifyConfig::parse(CONFIG, "test").unwrap());
    let notifier = Notifier::open(
        location,
        Arc::new(Catalogue::embedded()),
        config,
        tokio::sync::watch::channel(0u64).0,
    )
    .await
    .unwrap();
    let runner = SinkRunner::new(
        &stack.kafka,
        SinkRunnerConfig::new("notifier", &topics::AGENCY),
        stack.codec(),
        notifier,
    )
    .unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));
    let kafka = stack.kafka.clone();
    let ends = tokio::task::spawn_blocking(move || agency_topic_ends(&kafka))
        .await
        .unwrap();
    let total: i64 = ends.values().sum();
    let store = open_store(location).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let applied = applied(&store).await;
        if applied >= total {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{applied} of {total}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Due timers fire once the backlog look finds the notifier caught up.
    loop {
        let unfired = store
            .query(handoff_notify::schema::EVENT_TIME_TIMERS_UNFIRED, vec![])
            .await
            .unwrap()[0][0]
            .as_i64()
            .unwrap();
        if unfired == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{unfired} deadlines due by the event clock not fired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.cancel();
    task.await.unwrap().unwrap();
}

async fn outbox_by_rule(store: &Store) -> BTreeMap<String, i64> {
    store
        .query("SELECT rule, COUNT(*) FROM outbox GROUP BY rule", vec![])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_i64().unwrap()))
        .collect()
}

both_stores!(the_fixtures_notify_each_office_once, fixtures_story);

async fn fixtures_story(test_store: TestStore) {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let fixtures = repo_root().join("tests/fixtures");
    for agency in ["ice", "hhs", "doj"] {
        let out = run_ingest(&stack, agency, &fixtures.join(agency), &[]);
        assert!(out.status.success());
    }
    let location = test_store.location();
    run_until_caught_up(&stack, &location).await;
    let store = open_store(&location).await.unwrap();
    let first = outbox_by_rule(&store).await;
    // Two children missed a hearing (one reported twice): ORR, ERO, OPLA each.
    assert_eq!(first.get("failed_to_appear"), Some(&6), "{first:?}");
    // One safety concern: ORR and the ERO supervisors.
    assert_eq!(first.get("safety_concern"), Some(&2), "{first:?}");
    // ICE's and ORR's address updates: EOIR and the other agency each.
    assert_eq!(first.get("address_changed"), Some(&4), "{first:?}");
    // A200000002's missed hearing was never followed up: the director.
    assert_eq!(first.get("fta_without_follow_up"), Some(&1), "{first:?}");

    // Sequence numbers are 1..n per subscriber, without a gap.
    for row in store
        .query(
            "SELECT subscriber, COUNT(*), MIN(seq), MAX(seq) FROM outbox GROUP BY subscriber",
            vec![],
        )
        .await
        .unwrap()
    {
        assert_eq!(row[2].as_i64(), Some(1), "{row:?}");
        assert_eq!(row[3].as_i64(), row[1].as_i64(), "{row:?}");
    }

    // Every event delivered again: nothing new.
    store
        .execute("DELETE FROM sink_offsets", vec![])
        .await
        .unwrap();
    run_until_caught_up(&stack, &location).await;
    assert_eq!(outbox_by_rule(&store).await, first);
    stack.stop().await;
}
