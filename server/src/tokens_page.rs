//! `/account/tokens`: a person's API tokens (and, for admins, everyone's),
//! on a page the server renders with no script. Made here rather than in the
//! app's pages: the token screens cost the browser bundle everyone loads
//! 27 KB of brotli, for something used once in a while.
//!
//! Same rules as the JSON functions (`app::api::tokens`): a session is
//! needed, the secret is shown once, in the answer to the form that made
//! it, and only its owner (or an admin) revokes a token.

use crate::public::page::esc;
use crate::ServerState;
use app::api::tokens::{make_token, revoke_token, tokens_of};
use app::api::ApiError;
use app::domain::tokens::{ApiToken, MadeToken};
use app::domain::users::OrgRole;
use app::domain::zones::ZoneRules;
use app::store::users::User;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::fmt::Write;
use tower_sessions::Session;

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/account/tokens", get(show).post(make))
        .route("/account/tokens/{id}/revoke", post(revoke))
}

async fn show(State(state): State<ServerState>, session: Session) -> Response {
    let Some(user) = app::api::session_user(&state.app, &session).await else {
        return Redirect::to("/sign-in").into_response();
    };
    page(&state, &user, None, None).await
}

async fn make(
    State(state): State<ServerState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(user) = app::api::session_user(&state.app, &session).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    match make_token(
        &state.app,
        &user,
        field("name"),
        field("access"),
        field("days"),
    )
    .await
    {
        Ok(made) => page(&state, &user, Some(&made), None).await,
        Err(e) => page(&state, &user, None, Some(&e)).await,
    }
}

async fn revoke(
    State(state): State<ServerState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let Some(user) = app::api::session_user(&state.app, &session).await else {
        return Redirect::to("/sign-in").into_response();
    };
    let revoked = match id.parse::<i64>() {
        Ok(id) => revoke_token(&state.app, &user, id).await,
        Err(_) => Err(ApiError::NotFound),
    };
    match revoked {
        Ok(()) => Redirect::to("/account/tokens").into_response(),
        Err(e) => page(&state, &user, None, Some(&e)).await,
    }
}

/// The page, with a token just made or a refusal to show.
async fn page(
    state: &ServerState,
    user: &User,
    made: Option<&MadeToken>,
    error: Option<&ApiError>,
) -> Response {
    let zone = app::api::zones::zone_of(user);
    let own = tokens_of(&state.app, user, false).await;
    let everyone = if user.org_role == OrgRole::Admin {
        Some(tokens_of(&state.app, user, true).await)
    } else {
        None
    };
    let mut out = String::with_capacity(8 * 1024);
    out.push_str(
        "<p>For scripts and bots that use <a href=\"/api/v1\">the API</a>. A token acts as you, \
         with your permissions, until it expires or you revoke it.</p>",
    );
    if let Some(made) = made {
        let _ = write!(
            out,
            "<section class=\"card\" role=\"status\" data-testid=\"new-token\">\
             <p class=\"notice\">Token “{name}” is made. Copy it now: it is not shown again.</p>\
             <p><code data-testid=\"token-secret\" class=\"secret\">{secret}</code></p>\
             <p class=\"meta\">Send it as: <code>Authorization: Bearer calmroom_…</code></p></section>",
            name = esc(&made.token.name),
            secret = esc(&made.secret),
        );
    }
    let field_error = |field: &str| {
        error
            .and_then(|e| e.for_field(field))
            .map(|m| format!("<p class=\"error\" id=\"{field}-error\">{}</p>", esc(&m)))
            .unwrap_or_default()
    };
    if let Some(message) = error.and_then(ApiError::for_form) {
        let _ = write!(
            out,
            "<p class=\"error\" role=\"alert\">{}</p>",
            esc(&message)
        );
    }
    let viewer = user.org_role == OrgRole::Viewer;
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/account/tokens\" class=\"card\">\
         <h2>Make a token</h2>\
         <label for=\"token-name\">What will use it</label>\
         <input type=\"text\" id=\"token-name\" name=\"name\" maxlength=\"80\" placeholder=\"deploy bot\" required>{name_error}\
         <label for=\"token-access\">Access</label>\
         <select id=\"token-access\" name=\"access\"><option value=\"read\" selected>Read only</option>\
         <option value=\"write\"{write_off}>Read and write</option></select>{access_error}\
         <label for=\"token-days\">Expires in</label>\
         <select id=\"token-days\" name=\"days\"><option value=\"7\">7 days</option>\
         <option value=\"30\">30 days</option><option value=\"90\" selected>90 days</option>\
         <option value=\"365\">1 year</option></select>{days_error}\
         <button type=\"submit\">Make a token</button></form>",
        name_error = field_error("name"),
        access_error = field_error("access"),
        days_error = field_error("days"),
        write_off = if viewer { " disabled" } else { "" },
    );
    token_list(&mut out, "Your tokens", "api-tokens", &own, false, &zone);
    if let Some(everyone) = &everyone {
        token_list(
            &mut out,
            "Everyone's tokens",
            "all-api-tokens",
            everyone,
            true,
            &zone,
        );
    }
    out.push_str("<footer><a href=\"/account\">Back to your account</a></footer>");
    let status = error
        .and_then(|e| StatusCode::from_u16(e.status_code()).ok())
        .unwrap_or(StatusCode::OK);
    crate::plain_page::render(status, "API tokens", &out, EXTRA)
}

