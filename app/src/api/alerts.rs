//! Alerts in: admins manage integrations (one per sender); responders work
//! the alert inbox (declare from a group, attach it to an incident, or
//! dismiss it). The senders' own endpoints live in the server crate.

use super::ApiError;
use crate::domain::alerts::{AlertGroup, IntegrationKind, SeverityMap};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::incidents::recorded,
    super::session::{require_admin, require_writer, respond, state},
    crate::domain::access::Capability,
    crate::domain::alerts::{dismiss_reason, integration_name, secret_from},
    crate::domain::incidents::Severity,
    crate::store::{self, alerts::AlertChangeError, changes::Subject},
};

/// An integration as the admin screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationView {
    pub id: i64,
    pub name: String,
    pub kind: IntegrationKind,
    pub severity_map: SeverityMap,
    pub paused: bool,
    /// Declares an incident for each new group this bad or worse.
    pub auto_declare: Option<crate::domain::incidents::Severity>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub open_groups: i64,
}

/// A secret, shown once: right after the integration is made or rotated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSecret {
    pub id: i64,
    pub secret: String,
}

/// What the alert inbox shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxView {
    pub groups: Vec<AlertGroup>,
    /// Open incidents the caller may write in, to attach to: (number, title).
    pub incidents: Vec<(i64, String)>,
    /// Whether the list was cut at its limit.
    pub more: bool,
}

/// The SHA-256 of a secret, in hex: what is stored and looked up.
#[cfg(feature = "ssr")]
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(feature = "ssr")]
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    secret_from(bytes)
}

#[cfg(feature = "ssr")]
fn severity_map(
    critical: &str,
    error: &str,
    warning: &str,
    info: &str,
) -> Result<SeverityMap, ApiError> {
    Ok(SeverityMap {
        critical: Severity::parse("critical", critical)?,
        error: Severity::parse("error", error)?,
        warning: Severity::parse("warning", warning)?,
        info: Severity::parse("info", info)?,
    })
}

/// "" for never, else the severity from which to declare automatically.
#[cfg(feature = "ssr")]
fn auto_declare(raw: Option<String>) -> Result<Option<Severity>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(raw) => Ok(Some(Severity::parse("auto_declare", raw)?)),
    }
}

#[cfg(feature = "ssr")]
fn alert_refused(e: AlertChangeError) -> ApiError {
    match e {
        AlertChangeError::NotFound => ApiError::NotFound,
        AlertChangeError::Attached(number) => {
            ApiError::Conflict(format!("This alert is already attached to INC-{number}."))
        }
        AlertChangeError::Dismissed => {
            ApiError::Conflict("This alert was dismissed; it is no longer in the inbox.".to_owned())
        }
        AlertChangeError::Store(e) => e.into(),
    }
}

#[server(endpoint = "list_integrations")]
pub async fn list_integrations() -> Result<Vec<IntegrationView>, ApiError> {
    respond(async {
        let state = state()?;
        require_admin(&state).await?;
        Ok(store::alerts::integrations(&state.db)
            .await?
            .into_iter()
            .map(|i| IntegrationView {
                id: i.id,
                name: i.name,
                kind: i.kind,
                severity_map: i.severity_map,
                paused: i.paused,
                auto_declare: i.auto_declare,
                created_at: i.created_at,
                rotated_at: i.rotated_at,
                last_event_at: i.last_event_at,
                open_groups: i.open_groups,
            })
            .collect())
    })
    .await
}

