//! The web console in a real browser: headless Chromium driven through
//! WebDriver against `handoff up --demo`, signed in as each agency. Each
//! worklist's count is the API's total for the same filter; ORR's pages
//! never show what its policy withholds (checked on the page text for
//! values planted in ICE-only fields); a child's page shows every
//! timeline event the policy allows; an acknowledgement made in the
//! inbox is the API's; a chart's bars are the report's JSON; signing out
//! ends the session; a form without the CSRF token is refused; axe-core
//! finds no serious or critical violation on any page. Screenshots of
//! each page go to `<target>/console-screenshots/`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::Locator;
use handoff_bus::{EventProducer, KafkaConfig};
use handoff_e2e::browser::Browser;
use handoff_e2e::{handoff_bin, UpProcess};
use handoff_events::{samples, ANumber, Catalogue, Codec, Event};
use serde_json::Value;

/// A child planted with ICE-only values ORR must never see.
const PLANTED: &str = "A099887766";
const ICE_ONLY_AOR: &str = "ZQX";
const ICE_ONLY_CONCERN: &str = "PLANTED-ICE-7731";

struct Api {
    base: String,
    secrets: HashMap<String, String>,
}

impl Api {
    async fn get(&self, agency: &str, path: &str) -> Value {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.secrets[agency])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{agency} GET {path}");
        response.json().await.unwrap()
    }

    /// The API's total for a worklist's API call.
    async fn total(&self, agency: &str, call: &str) -> i64 {
        let sep = if call.contains('?') { '&' } else { '?' };
        self.get(agency, &format!("{call}{sep}limit=1")).await["total"]
            .as_i64()
            .unwrap()
    }
}

/// What every page visited is checked for: axe-core's findings, and the
/// URLs it and its assets were loaded from.
#[derive(Default)]
struct Visits {
    violations: Vec<String>,
    urls: Vec<String>,
}

impl Visits {
    /// Checks the page the browser shows and saves its screenshot.
    async fn check(&mut self, b: &Browser, name: &str) {
        b.screenshot(name).await;
        for v in b.accessibility_violations().await {
            self.violations.push(format!("{name}: {v}"));
        }
        self.urls.push(b.url().await);
        let loaded = b
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name);",
                vec![],
            )
            .await
            .unwrap();
        for u in loaded.as_array().into_iter().flatten() {
            self.urls.push(u.as_str().unwrap_or_default().to_owned());
        }
    }
}

fn demo_secrets(dir: &Path) -> HashMap<String, String> {
    toml::from_str(&std::fs::read_to_string(dir.join("demo-secrets.toml")).unwrap()).unwrap()
}

