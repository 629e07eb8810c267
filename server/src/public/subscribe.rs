//! The script-free screens of e-mail subscriptions: sign up, confirm, choose
//! components, leave (including RFC 8058 one-click POSTs from mail clients).
//! Nothing changes on a GET: mail scanners follow links. Every screen but
//! the sign-up needs the token from a mail; an address alone opens nothing.

use super::page::{document, esc, subscribe_form};
use super::PublicState;
use app::domain::subscriptions::{SubscriberEmail, PER_ADDRESS, PER_CLIENT};
use app::domain::throttle::ThrottleDecision;
use app::store::subscriptions::{self, SubscribeError, Subscription};
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;

/// Forms are small: an address and some component ids.
const FORM_LIMIT: usize = 16 * 1024;
/// Component ids accepted in one form.
const MAX_COMPONENTS: usize = 200;

pub(super) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PublicState: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/status/subscribe", axum::routing::post(sign_up))
        .route(
            "/status/subscription/confirm",
            get(confirm_page).post(confirm),
        )
        .route("/status/subscription", get(manage_page).post(save))
        .route("/status/unsubscribe", get(leave_page).post(leave))
}

/// A subscription screen: never cached, and the token in its address never
/// sent to another site. The referrer policy is `same-origin`, not
/// `no-referrer`: with that, browsers send `Origin: null` with the page's own
/// forms, and the cross-site guard refuses them.
fn page(state: &PublicState, status: StatusCode, heading: &str, inner: &str) -> Response {
    let title = &state.site.settings().title;
    let mut response = (status, document(title, heading, inner)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

fn off(state: &PublicState) -> Response {
    page(
        state,
        StatusCode::NOT_FOUND,
        "E-mail updates are off",
        "<p>This status page does not send e-mail. Follow it with the <a href=\"/status/history.atom\">Atom</a> or <a href=\"/status/history.rss\">RSS</a> feed.</p>",
    )
}

fn unavailable(state: &PublicState, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "subscriptions: cannot reach the database");
    let mut response = page(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again in a minute",
        "<p>Subscriptions are briefly unavailable.</p>",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    response
}

fn bad_link(state: &PublicState) -> Response {
    page(
        state,
        StatusCode::NOT_FOUND,
        "This link does not work",
        "<p>It was already used, replaced by a newer mail, or mistyped. \
         <a href=\"/status#subscribe\">Sign up again</a> to get a fresh one.</p>",
    )
}

/// The form fields, every value of repeated names kept, bounded in size.
async fn form(request: Request) -> Result<(Vec<(String, String)>, Request<()>), StatusCode> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let fields = url::form_urlencoded::parse(&bytes).into_owned().collect();
    Ok((fields, Request::from_parts(parts, ())))
}

fn value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The component ids ticked in a form; `None` when one is not a number or
/// there are too many.
fn ticked(fields: &[(String, String)]) -> Option<Vec<i64>> {
    let ids: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "component")
        .map(|(_, v)| v.as_str())
        .collect();
    if ids.len() > MAX_COMPONENTS {
        return None;
    }
    let mut out: Vec<i64> = ids
        .iter()
        .map(|v| v.trim().parse().ok())
        .collect::<Option<_>>()?;
    out.sort_unstable();
    out.dedup();
    Some(out)
}

