//! Running the views in tests: in-process on a test stack, and waiting
//! until they have applied everything on the agency topics.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use handoff_auth::{new_token, Tokens};
use handoff_bus::{KafkaConfig, Membership};
use handoff_events::{topics, Agency};
use handoff_http::{Guard, Limits};
use handoff_views::policy::Policy;
use handoff_views::schema::open_store;
use handoff_views::service::{self, RunningViews, ViewsConfig};
use handoff_views::{Store, StoreLocation};
use tokio_util::sync::CancellationToken;

use crate::stores::TestStore;
use crate::Stack;

/// The views running in-process, with one token per agency.
pub struct TestViews {
    pub running: RunningViews,
    pub stop: CancellationToken,
    /// Bearer secrets by agency.
    pub secrets: HashMap<Agency, String>,
}

impl TestViews {
    pub async fn start(stack: &Stack, store: &TestStore, group: &str) -> TestViews {
        let mut secrets = HashMap::new();
        let mut tokens = Vec::new();
        for agency in Agency::ALL {
            let (secret, entry) = new_token(&format!("{}-reader", agency.symbol()), agency);
            secrets.insert(agency, secret);
            tokens.push(entry);
        }
        let stop = CancellationToken::new();
        let running = service::start(
            &stack.kafka,
            stack.codec(),
            ViewsConfig {
                store: store.location(),
                group: group.to_owned(),
                membership: Membership::Alone,
                policy: Policy::shipped(),
                guard: Arc::new(Guard::new(Tokens { tokens }, generous_limits())),
            },
            stop.clone(),
        )
        .await
        .expect("views start");
        TestViews {
            running,
            stop,
            secrets,
        }
    }

    /// Serves the API on a free port; returns its base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = handoff_http::app(handoff_views::api::router(self.running.api.clone()), |_| {});
        let stop = self.stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .unwrap();
        });
        base
    }

    pub async fn stop(self) {
        self.stop.cancel();
        for task in self.running.tasks {
            task.await.unwrap();
        }
        assert!(
            !self.running.failed.is_cancelled(),
            "the views stopped on an error"
        );
    }
}

/// Limits no test reaches unless it means to: tests read pages in loops.
pub fn generous_limits() -> Limits {
    Limits {
        per_second: 100_000,
        burst: 100_000,
        ..Limits::default()
    }
}

/// The end offset of every partition of the agency topics.
pub fn agency_topic_ends(kafka: &KafkaConfig) -> HashMap<(String, i32), i64> {
    handoff_bus::watermarks::topic_ends(kafka, &topics::AGENCY).expect("watermarks")
}

/// The views' stored next offsets.
pub async fn stored_offsets(store: &Store) -> HashMap<(String, i32), i64> {
    store
        .query("SELECT topic, partition, next FROM sink_offsets", vec![])
        .await
        .expect("offsets")
        .into_iter()
        .map(|r| {
            (
                (
                    r[0].as_str().unwrap().to_owned(),
                    r[1].as_i64().unwrap() as i32,
                ),
                r[2].as_i64().unwrap(),
            )
        })
        .collect()
}

/// How many records a sink has applied: the sum of its stored offsets
/// (the views' and the notifier's stores keep them alike).
pub async fn applied(store: &Store) -> i64 {
    stored_offsets(store).await.values().sum()
}

/// Waits until the store's offsets reach the end of every non-empty
/// agency partition as it is now (`handoff_store::offsets::wait_reached`,
/// the wait the demo uses).
pub async fn wait_caught_up(kafka: &KafkaConfig, location: &StoreLocation, within: Duration) {
    let kafka = kafka.clone();
    let ends = tokio::task::spawn_blocking(move || agency_topic_ends(&kafka))
        .await
        .unwrap();
    let store = open_store(location).await.expect("store");
    if let Err(behind) = handoff_store::offsets::wait_reached(&store, &ends, within).await {
        let list: Vec<String> = behind.iter().map(ToString::to_string).collect();
        panic!(
            "the views did not catch up within {within:?}: behind on {}",
            list.join(", ")
        );
    }
}
