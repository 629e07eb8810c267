//! Pages the server renders with no script (API tokens, company sign-in's
//! answers and switch): the status page's style, no caching, a strict policy.

use crate::public::page::{esc, STYLE};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A whole page: `title` as its heading, `body` as already-escaped HTML,
/// `style` added to the status page's.
pub(crate) fn render(status: StatusCode, title: &str, body: &str, style: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Calmroom</title><style>{STYLE}{style}</style></head><body><main>\
         <p class=\"meta\"><a href=\"/\">Calmroom</a> · <a href=\"/account\">Your account</a></p>\
         <h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                 form-action 'self'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}
