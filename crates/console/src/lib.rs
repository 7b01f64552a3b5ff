//! The web console: what the views, the notifier and the reports know, as
//! pages a caseworker, an officer, a clerk or an analyst opens in a
//! browser. Served beside the API by `handoff up` and `handoff views`,
//! through the same data-sharing policy, audit trail and tokens, so a
//! page can never show more than the API would.
//!
//! - `session`: sign-in with an agency token, sessions, CSRF tokens, and
//!   the handles that keep A-numbers out of URLs.
//! - `layout`, `labels`, `table`, `error`: the page frame (U.S. Web Design
//!   System), how fields read, the list table, error pages.
//! - `worklists` (`worklist_page`, `home`): each agency's daily lists.
//! - `child`: one child's whole story; `inbox`: notifications to
//!   acknowledge; `listing`: the same as an API (`GET /v1/notifications`);
//!   `dashboard`: the analysts' reports as charts; `operations`: lag, dead
//!   letters, rejects, and whether broker and registry answer.
//! - `assets`: the USWDS files built into the binary.

mod assets;
pub mod child;
pub mod dashboard;
pub mod error;
pub mod home;
pub mod inbox;
pub mod labels;
pub mod layout;
pub mod listing;
pub mod operations;
pub mod session;
pub mod sign_in;
pub mod table;
pub mod worklist_page;
pub mod worklists;

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{middleware, Router};
use handoff_http::limits::time_limit;
use handoff_notify::api::AckState;
use handoff_views::api::ApiState;
use handoff_views::queries::Queries;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::PageError;
pub use operations::Operations;
use session::{Sessions, SignedIn};

/// What the console reads, and its sessions.
pub struct Console {
    /// The views' store, policy, tokens and metrics (the API's own).
    pub views: Arc<ApiState>,
    /// The notifier's store and subscribers, where this process runs it
    /// (`handoff up`); without it, the inbox says where to look instead.
    pub notify: Option<Arc<AckState>>,
    pub operations: Operations,
    pub sessions: Sessions,
}

impl Console {
    pub fn new(
        views: Arc<ApiState>,
        notify: Option<Arc<AckState>>,
        operations: Operations,
    ) -> Self {
        Console {
            views,
            notify,
            operations,
            sessions: Sessions::default(),
        }
    }

    fn queries(&self) -> Queries<'_> {
        Queries {
            store: &self.views.store,
            catalogue: &self.views.catalogue,
        }
    }

    /// The signed-in person, counted against their token's rate as an API
    /// request is; without a session, the sign-in page.
    fn signed_in(&self, headers: &HeaderMap) -> Result<SignedIn, PageError> {
        let me = self.sessions.current(headers).ok_or(PageError::SignIn)?;
        self.views
            .guard
            .count(&me.token)
            .map_err(|p| PageError::TooMany(p.detail.clone()))?;
        Ok(me)
    }

    /// Whether the form's CSRF token is the session's.
    fn check_csrf(&self, me: &SignedIn, posted: &str) -> Result<(), PageError> {
        if session::same_secret(&me.csrf, posted) {
            Ok(())
        } else {
            Err(PageError::Forged)
        }
    }

    /// Records a read of children's data, as the API does, before the
    /// page is sent.
    async fn audit(
        &self,
        me: &SignedIn,
        endpoint: &str,
        a_numbers: &[String],
    ) -> Result<(), PageError> {
        let mut a_numbers = a_numbers.to_vec();
        a_numbers.sort();
        a_numbers.dedup();
        handoff_views::audit::record(
            &self.views.store,
            me.token.agency,
            &me.token.id,
            endpoint,
            &a_numbers,
        )
        .await
        .map_err(|e| PageError::Unavailable(format!("audit failed, so no page: {e}")))
    }
}

/// The console's pages and assets (not in the OpenAPI document: they are
/// for people), and the notification listing (an API, in the document).
pub fn router(console: Arc<Console>) -> OpenApiRouter {
    let limit = console.views.guard.limits().timeout;
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/worklists/{slug}", get(worklist_page::show))
        .route("/children", get(child::find_form).post(child::find))
        .route("/children/{handle}", get(child::show))
        .route("/inbox", get(inbox::subscribers))
        .route("/inbox/{subscriber}", get(inbox::show))
        .route("/inbox/{subscriber}/ack", post(inbox::acknowledge))
        .route("/dashboard", get(dashboard::show))
        .route("/dashboard/{file}", get(dashboard::download))
        .route("/operations", get(operations::show))
        .layer(middleware::from_fn_with_state(limit, time_limit))
        .with_state(console.clone())
        .route("/assets/uswds/{*path}", get(assets::uswds))
        .route("/assets/console/{*path}", get(assets::own));
    OpenApiRouter::new()
        .routes(routes!(listing::notifications))
        .layer(middleware::from_fn_with_state(limit, time_limit))
        .with_state(console)
        .merge(OpenApiRouter::from(pages))
}