async fn components(state: &PublicState) -> Result<Vec<(i64, String)>, app::store::StoreError> {
    Ok(app::store::status::components(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

async fn sign_up(
    State(state): State<PublicState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if !state.site.settings().subscriptions {
        return off(&state);
    }
    let client = app::api::forwarded_client(request.headers(), peer.ip(), &state.trusted_proxies);
    let fields = match form(request).await {
        Ok((fields, _)) => fields,
        Err(status) => return status.into_response(),
    };
    let raw_email = value(&fields, "email").unwrap_or_default();
    let listed = match components(&state).await {
        Ok(list) => list,
        Err(e) => return unavailable(&state, &e),
    };
    let refuse = |status: StatusCode, message: &str| {
        page(
            &state,
            status,
            "Get updates by e-mail",
            &subscribe_form(&listed, raw_email, Some(message)),
        )
    };
    let email = match SubscriberEmail::parse("email", raw_email) {
        Ok(email) => email,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, &e.message),
    };
    let Some(chosen) = ticked(&fields) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The component list was not readable; tick components again.",
        );
    };
    // Per client first, so a flood of addresses from one place stops there.
    let now = Utc::now();
    let keys = [
        (format!("subscribe-client:{client}"), PER_CLIENT),
        (format!("subscribe-address:{}", email.as_str()), PER_ADDRESS),
    ];
    for (key, policy) in keys {
        match app::store::sign_in_failures::reserve(&state.db, &key, policy, now).await {
            Ok(ThrottleDecision::Allow) => {}
            Ok(ThrottleDecision::Wait { retry_after }) => {
                let minutes = (retry_after.num_seconds().max(1) + 59) / 60;
                let mut response = refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("Too many sign-ups from here. Try again in {minutes} minute(s)."),
                );
                if let Ok(value) =
                    HeaderValue::from_str(&retry_after.num_seconds().max(1).to_string())
                {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                return response;
            }
            Err(e) => return unavailable(&state, &e),
        }
    }
    match subscriptions::subscribe(&state.db, &email, &chosen, now).await {
        Ok(()) => {}
        Err(SubscribeError::UnknownComponent) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "One of the ticked components is no longer on this page; tick them again.",
            )
        }
        Err(SubscribeError::Store(e)) => return unavailable(&state, &e),
    }
    // The same answer whether or not the address was subscribed already.
    page(
        &state,
        StatusCode::OK,
        "Check your inbox",
        &format!(
            "<p class=\"notice\">We sent a mail to {}.</p><p>Follow the link in it to confirm; \
             until then nothing else is sent. No mail? Look in spam, or sign up again in a few minutes.</p>",
            esc(email.as_str())
        ),
    )
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// A token as it may appear in our own links: 64 hex digits.
fn token_of(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|t| t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_owned)
}

fn hidden_token(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"token\" value=\"{}\">",
        esc(token)
    )
}

async fn confirm_page(State(state): State<PublicState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(token) = token_of(q.token.as_deref()) else {
        return bad_link(&state);
    };
    page(
        &state,
        StatusCode::OK,
        "Confirm your subscription",
        &format!(
            "<form method=\"post\" action=\"/status/subscription/confirm\">{}\
             <button type=\"submit\">Confirm</button></form>",
            hidden_token(&token)
        ),
    )
}

async fn confirm(State(state): State<PublicState>, request: Request) -> Response {
    let fields = match form(request).await {
        Ok((fields, _)) => fields,
        Err(status) => return status.into_response(),
    };
    let Some(token) = token_of(value(&fields, "token")) else {
        return bad_link(&state);
    };
    match subscriptions::confirm(&state.db, &token, Utc::now()).await {
        Ok(Some(manage)) => page(
            &state,
            StatusCode::OK,
            "You are subscribed",
            &format!(
                "<p class=\"notice\">Updates will reach you by e-mail.</p>\
                 <p><a href=\"/status/subscription?token={}\">Choose what you follow</a> or unsubscribe at any time; every mail has the links too.</p>",
                esc(&manage)
            ),
        ),
        Ok(None) => bad_link(&state),
        Err(e) => unavailable(&state, &e),
    }
}

