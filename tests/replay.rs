//! Replay and analytics against a real broker, registry and stores: the
//! views rebuilt as of a date equal a live view fed only what was recorded
//! before it; every report equals the generator's truth; the exports open
//! in DuckDB and agree with the report; unreadable records are listed,
//! never lost; a replay publishes nothing and joins no consumer group.

use std::collections::{BTreeMap, HashMap};
use std::process::Output;
use std::time::Duration;

use handoff_bus::EventProducer;
use handoff_e2e::conformance::assert_instants_are_rfc3339;
use handoff_e2e::stores::TestStore;
use handoff_e2e::views::{wait_caught_up, TestViews};
use handoff_e2e::{both_stores, handoff_bin, python, repo_root, run_ingest, Stack};
use handoff_events::{samples, topics, ANumber, Timestamp};
use handoff_gen::{GenConfig, Truth};
use handoff_replay::{parse_instant, DayEdge};
use handoff_views::checksum::{content_checksum, rows_checksum};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use serde_json::Value;

fn handoff(args: &[&str]) -> Output {
    std::process::Command::new(handoff_bin())
        .args(args)
        .output()
        .expect("handoff runs")
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `handoff <command>` against the stack's broker and registry.
fn on_stack(stack: &Stack, command: &str, rest: &[&str]) -> Output {
    let mut args = vec![
        command,
        "--brokers",
        &stack.kafka.brokers,
        "--registry-url",
        stack.registry_url(),
    ];
    args.extend(rest);
    handoff(&args)
}

/// The command failed, and its error says `says`.
fn failed_saying(out: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it should have failed: {stderr}");
    assert!(stderr.contains(says), "expected `{says}` in: {stderr}");
}

fn json_of(out: &Output) -> Value {
    let text = succeeded(out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Generates `children` and publishes the three exports to the stack.
async fn history(stack: &Stack, children: u64) -> (Truth, tempfile::TempDir) {
    stack.codec().register_catalogue().await.unwrap();
    let config = GenConfig {
        children,
        ..GenConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let truth = handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();
    for agency in ["ice", "hhs", "doj"] {
        succeeded(&run_ingest(stack, agency, &dir.path().join(agency), &[]));
    }
    (truth, dir)
}

fn replay(stack: &Stack, into: &str, window: &[&str]) -> Value {
    let mut rest = vec!["--into", into, "--json"];
    rest.extend(window);
    let summary = json_of(&on_stack(stack, "replay", &rest));
    let n = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(
        n("records"),
        n("applied") + n("before_window") + n("after_window") + n("rejected"),
        "every record read is accounted for: {summary}"
    );
    summary
}

fn report(store: &str, name: &str, extra: &[&str]) -> Value {
    let mut args = vec!["report", name, "--store", store, "--format", "json"];
    args.extend(extra);
    json_of(&handoff(&args))
}

/// A report's rows keyed by the value of `key`.
fn rows_by(report: &Value, key: &str) -> BTreeMap<String, Value> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[key].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn count(row: &Value, column: &str) -> u64 {
    row[column]
        .as_u64()
        .unwrap_or_else(|| panic!("{column} in {row}"))
}

both_stores!(
    every_report_equals_the_generators_truth,
    reports_against_truth
);

async fn reports_against_truth(store: TestStore) {
    let stack = Stack::start().await;
    let (truth, _data) = history(&stack, 1_500).await;
    let f = &truth.facts;
    let into = store.arg();
    let as_of = truth.config.as_of.to_string();
    let summary = replay(&stack, &into, &["--as-of", &as_of]);
    assert_eq!(summary["rejected"], 0);
    assert!(summary["applied"].as_u64().unwrap() > 10_000, "{summary}");
    assert_eq!(
        summary["after_window"], 0,
        "the generator records nothing after its as-of date"
    );

    // FTAs by fiscal year, with in-absentia orders and follow-ups.
    let fta = report(&into, "fta-by-fiscal-year", &[]);
    assert_eq!(
        fta["as_of"],
        Timestamp::start_of(truth.config.as_of.succ_opt().unwrap()).to_rfc3339(),
        "a replayed store's reports are dated by its cut-off"
    );
    let years = rows_by(&fta, "fiscal_year");
    let per_year = |column: &str| -> BTreeMap<String, u64> {
        years
            .iter()
            .filter(|(fy, _)| *fy != "all")
            .map(|(fy, row)| (fy.trim_start_matches("FY").to_owned(), count(row, column)))
            .filter(|(_, n)| *n > 0)
            .collect()
    };
    assert_eq!(
        per_year("ftas"),
        f.fta_by_fiscal_year,
        "FTAs per fiscal year"
    );
    assert_eq!(
        per_year("in_absentia_orders"),
        f.in_absentia_by_fiscal_year,
        "in-absentia orders per fiscal year"
    );
    assert_eq!(
        per_year("followed_up"),
        f.fta_follow_ups_by_fiscal_year,
        "follow-ups per fiscal year"
    );
    let all = &years["all"];
    assert_eq!(count(all, "ftas"), f.fta_events);
    assert_eq!(count(all, "in_absentia_orders"), f.in_absentia_orders);
    assert_eq!(count(all, "followed_up"), f.fta_follow_ups);
    assert_eq!(count(all, "without_follow_up"), f.ftas_without_follow_up);
    assert!(
        f.fta_by_fiscal_year.len() >= 3,
        "the history spans several fiscal years"
    );

    // The NTA backlog by days since release.
    let backlog = rows_by(&report(&into, "nta-backlog", &[]), "days_since_release");
    let buckets: BTreeMap<String, u64> = backlog
        .iter()
        .filter(|(b, _)| *b != "all")
        .map(|(b, row)| (b.clone(), count(row, "children")))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(
        buckets, f.nta_backlog_by_days_since_release,
        "NTA backlog by age"
    );
    assert_eq!(
        count(&backlog["all"], "children"),
        f.released_without_served_nta
    );

    // Address quality: release and latest addresses, and disagreements.
    let quality = report(&into, "address-quality", &[]);
    let mut found: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in quality["rows"].as_array().unwrap() {
        let key = (
            row["address"].as_str().unwrap().to_owned(),
            row["finding"].as_str().unwrap().to_owned(),
        );
        found.insert(key, count(row, "children"));
    }
    for (finding, n) in &f.bad_release_addresses {
        assert_eq!(
            found[&("release".into(), finding.clone())],
            *n,
            "release addresses {finding}"
        );
    }
    for (finding, n) in &f.bad_latest_addresses {
        assert_eq!(
            found[&("latest".into(), finding.clone())],
            *n,
            "latest addresses {finding}"
        );
    }
    assert_eq!(
        found[&("between_agencies".into(), "disagree".into())],
        f.address_disagreements
    );
    let planted: u64 = f.bad_release_addresses.values().sum::<u64>()
        + f.bad_latest_addresses.values().sum::<u64>();
    let reported: u64 = found
        .iter()
        .filter(|((a, _), _)| a != "between_agencies")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(reported, planted, "no finding the generator did not plant");

    // The OIG's gap between OPLA and EOIR, and FTAs nobody followed up.
    let gaps = rows_by(&report(&into, "discrepancies", &[]), "discrepancy");
    assert_eq!(
        count(&gaps["fta_missing_in_opla"], "records"),
        f.eoir_fta_missing_in_opla
    );
    assert_eq!(
        count(&gaps["fta_missing_in_eoir"], "records"),
        f.opla_fta_missing_in_eoir
    );
    assert_eq!(
        count(&gaps["fta_without_follow_up"], "records"),
        f.ftas_without_follow_up
    );

    // One child's timeline: every event about it, in event time, with its source.
    let store_handle = handoff_views::schema::open_store(&store.location())
        .await
        .unwrap();
    let busiest = store_handle
        .query(
            "SELECT a_number, COUNT(*) FROM child_events GROUP BY a_number ORDER BY COUNT(*) DESC, a_number LIMIT 1",
            vec![],
        )
        .await
        .unwrap();
    let a = busiest[0][0].as_str().unwrap().to_owned();
    let stored = busiest[0][1].as_i64().unwrap();
    let a = a.as_str();
    let timeline = report(&into, "timeline", &[a]);
    let rows = timeline["rows"].as_array().unwrap();
    assert_eq!(rows.len() as i64, stored, "{timeline}");
    assert!(rows.len() >= 4, "{timeline}");
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["occurred_at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in event time: {times:?}"
    );
    assert!(rows
        .iter()
        .all(|r| !r["source_record_id"].as_str().unwrap().is_empty()));
    let agencies: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["agency"].as_str().unwrap()).collect();
    assert!(agencies.len() >= 2, "across agencies: {agencies:?}");
    // The same A-number with separators is the same child; an unknown one is a clear error.
    let separated = format!("A-{}-{}-{}", &a[1..4], &a[4..7], &a[7..]);
    assert_eq!(
        report(&into, "timeline", &[&separated])["rows"],
        timeline["rows"]
    );
    failed_saying(
        &handoff(&["report", "timeline", "A999999999", "--store", &into]),
        "no events about A999999999",
    );

    // Text and CSV say the same; the chart draws one group per fiscal year.
    let text = succeeded(&handoff(&[
        "report",
        "fta-by-fiscal-year",
        "--store",
        &into,
    ]));
    let csv = succeeded(&handoff(&[
        "report",
        "fta-by-fiscal-year",
        "--store",
        &into,
        "--format",
        "csv",
    ]));
    assert!(
        csv.starts_with("fiscal_year,ftas,in_absentia_orders,followed_up,without_follow_up\n"),
        "{csv}"
    );
    for (fy, n) in &f.fta_by_fiscal_year {
        assert!(text.contains(&format!("FY{fy}")), "{text}");
        assert!(csv.contains(&format!("FY{fy},{n},")), "{csv}");
    }
    let svg = tempfile::tempdir().unwrap();
    let chart = svg.path().join("fta.svg");
    succeeded(&handoff(&[
        "report",
        "fta-by-fiscal-year",
        "--store",
        &into,
        "--chart",
        chart.to_str().unwrap(),
    ]));
    let drawn = std::fs::read_to_string(&chart).unwrap();
    assert!(
        drawn.starts_with("<svg"),
        "{}",
        &drawn[..100.min(drawn.len())]
    );
    for fy in f.fta_by_fiscal_year.keys() {
        assert!(
            drawn.contains(&format!("FY{fy}")),
            "the chart labels FY{fy}"
        );
    }
    let timeline_chart = handoff(&[
        "report",
        "timeline",
        a,
        "--store",
        &into,
        "--chart",
        chart.to_str().unwrap(),
    ]);
    failed_saying(&timeline_chart, "has no chart");
    stack.stop().await;
}

/// Copies the events recorded before `cut` from one stack to another, read
/// and published here (not by the replay under test). Returns how many it
/// copied and the record time of every event in the log.
async fn copy_recorded_before(from: &Stack, to: &Stack, cut: Timestamp) -> (u64, Vec<Timestamp>) {
    let codec = from.codec();
    let producer = EventProducer::new(&to.kafka, to.codec()).unwrap();
    let mut copied = 0;
    let mut recorded = Vec::new();
    for topic in [topics::ICE, topics::HHS, topics::DOJ] {
        let ends = handoff_bus::watermarks::topic_ends(&from.kafka, &[topic]).unwrap();
        let mut left: HashMap<i32, i64> = ends
            .into_iter()
            .filter(|(_, end)| *end > 0)
            .map(|((_, p), e)| (p, e))
            .collect();
        let consumer = handoff_e2e::reader(&from.kafka, topic);
        while !left.is_empty() {
            let m = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
                .await
                .expect("the log keeps coming")
                .unwrap();
            let event = codec.decode(m.payload().unwrap()).await.unwrap();
            recorded.push(event.meta().recorded_at);
            if event.meta().recorded_at < cut {
                producer.publish(&event, None).await.unwrap();
                copied += 1;
            }
            if left
                .get(&m.partition())
                .is_some_and(|end| m.offset() + 1 >= *end)
            {
                left.remove(&m.partition());
            }
        }
    }
    (copied, recorded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_as_of_a_date_equals_a_live_view_of_what_was_recorded_before_it() {
    let stack = Stack::start().await;
    let (truth, _data) = history(&stack, 600).await;
    let store = TestStore::sqlite();
    let live = TestViews::start(&stack, &store, "views-live").await;
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(300)).await;

    // The whole log, rebuilt, is the live view, offsets included: `handoff
    // views` could carry on from it.
    let whole = TestStore::sqlite();
    let ends_before = handoff_bus::watermarks::topic_ends(&stack.kafka, &topics::ALL).unwrap();
    let summary = replay(&stack, &whole.arg(), &[]);
    assert_eq!(summary["offsets_stored"], true);
    let rebuilt = handoff_views::schema::open_store(&whole.location())
        .await
        .unwrap();
    assert_eq!(
        content_checksum(&rebuilt).await.unwrap(),
        content_checksum(&live.running.api.store).await.unwrap(),
        "the rebuild of the whole log equals the live views"
    );
    // A replay publishes nothing: no notification can come of it. (It
    // assigns partitions itself and never joins a group.)
    assert_eq!(
        handoff_bus::watermarks::topic_ends(&stack.kafka, &topics::ALL).unwrap(),
        ends_before
    );
    // The store is not empty any more: a second replay into it is refused.
    failed_saying(
        &on_stack(&stack, "replay", &["--into", &whole.arg()]),
        "already holds views",
    );
    live.stop().await;

    // As of a day in the middle of the history.
    let day = truth.config.from + (truth.config.to - truth.config.from) / 2;
    let cut = parse_instant(&day.to_string(), DayEdge::End).unwrap();
    let as_of = TestStore::sqlite();
    let summary = replay(&stack, &as_of.arg(), &["--as-of", &day.to_string()]);
    assert_eq!(summary["offsets_stored"], false);
    let (applied, after) = (
        summary["applied"].as_u64().unwrap(),
        summary["after_window"].as_u64().unwrap(),
    );
    assert!(
        applied > 1_000 && after > 1_000,
        "the cut falls inside the history: {summary}"
    );

    let earlier = Stack::start().await;
    earlier.codec().register_catalogue().await.unwrap();
    let (copied, recorded) = copy_recorded_before(&stack, &earlier, cut).await;
    assert_eq!(
        copied, applied,
        "the replay applied exactly the events recorded before the cut"
    );
    let fed = TestStore::sqlite();
    let fed_views = TestViews::start(&earlier, &fed, "views-earlier").await;
    wait_caught_up(&earlier.kafka, &fed.location(), Duration::from_secs(300)).await;
    let replayed = handoff_views::schema::open_store(&as_of.location())
        .await
        .unwrap();
    let (sum, rows) = rows_checksum(&replayed).await.unwrap();
    assert_eq!(
        (sum, rows),
        rows_checksum(&fed_views.running.api.store).await.unwrap(),
        "the rebuild as of {day} equals a live view fed only what was recorded before it"
    );

    // A window that starts later leaves the earlier events out, and says so.
    let from = (day - chrono::Duration::days(30)).to_string();
    let window = TestStore::sqlite();
    let summary = replay(
        &stack,
        &window.arg(),
        &["--from", &from, "--to", &day.to_string()],
    );
    let start = parse_instant(&from, DayEdge::Start).unwrap();
    let inside = recorded
        .iter()
        .filter(|t| **t >= start && **t < cut)
        .count() as u64;
    let before = recorded.iter().filter(|t| **t < start).count() as u64;
    assert!(inside > 0 && before > 0, "{from}..{day} splits the history");
    // Exactly the events recorded in the window, however the broker's
    // offsets-for-times placed the start of the read.
    assert_eq!(summary["applied"], inside, "{summary}");
    println!(
        "the window {from}..{day} read {} of the log's {} records",
        summary["records"],
        recorded.len()
    );
    assert!(
        summary["before_window"].as_u64().unwrap() <= before,
        "{summary}"
    );
    fed_views.stop().await;
    earlier.stop().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_open_in_duckdb_and_agree_with_the_fta_report() {
    let stack = Stack::start().await;
    let (truth, _data) = history(&stack, 800).await;
    let out = tempfile::tempdir().unwrap();
    let export = |format: &str, into: &str, extra: &[&str]| -> Value {
        let dir = out.path().join(into);
        let mut rest = vec!["--format", format, "--out", dir.to_str().unwrap(), "--json"];
        rest.extend(extra);
        let summary = json_of(&on_stack(&stack, "export", &rest));
        let n = |k: &str| summary[k].as_u64().unwrap();
        assert_eq!(
            n("records"),
            n("exported")
                + n("not_selected")
                + n("withheld_by_policy")
                + n("before_window")
                + n("after_window")
                + n("rejected"),
            "{summary}"
        );
        summary
    };
    let parquet = export("parquet", "parquet", &[]);
    let csv = export("csv", "csv", &[]);
    let jsonl = export("jsonl", "jsonl", &[]);
    assert_eq!(
        parquet["exported"], parquet["records"],
        "every event exported"
    );
    assert_eq!(
        parquet["tables"],
        json_with_dir(&csv["tables"], "csv", "parquet")
    );
    // JSON lines: one flat object per event, times as the API gives them
    // (RFC 3339, UTC, milliseconds).
    let ftas_jsonl =
        std::fs::read_to_string(out.path().join("jsonl/FailedToAppear.jsonl")).unwrap();
    let first: Value = serde_json::from_str(ftas_jsonl.lines().next().unwrap()).unwrap();
    assert!(first["hearing_at"].is_string(), "{first}");
    for line in ftas_jsonl.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert_instants_are_rfc3339(&row, "FailedToAppear.jsonl");
    }
    assert!(
        first["a_number"].as_str().unwrap().starts_with('A'),
        "{first}"
    );
    assert_eq!(
        ftas_jsonl.lines().count() as u64,
        jsonl["tables"]["FailedToAppear"][0].as_u64().unwrap()
    );

    let rebuilt = TestStore::sqlite();
    replay(
        &stack,
        &rebuilt.arg(),
        &["--as-of", &truth.config.as_of.to_string()],
    );
    let report = report(&rebuilt.arg(), "fta-by-fiscal-year", &[]);
    let expected: BTreeMap<String, Value> = rows_by(&report, "fiscal_year")
        .into_iter()
        .filter(|(fy, row)| fy != "all" && count(row, "ftas") > 0)
        .map(|(fy, row)| (fy, row["ftas"].clone()))
        .collect();
    let counted = std::process::Command::new(python())
        .arg(repo_root().join("tests/peers/duckdb_fta.py"))
        .arg(out.path().join("parquet"))
        .arg(out.path().join("csv"))
        .output()
        .unwrap();
    let duck = json_of(&counted);
    let from_duck = |format: &str| -> BTreeMap<String, Value> {
        duck[format]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(
        from_duck("parquet"),
        expected,
        "DuckDB over Parquet against the report"
    );
    assert_eq!(
        from_duck("csv"),
        expected,
        "DuckDB over CSV against the report"
    );
    assert_eq!(
        duck["parquet_types"],
        serde_json::json!(["TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE"])
    );

    // Under the policy, HHS ORR gets no ICE enforcement detail.
    let hhs = export("jsonl", "hhs", &["--as-agency", "HHS_ORR"]);
    let tables = hhs["tables"].as_object().unwrap();
    assert!(
        tables.contains_key("FailedToAppear") && tables.contains_key("ReleasedToSponsor"),
        "{hhs}"
    );
    for hidden in [
        "SafetyConcernRaised",
        "FieldOfficeAssigned",
        "HearingOutcomeRecorded",
    ] {
        assert!(
            !tables.contains_key(hidden),
            "HHS ORR must not get {hidden}: {hhs}"
        );
        assert!(!out.path().join(format!("hhs/{hidden}.jsonl")).exists());
    }
    assert!(hhs["withheld_by_policy"].as_u64().unwrap() > 0);
    let refused = on_stack(
        &stack,
        "export",
        &[
            "--as-agency",
            "HHS_ORR",
            "--types",
            "SafetyConcernRaised",
            "--out",
            out.path().join("no").to_str().unwrap(),
        ],
    );
    failed_saying(&refused, "HHS_ORR may not read SafetyConcernRaised");
    // Only the types asked for.
    let some = export("csv", "some", &["--types", "FailedToAppear,CaseOpened"]);
    assert_eq!(some["tables"].as_object().unwrap().len(), 2);
    assert!(some["not_selected"].as_u64().unwrap() > 0);
    stack.stop().await;
}

/// The tables object of another format's summary, with its paths moved.
fn json_with_dir(tables: &Value, from: &str, to: &str) -> Value {
    let text = tables
        .to_string()
        .replace(&format!("/{from}/"), &format!("/{to}/"))
        .replace(&format!(".{from}\""), &format!(".{to}\""));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_record_is_listed_with_its_place_and_the_counts_add_up() {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let producer = EventProducer::new(&stack.kafka, codec).unwrap();
    let events = samples::one_of_each(ANumber::parse("A000000777").unwrap());
    for e in &events {
        producer.publish(e, None).await.unwrap();
    }
    let raw: FutureProducer = stack.kafka.producer().create().unwrap();
    let delivered = raw
        .send(
            FutureRecord::to(topics::ICE)
                .key("A000000777")
                .payload("not avro"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    let into = TestStore::sqlite();
    let out = on_stack(
        &stack,
        "replay",
        &[
            "--into",
            &into.arg(),
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    let text = succeeded(&out);
    assert!(
        text.contains(&format!("{} records read", events.len() + 1)),
        "{text}"
    );
    assert!(
        text.contains(&format!("applied {}", events.len())),
        "{text}"
    );
    assert!(text.contains("rejected 1"), "{text}");
    let listed: Value =
        serde_json::from_str(std::fs::read_to_string(&rejects).unwrap().trim()).unwrap();
    assert_eq!(listed["topic"], topics::ICE);
    assert_eq!(listed["partition"], delivered.partition);
    assert_eq!(listed["offset"], delivered.offset);
    assert!(
        listed["reason"]
            .as_str()
            .unwrap()
            .contains("not Confluent-framed"),
        "{listed}"
    );
    // The export lists it too.
    let export = json_of(&on_stack(
        &stack,
        "export",
        &[
            "--format",
            "csv",
            "--out",
            dir.path().join("csv").to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(export["rejected"], 1);
    assert_eq!(export["exported"], events.len());
    assert!(dir.path().join("csv/rejects.jsonl").exists());
    // Dates that do not parse, and windows that are empty, are refused up front.
    for (args, says) in [
        (vec!["--as-of", "30/09/2021"], "write 2021-09-30"),
        (
            vec!["--from", "2022-01-01", "--as-of", "2021-01-01"],
            "the window is empty",
        ),
    ] {
        let fresh = TestStore::sqlite();
        let fresh = fresh.arg();
        let mut rest = vec!["--into", &fresh];
        rest.extend(args);
        failed_saying(&on_stack(&stack, "replay", &rest), says);
    }
    stack.stop().await;
}
