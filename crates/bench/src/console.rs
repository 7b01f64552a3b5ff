//! The console's pages at a whole history: the server's time per page
//! (the handler, its queries on the views' SQLite store, the audit record
//! and the rendering), measured in this process through the console's
//! own router, so neither a browser nor the network is in the figure.
//!
//! The history is generated, ingested by the three adapters and replayed
//! into a fresh SQLite store: the store `handoff up` would hold. Each page
//! is then asked for many times in a row as the agency it belongs to, and
//! its p50 and p99 taken. Target: p99 under 200 ms for every worklist and
//! a child's page.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use handoff_auth::{new_token, Tokens};
use handoff_console::{Console, Operations};
use handoff_events::{Agency, Catalogue};
use handoff_http::{Guard, Limits};
use handoff_store::StoreLocation;
use handoff_views::api::ApiState;
use handoff_views::policy::Policy;
use handoff_views::Metrics;
use tower::ServiceExt;

use crate::process::run_to_end;
use crate::scale::{generate, ingest, say, ADAPTERS};
use crate::stack::{args, BenchStack};
use crate::{BenchError, Scale};

/// p99 under this, for every worklist and a child's page.
pub const TARGET_P99_MS: f64 = 200.0;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PageFigures {
    /// The page as asked for (a child's page: `/children/{handle}`).
    pub page: String,
    /// The agency it was asked for as.
    pub agency: String,
    /// Whether the 200 ms target applies (worklists and a child's page).
    pub targeted: bool,
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ConsoleFigures {
    pub children: u64,
    pub events: u64,
    pub store_mb: f64,
    pub pages: Vec<PageFigures>,
}

fn run_error(what: impl std::fmt::Display) -> BenchError {
    BenchError::Run(what.to_string())
}

/// Generates `children`, ingests them and replays them into a store, then
/// measures every page on it.
pub async fn run(
    bin: &Path,
    dir: &Path,
    children: u64,
    scale: Scale,
) -> Result<ConsoleFigures, BenchError> {
    let gen = generate(bin, dir, children)?;
    let mut stack = BenchStack::start(bin, &dir.join("stack")).await?;
    for (adapter, _) in ADAPTERS {
        say(&format!("console: ingest {adapter}"));
        ingest(bin, dir, &stack, &gen, adapter)?;
        stack.check()?;
    }
    let events = crate::catch_up::log_size(&stack).await?;
    say("console: replay into the views' SQLite store");
    let store_path = dir.join("views.db");
    let mut list = args(&["replay", "--into", &store_path.display().to_string()]);
    list.extend(stack.client_args());
    list.extend(args(&[
        "--rejects",
        &dir.join("replay-rejects.jsonl").display().to_string(),
    ]));
    run_to_end(bin, "replay", &list, dir)?;
    let store_mb = std::fs::metadata(&store_path).map_or(0.0, |m| m.len() as f64 / 1e6);

    say("console: pages");
    let pages = measure_pages(&store_path, &stack, scale).await?;
    stack.check()?;
    Ok(ConsoleFigures {
        children,
        events,
        store_mb,
        pages,
    })
}

/// A signed-in browser, as far as the server can tell: its cookies.
struct Session {
    agency: Agency,
    cookie: String,
}

async fn call(
    app: &Router,
    request: Request<Body>,
) -> Result<(StatusCode, Vec<String>, String, String), BenchError> {
    let response = app.clone().oneshot(request).await.map_err(run_error)?;
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(run_error)?;
    Ok((
        status,
        cookies,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("a request")
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "127.0.0.1")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("a request")
}

/// The value of `name="csrf"` on a page.
fn csrf(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(page[at..].split('"').next()?.to_owned())
}

async fn sign_in(app: &Router, agency: Agency, secret: &str) -> Result<Session, BenchError> {
    let (_, cookies, _, page) = call(app, get("/sign-in", "")).await?;
    let form_cookie = cookies.join("; ");
    let token = csrf(&page).ok_or_else(|| run_error("the sign-in page has no CSRF token"))?;
    let (status, cookies, _, _) = call(
        app,
        post(
            "/sign-in",
            &form_cookie,
            &format!("csrf={token}&token={secret}"),
        ),
    )
    .await?;
    if status != StatusCode::SEE_OTHER {
        return Err(run_error(format!(
            "signing in as {} answered {status}",
            agency.symbol()
        )));
    }
    Ok(Session {
        agency,
        cookie: cookies
            .into_iter()
            .filter(|c| c.starts_with("handoff_session="))
            .collect(),
    })
}

/// Times `requests` GETs of `path` in a row.
async fn time_page(
    app: &Router,
    s: &Session,
    path: &str,
    requests: u64,
    targeted: bool,
) -> Result<PageFigures, BenchError> {
    let mut took = Vec::with_capacity(requests as usize);
    for _ in 0..requests {
        let started = Instant::now();
        let (status, _, _, _) = call(app, get(path, &s.cookie)).await?;
        took.push(started.elapsed());
        if status != StatusCode::OK {
            return Err(run_error(format!(
                "{path} as {} answered {status}",
                s.agency.symbol()
            )));
        }
    }
    Ok(figures(path, s.agency, targeted, &mut took))
}

fn figures(page: &str, agency: Agency, targeted: bool, took: &mut [Duration]) -> PageFigures {
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(took[((took.len() as f64 * q).ceil() as usize).clamp(1, took.len()) - 1]);
    PageFigures {
        page: page.to_owned(),
        agency: agency.symbol().to_owned(),
        targeted,
        requests: took.len() as u64,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: ms(took[took.len() - 1]),
    }
}

async fn measure_pages(
    store_path: &Path,
    stack: &BenchStack,
    scale: Scale,
) -> Result<Vec<PageFigures>, BenchError> {
    let store = handoff_views::schema::open_store(&StoreLocation::Sqlite(store_path.to_owned()))
        .await
        .map_err(run_error)?;
    let mut secrets = Vec::new();
    let mut entries = Vec::new();
    for agency in Agency::ALL {
        let (secret, entry) =
            new_token(&format!("bench-{}", agency.symbol().to_lowercase()), agency);
        secrets.push((agency, secret));
        entries.push(entry);
    }
    // The rate limit is not what is measured.
    let limits = Limits {
        per_second: 1_000_000,
        burst: 1_000_000,
        ..Limits::default()
    };
    let api = Arc::new(ApiState {
        store,
        catalogue: Arc::new(Catalogue::embedded()),
        policy: Policy::shipped(),
        guard: Arc::new(Guard::new(Tokens { tokens: entries }, limits)),
        metrics: Arc::new(Metrics::default()),
    });
    let operations = Operations {
        consumers: Vec::new(),
        kafka: stack.kafka.clone(),
        registry_url: stack.registry_url.clone(),
        rejects_dir: None,
    };
    let console = Arc::new(Console::new(api.clone(), None, operations));
    let (app, _) = handoff_console::router(console).split_for_parts();

    let mut sessions = Vec::new();
    for (agency, secret) in &secrets {
        sessions.push(sign_in(&app, *agency, secret).await?);
    }
    let (requests, children) = match scale {
        Scale::Quick => (10, 10),
        Scale::Full => (200, 200),
    };
    // Some children to open, spread over the whole store, and a court
    // and area of responsibility to filter by.
    let picked = api
        .store
        .query(
            "SELECT a_number FROM children WHERE released_at IS NOT NULL ORDER BY a_number",
            vec![],
        )
        .await
        .map_err(run_error)?;
    let step = (picked.len() / children).max(1);
    let a_numbers: Vec<String> = picked
        .iter()
        .step_by(step)
        .take(children)
        .filter_map(|r| r[0].as_str().map(str::to_owned))
        .collect();
    let common = |column: &str| {
        format!("SELECT {column} FROM ftas WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY COUNT(*) DESC LIMIT 1")
    };
    let first = |rows: Vec<Vec<handoff_store::Value>>| {
        rows.first()
            .and_then(|r| r[0].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let court = first(
        api.store
            .query(&common("court"), vec![])
            .await
            .map_err(run_error)?,
    );
    let aor = first(
        api.store
            .query(&common("area_of_responsibility"), vec![])
            .await
            .map_err(run_error)?,
    );

    let as_agency = |a: Agency| {
        sessions
            .iter()
            .find(|s| s.agency == a)
            .expect("a session per agency")
    };
    let (ice, orr, eoir) = (
        as_agency(Agency::Ice),
        as_agency(Agency::HhsOrr),
        as_agency(Agency::DojEoir),
    );
    let worklists: Vec<(&Session, String)> = vec![
        (ice, "/worklists/ice-missed-hearings".into()),
        (
            ice,
            format!("/worklists/ice-missed-hearings?court={court}&sort=-hearing_at"),
        ),
        (
            ice,
            format!("/worklists/ice-missed-hearings?aor={aor}&since=2020-01-01&until=2022-12-31"),
        ),
        (ice, "/worklists/ice-nta-backlog".into()),
        (
            ice,
            "/worklists/ice-nta-backlog?bucket=180-365&sort=area_of_responsibility&offset=1000"
                .into(),
        ),
        (ice, "/worklists/ice-safety-concerns".into()),
        (
            ice,
            format!("/worklists/ice-safety-concerns?aor={aor}&sort=-open_safety_concerns"),
        ),
        (orr, "/worklists/orr-missed-hearings".into()),
        (
            orr,
            format!("/worklists/orr-missed-hearings?court={court}&sort=-last_fta_at"),
        ),
        (
            orr,
            "/worklists/orr-upcoming-hearings?as_of=2024-06-30".into(),
        ),
        (eoir, "/worklists/eoir-address-differs".into()),
        (
            eoir,
            format!("/worklists/eoir-address-differs?court={court}&sort=-latest_address_at"),
        ),
    ];
    let mut pages = Vec::new();
    for (session, path) in &worklists {
        say(&format!("console: {path}"));
        pages.push(time_page(&app, session, path, requests, true).await?);
    }
    for session in [ice, orr] {
        say(&format!(
            "console: a child's page as {}",
            session.agency.symbol()
        ));
        let mut took = Vec::new();
        for a in &a_numbers {
            let page = call(&app, get("/children", &session.cookie)).await?.3;
            let token = csrf(&page).ok_or_else(|| run_error("the find form has no CSRF token"))?;
            let (_, _, location, _) = call(
                &app,
                post(
                    "/children",
                    &session.cookie,
                    &format!("csrf={token}&a_number={a}"),
                ),
            )
            .await?;
            let started = Instant::now();
            let (status, _, _, _) = call(&app, get(&location, &session.cookie)).await?;
            took.push(started.elapsed());
            if status != StatusCode::OK {
                return Err(run_error(format!("a child's page answered {status}")));
            }
        }
        pages.push(figures(
            "/children/{handle}",
            session.agency,
            true,
            &mut took,
        ));
    }
    let signed_out = Session {
        agency: Agency::Ice,
        cookie: String::new(),
    };
    for (session, path, n) in [
        (ice, "/", requests),
        (&signed_out, "/sign-in", requests),
        (ice, "/dashboard?as_of=2024-09-30", (requests / 10).max(3)),
    ] {
        say(&format!("console: {path}"));
        pages.push(time_page(&app, session, path, n, false).await?);
    }
    Ok(pages)
}