async fn fill(b: &Browser, id: &str, text: &str) {
    let field = b.client.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn sign_in(b: &Browser, base: &str, secret: &str) {
    b.goto(&format!("{base}/sign-in")).await;
    fill(b, "token", secret).await;
    b.click_to_load("form[action='/sign-in'] button[type=submit]")
        .await;
    assert_eq!(b.url().await, format!("{base}/"), "signed in, home");
}

/// The worklist page's count and the API call it names.
async fn worklist_count(b: &Browser) -> (i64, String) {
    let total = b
        .attr("nav.usa-pagination [data-total]", "data-total")
        .await
        .unwrap()
        .parse()
        .unwrap();
    (total, b.attr("code[data-api]", "data-api").await.unwrap())
}

/// Opens each of `agency`'s worklists from its home page and checks its
/// count against the API.
async fn worklists_match_the_api(b: &Browser, api: &Api, agency: &str, visits: &mut Visits) {
    let cards = b
        .client
        .find_all(Locator::Css("[data-worklist]"))
        .await
        .unwrap();
    let mut slugs = Vec::new();
    for card in cards {
        slugs.push(card.attr("data-worklist").await.unwrap().unwrap());
    }
    assert!(!slugs.is_empty(), "{agency} has worklists");
    for slug in slugs {
        b.goto(&format!("{}/worklists/{slug}", api.base)).await;
        let (total, call) = worklist_count(b).await;
        assert_eq!(
            total,
            api.total(agency, &call).await,
            "{agency} {slug}: page and API ({call})"
        );
        visits
            .check(b, &format!("{}-{slug}", agency.to_lowercase()))
            .await;
    }
}

/// The number of timeline rows the child's page shows.
async fn timeline_rows(b: &Browser) -> usize {
    b.attr("[data-timeline-rows]", "data-timeline-rows")
        .await
        .unwrap()
        .parse()
        .unwrap()
}

async fn open_child(b: &Browser, base: &str, a_number: &str) {
    b.goto(&format!("{base}/children")).await;
    fill(b, "a_number", a_number).await;
    b.click_to_load("form[action='/children'] button[type=submit]")
        .await;
    assert!(
        b.url().await.starts_with(&format!("{base}/children/")),
        "the child's page"
    );
}

/// Publishes a child with every event type, whose area of responsibility
/// and safety concern are values found nowhere else, and waits until the
/// views have it.
async fn plant_child(up: &UpProcess, api: &Api) {
    let a = ANumber::parse(PLANTED).unwrap();
    let producer = EventProducer::new(
        &KafkaConfig::new(up.broker.clone()),
        Codec::new(&up.registry, std::sync::Arc::new(Catalogue::embedded())),
    )
    .unwrap();
    for mut event in samples::one_of_each(a) {
        match &mut event {
            Event::ChildEncountered(e) => e.area_of_responsibility = ICE_ONLY_AOR.into(),
            Event::FieldOfficeAssigned(e) => e.area_of_responsibility = ICE_ONLY_AOR.into(),
            Event::SafetyConcernRaised(e) => e.concern_id = ICE_ONLY_CONCERN.into(),
            _ => {}
        }
        producer.publish(&event, None).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = reqwest::Client::new()
            .get(format!("{}/v1/children/{PLANTED}", api.base))
            .bearer_auth(&api.secrets["ICE"])
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let v: Value = r.json().await.unwrap();
            if v["child"]["safety_concerns"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
            {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the planted child reached the views"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The session cookie the browser holds, as a request header.
async fn session_cookie(b: &Browser) -> String {
    let c = b.client.get_named_cookie("handoff_session").await.unwrap();
    format!("handoff_session={}", c.value())
}

async fn with_cookie(base: &str, cookie: &str, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// Nine digits in a row: an A-number. (Ports have five; the console's
/// handles are letters only.)
fn has_a_number(text: &str) -> bool {
    text.as_bytes()
        .windows(9)
        .any(|w| w.iter().all(u8::is_ascii_digit))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_serves_each_agency_what_its_policy_allows() {
    let dir = tempfile::tempdir().unwrap();
    let up = UpProcess::start(
        dir.path(),
        &["--demo", "--rate-limit", "100000", "--rate-burst", "100000"],
    );
    let api = Api {
        base: up.http.clone(),
        secrets: demo_secrets(dir.path()),
    };
    let base = api.base.clone();
    plant_child(&up, &api).await;
    let b = Browser::start().await;
    let mut visits = Visits::default();

    // Before sign-in every page leads to the sign-in page.
    b.goto(&format!("{base}/worklists/ice-missed-hearings"))
        .await;
    assert_eq!(b.url().await, format!("{base}/sign-in"));
    visits.check(&b, "sign-in").await;

    // ICE.
    sign_in(&b, &base, &api.secrets["ICE"]).await;
    visits.check(&b, "ice-home").await;
    worklists_match_the_api(&b, &api, "ICE", &mut visits).await;

    // A filter and a sort, through the form and the column header.
    let first = api
        .get("ICE", "/v1/fta?without_follow_up=true&limit=1")
        .await;
    let court = first["items"][0]["court"].as_str().unwrap().to_owned();
    b.goto(&format!("{base}/worklists/ice-missed-hearings"))
        .await;
    fill(&b, "court", &court).await;
    b.click_to_load("form.handoff-filters button[type=submit]")
        .await;
    let (filtered, call) = worklist_count(&b).await;
    assert!(call.contains(&format!("court={court}")), "{call}");
    assert_eq!(
        filtered,
        api.total("ICE", &call).await,
        "filtered by court {court}"
    );
    b.click_to_load("th a[href*='sort=hearing_at']").await;
    assert_eq!(
        b.attr("th[aria-sort]", "aria-sort").await.as_deref(),
        Some("ascending")
    );
    assert_eq!(
        worklist_count(&b).await.0,
        filtered,
        "sorting keeps the rows"
    );

    // The keyboard: the first Tab reaches the skip link, which moves
    // focus to the content.
    b.client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("class").await.unwrap().as_deref(),
        Some("usa-skipnav")
    );
    focused.send_keys(&Key::Enter.to_string()).await.unwrap();
    assert!(b.url().await.ends_with("#main-content"));

    // ICE's page of the planted child shows ICE's own values (the control
    // for ORR's check below) and every event of its timeline.
    open_child(&b, &base, PLANTED).await;
    let text = b.page_text().await;
    assert!(
        text.contains(ICE_ONLY_AOR) && text.contains(ICE_ONLY_CONCERN),
        "{text}"
    );
    let ice_child = api.get("ICE", &format!("/v1/children/{PLANTED}")).await;
    assert_eq!(
        timeline_rows(&b).await,
        ice_child["child"]["timeline"].as_array().unwrap().len()
    );
    visits.check(&b, "ice-child").await;

    // The inbox: acknowledge with a follow-up, as ERO would.
    b.goto(&format!("{base}/inbox")).await;
    visits.check(&b, "ice-inbox").await;
    let subscriber = b.text("table tbody tr td a").await.trim().to_owned();
    let open = api
        .get(
            "ICE",
            &format!(
                "/v1/notifications?subscriber={subscriber}&acknowledged=false&state=delivered"
            ),
        )
        .await;
    assert!(open["total"].as_i64().unwrap() >= 2, "{open}");
    b.goto(&format!(
        "{base}/inbox/{subscriber}?acknowledged=false&state=delivered"
    ))
    .await;
    visits.check(&b, "ice-inbox-subscriber").await;
    let id = b
        .attr("form[action$='/ack'] input[name=id]", "value")
        .await
        .unwrap();
    // USWDS draws the checkbox on its label; the input itself is hidden.
    b.click("form[action$='/ack'] label.usa-checkbox__label")
        .await;
    b.click_to_load("form[action$='/ack'] button[type=submit]")
        .await;
    assert!(b.page_text().await.contains("Acknowledged"));
    let acked = api
        .get(
            "ICE",
            &format!("/v1/notifications?subscriber={subscriber}&acknowledged=true"),
        )
        .await;
    let mine = acked["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"].as_i64() == id.parse().ok())
        .unwrap_or_else(|| panic!("notification {id} is acknowledged in the API: {acked}"));
    assert_eq!(mine["follow_up"], true);
    assert_eq!(mine["acknowledged_by"], "demo-ice");
    let again: Value = reqwest::Client::new()
        .post(format!("{base}/v1/notifications/{id}/ack"))
        .bearer_auth(&api.secrets["ICE"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["already_acknowledged"], true, "{again}");

    // Catching up after a gap: everything after a sequence number, in order.
    let after = api
        .get(
            "ICE",
            &format!("/v1/notifications?subscriber={subscriber}&after_sequence=3&limit=50"),
        )
        .await;
    let sequences: Vec<i64> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences.first(), Some(&4), "{sequences:?}");
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "{sequences:?}"
    );

    // A forged form: the session's cookie, no CSRF token. Refused, and
    // nothing changed.
    let cookie = session_cookie(&b).await;
    let other = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["id"].as_i64())
        .find(|n| n.to_string() != id)
        .unwrap();
    let forged = reqwest::Client::new()
        .post(format!("{base}/inbox/{subscriber}/ack"))
        .header("cookie", &cookie)
        .form(&[("id", other.to_string().as_str()), ("follow_up", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("security token"));
    let still = api
        .get(
            "ICE",
            &format!("/v1/notifications?subscriber={subscriber}&acknowledged=false"),
        )
        .await;
    assert!(
        still["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"].as_i64() == Some(other)),
        "the forged acknowledgement changed nothing"
    );

    // The dashboard's bars are the report's JSON.
    let as_of = "2024-09-30";
    b.goto(&format!("{base}/dashboard?as_of={as_of}")).await;
    visits.check(&b, "dashboard").await;
    for report in [
        "fta-by-fiscal-year",
        "nta-backlog",
        "address-quality",
        "discrepancies",
    ] {
        let out = Command::new(handoff_bin())
            .args([
                "report", report, "--format", "json", "--as-of", as_of, "--store",
            ])
            .arg(dir.path().join("views.db"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows: Vec<&Value> = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r.as_object().unwrap().values().any(|v| v == "all"))
            .collect();
        let bars = b
            .client
            .find_all(Locator::Css(&format!(
                "figure[data-report='{report}'] rect[data-value]"
            )))
            .await
            .unwrap();
        let mut groups: Vec<(String, Vec<(String, f64)>)> = Vec::new();
        for bar in bars {
            let group = bar.attr("data-group").await.unwrap().unwrap();
            let series = bar.attr("data-series").await.unwrap().unwrap();
            let value: f64 = bar
                .attr("data-value")
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap();
            match groups.last_mut() {
                Some((g, bars)) if *g == group => bars.push((series, value)),
                _ => groups.push((group, vec![(series, value)])),
            }
        }
        assert_eq!(
            groups.len(),
            rows.len(),
            "{report}: one group of bars per row"
        );
        for ((group, bars), row) in groups.iter().zip(&rows) {
            for (series, value) in bars {
                assert_eq!(
                    row[series].as_f64(),
                    Some(*value),
                    "{report} {group} {series}"
                );
            }
        }
    }

    b.goto(&format!("{base}/operations")).await;
    let text = b.page_text().await;
    assert!(
        text.contains("Broker: Answers") && text.contains("Schema registry: Answers"),
        "{text}"
    );
    visits.check(&b, "operations").await;

    // Signing out ends the session: the old cookie is worth nothing.
    b.click_to_load("form[action='/sign-out'] button[type=submit]")
        .await;
    assert!(b.url().await.ends_with("/sign-in?signed_out=1"));
    let after_sign_out = with_cookie(&base, &cookie, "/").await;
    assert_eq!(after_sign_out.status(), 303);
    assert_eq!(after_sign_out.headers()["location"], "/sign-in");

    // HHS ORR.
    sign_in(&b, &base, &api.secrets["HHS_ORR"]).await;
    visits.check(&b, "orr-home").await;
    worklists_match_the_api(&b, &api, "HHS_ORR", &mut visits).await;
    open_child(&b, &base, PLANTED).await;
    let text = b.page_text().await;
    for withheld in [
        ICE_ONLY_AOR,
        ICE_ONLY_CONCERN,
        "Area of responsibility",
        "Safety concerns",
    ] {
        assert!(!text.contains(withheld), "ORR's page shows {withheld:?}");
    }
    let orr_child = api.get("HHS_ORR", &format!("/v1/children/{PLANTED}")).await;
    let orr_timeline = orr_child["child"]["timeline"].as_array().unwrap().len();
    assert_eq!(timeline_rows(&b).await, orr_timeline);
    assert!(orr_timeline < ice_child["child"]["timeline"].as_array().unwrap().len());
    visits.check(&b, "orr-child").await;
    // A list ORR's policy does not grant: 403, with a page that says so.
    b.goto(&format!("{base}/worklists/ice-nta-backlog")).await;
    assert!(b.page_text().await.contains("does not grant HHS ORR"));
    visits.check(&b, "orr-forbidden").await;
    let forbidden = with_cookie(
        &base,
        &session_cookie(&b).await,
        "/worklists/ice-nta-backlog",
    )
    .await;
    assert_eq!(forbidden.status(), 403);
    b.goto(&format!("{base}/")).await;
    b.click_to_load("form[action='/sign-out'] button[type=submit]")
        .await;

    // DOJ EOIR.
    sign_in(&b, &base, &api.secrets["DOJ_EOIR"]).await;
    visits.check(&b, "eoir-home").await;
    worklists_match_the_api(&b, &api, "DOJ_EOIR", &mut visits).await;
    b.close().await;

    assert!(
        visits.violations.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        visits.violations.join("\n")
    );
    for url in &visits.urls {
        assert!(!has_a_number(url), "an A-number in a URL: {url}");
    }
    let log = std::fs::read_to_string(dir.path().join("handoff.log")).unwrap_or_default();
    assert!(
        !log.contains(&PLANTED[1..]),
        "the planted A-number in the log"
    );
    up.sigterm_and_wait();
}

/// The check of the check: the same axe-core run finds the violations of
/// a page that breaks the rules, so an empty list above means something.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_core_reports_a_page_that_breaks_the_rules() {
    let b = Browser::start().await;
    b.goto("data:text/html,<html><body><img src='x.png'><input type='text'></body></html>")
        .await;
    let found = b.accessibility_violations().await;
    b.close().await;
    for rule in ["image-alt", "html-has-lang", "label"] {
        assert!(
            found.iter().any(|v| v.starts_with(rule)),
            "{rule} not in {found:?}"
        );
    }
}