/// What this page adds to the status page's style.
const EXTRA: &str =
    "form.card{display:flex;flex-direction:column;gap:.4rem}form.card label{margin-top:.3rem}\
.secret{display:block;overflow-wrap:anywhere;font-size:.95rem}\
.token{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}\
.token form{display:inline}.token .meta{display:block}.card h2{margin:0}label{font-weight:600}\
input[type=text]{max-width:24rem}";

fn token_list(
    out: &mut String,
    heading: &str,
    testid: &str,
    tokens: &Result<Vec<ApiToken>, ApiError>,
    show_owner: bool,
    zone: &ZoneRules,
) {
    let _ = write!(out, "<h2>{}</h2>", esc(heading));
    let tokens = match tokens {
        Ok(tokens) => tokens,
        Err(e) => {
            let _ = write!(out, "<p class=\"error\">{}</p>", esc(&e.to_string()));
            return;
        }
    };
    if tokens.is_empty() {
        let _ = write!(
            out,
            "<p class=\"meta\" data-testid=\"{testid}\"><span data-testid=\"no-tokens\">No tokens yet.</span></p>"
        );
        return;
    }
    let now = chrono::Utc::now();
    let _ = write!(out, "<div class=\"card\" data-testid=\"{testid}\"><ol>");
    for token in tokens {
        let live = token.is_live(now);
        let state = match (token.revoked_at, live) {
            (Some(at), _) => format!("revoked {}", zone.stamp(at)),
            (None, false) => format!("expired {}", zone.stamp(token.expires_at)),
            (None, true) => format!("expires {}", zone.stamp(token.expires_at)),
        };
        let used = token
            .last_used_at
            .map(|at| format!("last used {}", zone.stamp(at)))
            .unwrap_or_else(|| "never used".to_owned());
        let owner = if show_owner {
            format!("{} · ", esc(&token.owner_name))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<li class=\"token\" data-token=\"{name}\"><div><strong>{name}</strong>\
             <span class=\"meta\">{owner}{access} · {used} · {state}</span></div>",
            name = esc(&token.name),
            access = if token.can_write {
                "Read and write"
            } else {
                "Read only"
            },
            used = esc(&used),
            state = esc(&state),
        );
        if live {
            let _ = write!(
                out,
                "<form method=\"post\" action=\"/account/tokens/{id}/revoke\">\
                 <button type=\"submit\" class=\"quiet\" aria-label=\"Revoke {name}\">Revoke</button></form>",
                id = token.id,
                name = esc(&token.name),
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ol></div>");
}