fn manage_body(token: &str, s: &Subscription, listed: &[(i64, String)], saved: bool) -> String {
    let mut out = String::new();
    if saved {
        out.push_str("<p class=\"notice\" role=\"status\">Saved.</p>");
    }
    let _ = write!(
        out,
        "<p>Subscription of <strong>{}</strong>.</p>",
        esc(&s.email)
    );
    if s.state != "confirmed" {
        out.push_str(
            "<p>It is not active: you unsubscribed, or never confirmed. \
             <a href=\"/status#subscribe\">Sign up again</a> to start.</p>",
        );
        return out;
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/status/subscription\" class=\"card\">{}\
         <fieldset><legend>Components you follow (all unticked: everything)</legend>",
        hidden_token(token)
    );
    for (id, name) in listed {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"component\" value=\"{id}\"{}> {}</label>",
            if s.components.contains(id) {
                " checked"
            } else {
                ""
            },
            esc(name)
        );
    }
    let _ = write!(
        out,
        "</fieldset><button type=\"submit\">Save</button></form>\
         <form method=\"post\" action=\"/status/unsubscribe\" class=\"card\">{}\
         <button type=\"submit\" class=\"quiet\">Unsubscribe from all mail</button></form>",
        hidden_token(token)
    );
    out
}

async fn manage_page(State(state): State<PublicState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(token) = token_of(q.token.as_deref()) else {
        return bad_link(&state);
    };
    let (found, listed) = match (
        subscriptions::subscription(&state.db, &token).await,
        components(&state).await,
    ) {
        (Ok(found), Ok(listed)) => (found, listed),
        (Err(e), _) | (_, Err(e)) => return unavailable(&state, &e),
    };
    match found {
        Some(s) => page(
            &state,
            StatusCode::OK,
            "Your subscription",
            &manage_body(&token, &s, &listed, false),
        ),
        None => bad_link(&state),
    }
}

async fn save(State(state): State<PublicState>, request: Request) -> Response {
    let fields = match form(request).await {
        Ok((fields, _)) => fields,
        Err(status) => return status.into_response(),
    };
    let Some(token) = token_of(value(&fields, "token")) else {
        return bad_link(&state);
    };
    let Some(chosen) = ticked(&fields) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    match subscriptions::follow(&state.db, &token, &chosen).await {
        Ok(true) => {}
        Ok(false) => return bad_link(&state),
        Err(SubscribeError::UnknownComponent) => {
            return page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Your subscription",
                &format!(
                    "<p class=\"error\">One of the ticked components is gone. <a href=\"/status/subscription?token={}\">Reload</a> and choose again.</p>",
                    esc(&token)
                ),
            )
        }
        Err(SubscribeError::Store(e)) => return unavailable(&state, &e),
    }
    match (
        subscriptions::subscription(&state.db, &token).await,
        components(&state).await,
    ) {
        (Ok(Some(s)), Ok(listed)) => page(
            &state,
            StatusCode::OK,
            "Your subscription",
            &manage_body(&token, &s, &listed, true),
        ),
        (Ok(None), _) => bad_link(&state),
        (Err(e), _) | (_, Err(e)) => unavailable(&state, &e),
    }
}

async fn leave_page(State(state): State<PublicState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(token) = token_of(q.token.as_deref()) else {
        return bad_link(&state);
    };
    page(
        &state,
        StatusCode::OK,
        "Unsubscribe",
        &format!(
            "<form method=\"post\" action=\"/status/unsubscribe\">{}\
             <button type=\"submit\">Unsubscribe from all mail</button></form>",
            hidden_token(&token)
        ),
    )
}

/// The form's button, or a mail client's RFC 8058 one-click POST (token in
/// the address, `List-Unsubscribe=One-Click` in the body).
async fn leave(
    State(state): State<PublicState>,
    Query(q): Query<HashMap<String, String>>,
    request: Request<Body>,
) -> Response {
    let fields = match form(request).await {
        Ok((fields, _)) => fields,
        Err(status) => return status.into_response(),
    };
    let raw = q
        .get("token")
        .map(String::as_str)
        .or_else(|| value(&fields, "token"));
    let Some(token) = token_of(raw) else {
        return bad_link(&state);
    };
    match subscriptions::unsubscribe(&state.db, &token, Utc::now()).await {
        Ok(true) => page(
            &state,
            StatusCode::OK,
            "You are unsubscribed",
            "<p class=\"notice\">No more mail will be sent to this address.</p>\
             <p>Changed your mind? <a href=\"/status#subscribe\">Sign up again</a>.</p>",
        ),
        Ok(false) => bad_link(&state),
        Err(e) => unavailable(&state, &e),
    }
}
