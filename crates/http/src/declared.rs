//! Refuses a query parameter the operation does not declare. A typed
//! filter that the service silently ignored (`?cuort=...` for `court`)
//! would answer an unfiltered worklist as if it were the filtered one; a
//! 400 naming the parameter and the ones the operation takes is the
//! honest answer. The OpenAPI document is the list of what each
//! operation takes, so the check and the contract cannot drift apart.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

use crate::problem::Problem;

/// The query parameters each documented operation takes, by method and
/// path template (`/v1/children/{a_number}`, as axum matches it).
#[derive(Debug, Default)]
pub struct Declared {
    operations: HashMap<(Method, String), BTreeSet<String>>,
}

impl Declared {
    pub fn of(document: &OpenApi) -> Declared {
        let mut operations = HashMap::new();
        for (path, item) in &document.paths.paths {
            let shared = item.parameters.as_deref().unwrap_or_default();
            let methods = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, operation) in methods {
                let Some(operation) = operation else { continue };
                let names = query_names(shared, operation);
                operations.insert((method, path.clone()), names);
            }
        }
        Declared { operations }
    }

    /// The parameters `method` on `path` takes; `None` for an operation
    /// the document does not describe (the console's pages, the document
    /// itself), which this check leaves alone.
    fn takes(&self, method: &Method, path: &str) -> Option<&BTreeSet<String>> {
        // A HEAD is answered by the GET's handler, with its parameters.
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.operations.get(&(method.clone(), path.to_owned()))
    }

    /// The first query parameter of `query` not in `takes`, as a problem.
    fn refuse(
        method: &Method,
        path: &str,
        query: &str,
        takes: &BTreeSet<String>,
    ) -> Option<Problem> {
        let (name, _) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| !takes.contains(name.as_ref()))?;
        let known = if takes.is_empty() {
            "it takes no query parameters".to_owned()
        } else {
            let list: Vec<&str> = takes.iter().map(String::as_str).collect();
            format!("it takes {}", list.join(", "))
        };
        Some(Problem::bad_parameter(
            &name,
            format!("{method} {path} has no query parameter {name:?}; {known} (/openapi.json describes them)"),
        ))
    }
}

/// The operation's query parameters and its path's. Handoff's routes
/// write their parameters inline; a reference to a shared one would not
/// be followed, so its name would be refused, which a test would show.
fn query_names(shared: &[RefOr<Parameter>], operation: &Operation) -> BTreeSet<String> {
    shared
        .iter()
        .chain(operation.parameters.as_deref().unwrap_or_default())
        .filter_map(|p| match p {
            RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query) => Some(p.name.clone()),
            _ => None,
        })
        .collect()
}

/// A route layer's middleware (it needs the matched path):
/// `.route_layer(from_fn_with_state(Arc<Declared>, refuse_undeclared))`.
pub async fn refuse_undeclared(
    State(declared): State<Arc<Declared>>,
    request: Request,
    next: Next,
) -> Response {
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    if let (Some(template), Some(query)) = (template, request.uri().query()) {
        if let Some(takes) = declared.takes(request.method(), &template) {
            if let Some(problem) = Declared::refuse(request.method(), &template, query, takes) {
                return problem.into_response();
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takes(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_declared_parameter_passes_and_an_undeclared_one_is_named() {
        let fta = takes(&["limit", "offset", "until"]);
        assert!(
            Declared::refuse(&Method::GET, "/v1/fta", "limit=5&until=2024-01-01", &fta).is_none()
        );
        let problem = Declared::refuse(&Method::GET, "/v1/fta", "limit=5&untl=2024-01-01", &fta)
            .expect("untl is refused");
        assert_eq!(problem.parameter.as_deref(), Some("untl"));
        assert!(
            problem.detail.contains("limit, offset, until"),
            "{}",
            problem.detail
        );
    }

    #[test]
    fn an_encoded_or_empty_name_is_read_as_sent() {
        let ingest = takes(&["name", "public"]);
        assert!(Declared::refuse(
            &Method::POST,
            "/v1/ingest/{agency}",
            "na%6De=x.csv",
            &ingest
        )
        .is_none());
        let problem = Declared::refuse(&Method::POST, "/v1/ingest/{agency}", "=false", &ingest)
            .expect("an empty name is refused");
        assert_eq!(problem.parameter.as_deref(), Some(""));
        let none = takes(&[]);
        let problem = Declared::refuse(&Method::POST, "/v1/notifications/{id}/ack", "x=1", &none)
            .expect("an operation without parameters refuses any");
        assert!(problem.detail.contains("takes no query parameters"));
    }
}
