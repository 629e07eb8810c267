//! Postmortem routes outside Leptos: the Markdown export, the printable page,
//! and each user's private iCalendar feed of their action items.

use crate::ServerState;
use app::api::postmortems::{load, markdown, PostmortemScreen};
use app::api::{session_user, ApiError};
use app::domain::postmortems::ActionStatus;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use icalendar::{Calendar, Component, Todo, TodoStatus};
use tower_sessions::Session;

pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/incidents/{number}/postmortem/export.md", get(export))
        .route("/incidents/{number}/postmortem/print", get(print))
        .route("/calendar/{file}", get(calendar))
}

fn refusal(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, format!("{e}\n")).into_response()
}

/// The postmortem's Markdown for the signed-in caller, as the page would show it.
async fn document(state: &ServerState, session: &Session, number: i64) -> Result<String, Response> {
    let user = session_user(&state.app, session)
        .await
        .ok_or_else(|| refusal(ApiError::Unauthorized))?;
    match load(&state.app, &user, number).await.map_err(refusal)? {
        PostmortemScreen::Document(view) => Ok(markdown(&view)),
        PostmortemScreen::NotStarted { .. } => Err(refusal(ApiError::NotFound)),
    }
}

async fn export(
    State(state): State<ServerState>,
    session: Session,
    Path(number): Path<i64>,
) -> Response {
    match document(&state, &session, number).await {
        Ok(md) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"postmortem-inc-{number}.md\""),
                ),
            ],
            md,
        )
            .into_response(),
        Err(response) => response,
    }
}

const PRINT_CSS: &str = "body{font:15px/1.55 system-ui,sans-serif;color:#1d2530;max-width:46rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #d6dbe1;padding-bottom:.2rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #d6dbe1;padding:.3rem .45rem;text-align:left;vertical-align:top}\
ul{padding-left:1.2rem}@media print{body{margin:0;max-width:none}a{color:inherit}}";

async fn print(
    State(state): State<ServerState>,
    session: Session,
    Path(number): Path<i64>,
) -> Response {
    match document(&state, &session, number).await {
        Ok(md) => {
            let body = app::api::markdown::render_document(md).await;
            let page = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <title>Postmortem INC-{number}</title><style>{PRINT_CSS}</style></head><body>{body}</body></html>"
            );
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }
        Err(response) => response,
    }
}

/// `/calendar/<token>.ics`: the token's owner's action items as VTODOs.
/// The token is the only credential, so an unknown one is simply not found.
async fn calendar(State(state): State<ServerState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let owner = match app::store::postmortems::calendar_owner(&state.app.db, token).await {
        Ok(Some(owner)) => owner,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "calendar feed: database error");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let visible = async {
        let user = app::store::users::find(&state.app.db, owner).await?;
        let hidden = match &user {
            Some(user) => app::store::leadership::hidden_from(&state.app.db, user).await?,
            None => Default::default(),
        };
        let items = app::store::postmortems::items_of(&state.app.db, owner).await?;
        Ok::<_, app::store::StoreError>(
            items
                .into_iter()
                .filter(|i| !hidden.hides_number(i.incident_number))
                .collect::<Vec<_>>(),
        )
    };
    let items = match visible.await {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(error = %e, "calendar feed: database error");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut calendar = Calendar::new();
    calendar.name("Calmroom action items");
    for item in items {
        let mut todo = Todo::with_uid(&format!("calmroom-action-item-{}", item.id));
        todo.summary(&format!("{} (INC-{})", item.title, item.incident_number))
            .description(&format!(
                "{} action item from INC-{} {}.\nVerify by: {}",
                item.kind.label(),
                item.incident_number,
                item.incident_title,
                item.verification
            ))
            .status(match item.status {
                ActionStatus::Open => TodoStatus::NeedsAction,
                ActionStatus::InProgress => TodoStatus::InProcess,
                ActionStatus::Done | ActionStatus::Verified => TodoStatus::Completed,
            });
        if let Some(due) = item.due {
            todo.due(due);
        }
        if let Some(at) = item.verified_at {
            todo.completed(at);
        }
        calendar.push(todo.done());
    }
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        calendar.done().to_string(),
    )
        .into_response()
}
