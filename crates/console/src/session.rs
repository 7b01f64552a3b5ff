//! Sign-in sessions. A person signs in with their agency's bearer token
//! (the tokens file the API uses); the console keeps the session here, in
//! memory, and gives the browser only a random session id in a signed
//! cookie (HttpOnly, SameSite=Strict, Secure unless served on loopback).
//! Signing out, 30 idle minutes or 12 hours end a session, and so does a
//! restart: the signing key is made at start and never written down.
//!
//! Each session also holds its CSRF token (every state-changing form
//! carries it) and the handles that stand for A-numbers in its links, so
//! no URL a proxy or the access log keeps ever holds an A-number.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use handoff_auth::TokenEntry;
use rand::distr::{Alphanumeric, SampleString};
use subtle::ConstantTimeEq;

const COOKIE: &str = "handoff_session";
/// The sign-in form's own CSRF token, before there is a session.
const SIGN_IN_COOKIE: &str = "handoff_sign_in";
pub const IDLE: Duration = Duration::from_secs(30 * 60);
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Handles kept per session: a worklist page makes one per row, so this
/// covers hundreds of pages; the oldest go first.
const MAX_HANDLES: usize = 20_000;

pub struct Sessions {
    key: Key,
    live: Mutex<HashMap<String, Session>>,
}

struct Session {
    token: TokenEntry,
    csrf: String,
    started: Instant,
    last_seen: Instant,
    /// Handle to A-number, and back (a worklist page asks for 50 handles;
    /// a scan of up to 20,000 for each would be on every page view).
    handles: HashMap<String, String>,
    by_a_number: HashMap<String, String>,
    handle_order: VecDeque<String>,
}

/// The signed-in person, as a request sees them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: String,
    pub token: TokenEntry,
    pub csrf: String,
}

fn random(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// Letters only: a handle in a URL never looks like part of an A-number
/// (nine digits), so a log can be checked for those with no exception.
fn letters(len: usize) -> String {
    use rand::Rng;
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| LETTERS[rng.random_range(0..LETTERS.len())] as char)
        .collect()
}

/// Equal in constant time, so a guessed CSRF token learns nothing from
/// how long the refusal took.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            key: Key::generate(),
            live: Mutex::new(HashMap::new()),
        }
    }
}

impl Sessions {
    fn jar(&self, headers: &HeaderMap) -> SignedCookieJar {
        SignedCookieJar::from_headers(headers, self.key.clone())
    }

    /// The session the request's cookie names, if it is live; touching it
    /// restarts its idle clock.
    pub fn current(&self, headers: &HeaderMap) -> Option<SignedIn> {
        let id = self.jar(headers).get(COOKIE)?.value().to_owned();
        let mut live = self.live.lock().expect("sessions lock");
        let now = Instant::now();
        let session = live.get_mut(&id)?;
        if now.duration_since(session.last_seen) > IDLE
            || now.duration_since(session.started) > LIFETIME
        {
            live.remove(&id);
            return None;
        }
        session.last_seen = now;
        Some(SignedIn {
            id,
            token: session.token.clone(),
            csrf: session.csrf.clone(),
        })
    }

    /// Starts a session for `token`; the answer's cookie jar carries it.
    pub fn start(&self, headers: &HeaderMap, token: TokenEntry) -> SignedCookieJar {
        let id = random(43);
        let now = Instant::now();
        let mut live = self.live.lock().expect("sessions lock");
        live.retain(|_, s| {
            now.duration_since(s.last_seen) <= IDLE && now.duration_since(s.started) <= LIFETIME
        });
        live.insert(
            id.clone(),
            Session {
                token,
                csrf: random(43),
                started: now,
                last_seen: now,
                handles: HashMap::new(),
                by_a_number: HashMap::new(),
                handle_order: VecDeque::new(),
            },
        );
        let cookie = cookie(headers, COOKIE, id, LIFETIME);
        self.jar(headers)
            .remove(removal(SIGN_IN_COOKIE))
            .add(cookie)
    }

    /// Ends the session: its id is forgotten here, so a copy of the
    /// cookie is worth nothing after sign-out.
    pub fn end(&self, headers: &HeaderMap, id: &str) -> SignedCookieJar {
        self.live.lock().expect("sessions lock").remove(id);
        self.jar(headers).remove(removal(COOKIE))
    }

    /// The sign-in form's CSRF token and the cookie that holds it.
    pub fn sign_in_form(&self, headers: &HeaderMap) -> (String, SignedCookieJar) {
        let jar = self.jar(headers);
        if let Some(existing) = jar.get(SIGN_IN_COOKIE) {
            let value = existing.value().to_owned();
            return (value, jar);
        }
        let value = random(43);
        let c = cookie(headers, SIGN_IN_COOKIE, value.clone(), IDLE);
        (value, jar.add(c))
    }

