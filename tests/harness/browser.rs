//! A real headless Chromium (Debian's `chromium`) driven through
//! WebDriver (Debian's `chromedriver`, started here on a free port), for
//! the console's browser tests: pages, forms, screenshots, and axe-core
//! (from npm, installed by the set-up) run inside the page.

use std::path::PathBuf;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ElementRef};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::repo_root;

/// How long a page may take to load after a click: the console answers
/// in milliseconds, so this is only there to end a test that would
/// otherwise hang.
const PAGE_LOAD: Duration = Duration::from_secs(30);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Where the screenshots go: under the target directory, where CI keeps
/// its artefacts.
pub fn screenshot_dir() -> PathBuf {
    // The test executable is <target>/<profile>/deps/<test>.
    let exe = std::env::current_exe().expect("test exe path");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the target directory")
        .join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (scripts/setup.sh installs Debian's chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = reqwest::get(format!("{url}/status"))
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if ready.is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {url} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("a browser profile");
        // As root, in a closed network: no sandbox, and no background
        // connections (whose refusals would fill the log).
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session in Chromium");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    /// The first element `css` finds; a test that expects one fails with
    /// the selector and the page it was looked for on.
    async fn find(&self, css: &str) -> Element {
        let url = self.url().await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on {url}: {e}"))
    }

    /// Clicks the first element `css` finds, for a click that loads no
    /// page (a checkbox); `click_to_load` is for those that do.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Clicks the first element `css` finds (a form's button, a link) and
    /// returns once the page it loads has replaced this one. WebDriver's
    /// click returns when the click is dispatched, not when a form's
    /// submission has loaded: a read straight after could read the old
    /// page, or find an element of it that goes stale as the new page
    /// replaces it. The sign of the new page is a document root with a new
    /// element reference, which works even when the new page has the same
    /// address (a POST that redirects back). Only the current document is
    /// asked: asking the old root whether it is stale is what ChromeDriver
    /// can answer mid-navigation with an unknown error ("Node with given id
    /// does not belong to the document", SeleniumHQ/selenium#15401)
    /// instead of a stale reference.
    pub async fn click_to_load(&self, css: &str) {
        let old = self.root().await.expect("a loaded page");
        self.click(css).await;
        let deadline = Instant::now() + PAGE_LOAD;
        while self.root().await.is_none_or(|root| root == old) {
            assert!(
                Instant::now() < deadline,
                "clicking {css} loaded no page within {PAGE_LOAD:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.client
            .wait()
            .at_most(PAGE_LOAD)
            .for_element(Locator::Css("body"))
            .await
            .unwrap_or_else(|e| panic!("the page {css} loads has no body: {e}"));
    }

    /// The current document's root, as WebDriver refers to it; `None`
    /// between the old document's teardown and the new one's parse, when
    /// the document has no root yet.
    async fn root(&self) -> Option<ElementRef> {
        match self.client.find(Locator::Css("html")).await {
            Ok(root) => Some(root.element_id()),
            Err(e) if e.is_no_such_element() => None,
            Err(e) => panic!("the document's root: {e}"),
        }
    }

    /// The text of the first element `css` finds.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attribute")
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    /// The visible text of the whole page.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png)
            .expect("screenshot written");
    }

    /// axe-core's serious and critical violations on the page, one line
    /// each (rule, impact, how many elements, the first element).
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = repo_root().join("crates/console/web/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe)
            .unwrap_or_else(|e| panic!("{}: {e}; run scripts/setup.sh (npm ci)", axe.display()));
        self.client
            .execute(&source, vec![])
            .await
            .expect("axe-core loads");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations))
                    .catch(e => done([{ id: 'axe-failed', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        found
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v: Value| {
                format!(
                    "{} ({}): {}; {} elements, e.g. {}",
                    v["id"].as_str().unwrap_or_default(),
                    v["impact"].as_str().unwrap_or_default(),
                    v["help"].as_str().unwrap_or_default(),
                    v["nodes"].as_array().map_or(0, Vec::len),
                    v["nodes"][0]["html"].as_str().unwrap_or_default()
                )
            })
            .collect()
    }

    pub async fn close(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
