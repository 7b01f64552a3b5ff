//! Static files built into the binary: the U.S. Web Design System's
//! compiled CSS and JavaScript with the fonts and icons its CSS names
//! (from the npm package, see build.rs), and the console's own few rules.
//! They are served under `/assets/`, where the CSS's relative `../fonts`
//! and `../img` find them.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/node_modules/@uswds/uswds/dist/"]
#[include = "css/uswds.min.css"]
#[include = "js/uswds.min.js"]
#[include = "js/uswds-init.min.js"]
#[include = "fonts/source-sans-pro/*.woff2"]
#[include = "fonts/merriweather/*.woff2"]
#[include = "fonts/roboto-mono/*.woff2"]
#[include = "img/*.svg"]
#[include = "img/us_flag_small.png"]
#[include = "img/usa-icons/*.svg"]
#[include = "img/usa-icons-bg/*.svg"]
struct Uswds;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Own;

/// `/assets/uswds/{*path}`.
pub async fn uswds(Path(path): Path<String>) -> Response {
    serve(&path, Uswds::get(&path))
}

/// `/assets/console/{*path}`.
pub async fn own(Path(path): Path<String>) -> Response {
    serve(&path, Own::get(&path))
}

fn serve(path: &str, file: Option<rust_embed::EmbeddedFile>) -> Response {
    match file {
        Some(file) => (
            [
                (
                    header::CONTENT_TYPE,
                    mime_guess::from_path(path)
                        .first_or_octet_stream()
                        .to_string(),
                ),
                // Built into this binary: they change only with it.
                (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
            ],
            file.data,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such asset",
        )
            .into_response(),
    }
}