    /// Whether a posted sign-in form carries the token its cookie holds.
    pub fn sign_in_form_is_ours(&self, headers: &HeaderMap, posted: &str) -> bool {
        self.jar(headers)
            .get(SIGN_IN_COOKIE)
            .is_some_and(|c| same_secret(c.value(), posted))
    }

    /// A handle standing for `a_number` in this session's links.
    pub fn handle(&self, session: &SignedIn, a_number: &str) -> String {
        let mut live = self.live.lock().expect("sessions lock");
        let Some(s) = live.get_mut(&session.id) else {
            return String::new();
        };
        if let Some(h) = s.by_a_number.get(a_number) {
            return h.clone();
        }
        let h = letters(24);
        s.handles.insert(h.clone(), a_number.to_owned());
        s.by_a_number.insert(a_number.to_owned(), h.clone());
        s.handle_order.push_back(h.clone());
        while s.handle_order.len() > MAX_HANDLES {
            if let Some(old) = s.handle_order.pop_front() {
                if let Some(a) = s.handles.remove(&old) {
                    s.by_a_number.remove(&a);
                }
            }
        }
        h
    }

    /// The A-number a handle stands for, in this session only.
    pub fn a_number(&self, session: &SignedIn, handle: &str) -> Option<String> {
        let live = self.live.lock().expect("sessions lock");
        live.get(&session.id)?.handles.get(handle).cloned()
    }
}

/// A session cookie: HttpOnly, SameSite=Strict, and Secure unless the
/// console is reached on loopback over plain HTTP (the local demo).
fn cookie(
    headers: &HeaderMap,
    name: &'static str,
    value: String,
    life: Duration,
) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_secure(!on_loopback(headers));
    c.set_max_age(cookie::time::Duration::seconds(life.as_secs() as i64));
    c
}

fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::from(name);
    c.set_path("/");
    c
}

fn on_loopback(headers: &HeaderMap) -> bool {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    !https && matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_events::Agency;

    fn token() -> TokenEntry {
        TokenEntry {
            id: "orr-1".into(),
            agency: Agency::HhsOrr,
            sha256: "0".repeat(64),
        }
    }

    /// The request headers a browser sends back after the jar's answer.
    fn with_cookie(jar: &SignedCookieJar) -> HeaderMap {
        use axum::response::IntoResponse;
        let answer = jar.clone().into_response();
        let mut headers = HeaderMap::new();
        let pairs: Vec<String> = answer
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
            .filter(|pair| !pair.ends_with('='))
            .collect();
        headers.insert(header::COOKIE, pairs.join("; ").parse().unwrap());
        headers
    }

    #[test]
    fn a_session_lives_until_signed_out_and_its_handles_with_it() {
        let sessions = Sessions::default();
        let jar = sessions.start(&HeaderMap::new(), token());
        let headers = with_cookie(&jar);
        let me = sessions.current(&headers).expect("signed in");
        assert_eq!(me.token.id, "orr-1");
        let h = sessions.handle(&me, "A012345678");
        assert_eq!(
            sessions.handle(&me, "A012345678"),
            h,
            "one handle per child"
        );
        assert!(h.chars().all(|c| c.is_ascii_alphabetic()));
        assert_eq!(sessions.a_number(&me, &h).as_deref(), Some("A012345678"));
        let _ = sessions.end(&headers, &me.id);
        assert!(
            sessions.current(&headers).is_none(),
            "the old cookie is dead"
        );
        assert!(sessions.a_number(&me, &h).is_none());
    }

    #[test]
    fn a_forged_or_foreign_cookie_is_no_session() {
        let sessions = Sessions::default();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "handoff_session=guess".parse().unwrap());
        assert!(sessions.current(&headers).is_none());
        let other = Sessions::default();
        let jar = other.start(&HeaderMap::new(), token());
        assert!(
            sessions.current(&with_cookie(&jar)).is_none(),
            "signed by another key"
        );
    }

    #[test]
    fn cookies_are_secure_except_on_loopback() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        let c = cookie(&headers, COOKIE, "x".into(), IDLE);
        assert_eq!(c.secure(), Some(false));
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Strict));
        headers.insert(header::HOST, "handoff.agency.example".parse().unwrap());
        assert_eq!(
            cookie(&headers, COOKIE, "x".into(), IDLE).secure(),
            Some(true)
        );
    }
}