#[server(endpoint = "add_integration")]
pub async fn add_integration(
    name: String,
    kind: String,
    critical: String,
    error: String,
    warning: String,
    info: String,
    /// "" (never) or the severity from which to declare automatically.
    auto_declare: Option<String>,
) -> Result<NewSecret, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_admin(&state).await?;
        let name = integration_name("name", &name)?;
        let kind = IntegrationKind::parse("kind", &kind)?;
        let settings = store::alerts::IntegrationSettings {
            severity_map: severity_map(&critical, &error, &warning, &info)?,
            auto_declare: self::auto_declare(auto_declare)?,
        };
        let secret = new_secret();
        let id = store::alerts::add_integration(
            &state.db,
            &name,
            kind,
            settings,
            &secret_hash(&secret),
            user.id,
            Utc::now(),
        )
        .await?;
        tracing::info!(id, kind = kind.as_str(), "integration added");
        Ok(NewSecret { id, secret })
    })
    .await
}

#[server(endpoint = "rotate_integration_secret")]
pub async fn rotate_integration_secret(id: i64) -> Result<NewSecret, ApiError> {
    respond(async move {
        let state = state()?;
        require_admin(&state).await?;
        let secret = new_secret();
        if !store::alerts::rotate_secret(&state.db, id, &secret_hash(&secret), Utc::now()).await? {
            return Err(ApiError::NotFound);
        }
        tracing::info!(id, "integration secret rotated");
        Ok(NewSecret { id, secret })
    })
    .await
}

#[server(endpoint = "update_integration")]
pub async fn update_integration(
    id: i64,
    /// "on" to pause: events are refused until it is resumed.
    paused: Option<String>,
    critical: String,
    error: String,
    warning: String,
    info: String,
    auto_declare: Option<String>,
) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        require_admin(&state).await?;
        let settings = store::alerts::IntegrationSettings {
            severity_map: severity_map(&critical, &error, &warning, &info)?,
            auto_declare: self::auto_declare(auto_declare)?,
        };
        let paused = paused.is_some_and(|p| !p.is_empty());
        if !store::alerts::update_integration(&state.db, id, paused, settings).await? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "get_alert_inbox")]
pub async fn get_alert_inbox() -> Result<InboxView, ApiError> {
    respond(async {
        let state = state()?;
        let user = require_writer(&state).await?;
        let groups = store::alerts::inbox(&state.db).await?;
        let mut incidents = Vec::new();
        for card in store::incidents::list(&state.db).await? {
            if !card.incident.status.is_active() {
                continue;
            }
            let number = card.incident.number;
            let writes = super::access::open_to_read(&state, &user, number)
                .await
                .is_ok_and(|a| a.allows(Capability::Write));
            if writes {
                incidents.push((number, card.incident.title));
            }
        }
        Ok(InboxView {
            more: groups.len() as i64 >= store::alerts::INBOX_AT_MOST,
            groups,
            incidents,
        })
    })
    .await
}

/// One alert group still in the inbox, for the declare form it fills in.
#[server(endpoint = "get_alert_group")]
pub async fn get_alert_group(id: i64) -> Result<AlertGroup, ApiError> {
    respond(async move {
        let state = state()?;
        require_writer(&state).await?;
        // An attached group is read through its incident's war room, which
        // asks the access rule; here it is not found, so a restricted
        // incident's number never leaks.
        store::alerts::group(&state.db, id)
            .await?
            .filter(|g| g.incident.is_none())
            .ok_or(ApiError::NotFound)
    })
    .await
}

#[server(endpoint = "attach_alert")]
pub async fn attach_alert(group: i64, number: i64) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let access = super::access::open(&state, &user, number).await?;
        access.require(Capability::Write)?;
        let attaching = store::alerts::attach(&state.db, group, number, user.id, Utc::now());
        recorded(&[Subject::Alerts], attaching)
            .await
            .map_err(alert_refused)
    })
    .await
}

#[server(endpoint = "dismiss_alert")]
pub async fn dismiss_alert(group: i64, reason: String) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let reason = dismiss_reason("reason", &reason)?;
        let dismissing = store::alerts::dismiss(&state.db, group, &reason, user.id, Utc::now());
        recorded(&[Subject::Alerts], dismissing)
            .await
            .map_err(alert_refused)
    })
    .await
}
