//! Admin server functions behind the public page and outbound messages:
//! components, maintenance windows, webhooks and update templates.

use super::ApiError;
use crate::domain::status::{ComponentStatus, MaintenanceState};
use crate::domain::updates::{Template, TemplateField};
use crate::domain::webhooks::WebhookKind;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use {
    super::incidents::recorded,
    super::session::{require_admin, respond, state},
    crate::domain::incidents::bounded_text,
    crate::domain::status::{component_name, maintenance_window},
    crate::domain::updates::TemplateKind,
    crate::domain::users::FieldError,
    crate::domain::webhooks::target_url,
    crate::store::changes::Subject,
    crate::store::{self, updates::TemplateSaveError},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentView {
    pub id: i64,
    pub name: String,
    pub group_name: String,
    pub description: String,
    pub position: i64,
    pub status: ComponentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: MaintenanceState,
    pub cancelled: bool,
    pub components: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    /// "INC-12", or "Maintenance: Database upgrade".
    pub about: String,
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: i64,
    pub name: String,
    pub kind: WebhookKind,
    pub url: String,
    /// Shown to admins so they can configure the receiver.
    pub secret: String,
    pub all_updates: bool,
    pub active: bool,
    /// Names of the components it follows; empty: every update.
    pub components: Vec<String>,
    pub deliveries: Vec<DeliveryView>,
}

/// Everything the status-page admin screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusAdminView {
    pub components: Vec<ComponentView>,
    pub maintenances: Vec<MaintenanceView>,
    pub webhooks: Vec<WebhookView>,
    pub mail: MailView,
}

/// E-mail subscribers and their outbox, as admins see them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MailView {
    pub confirmed: i64,
    pub pending: i64,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    /// The newest failed or retried mails: address, kind, error, when queued.
    pub failures: Vec<(String, String, String, DateTime<Utc>)>,
}

/// A template with the version an edit must have seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateView {
    pub template: Template,
    pub version: i64,
}

#[server(endpoint = "get_status_admin")]
pub async fn get_status_admin() -> Result<StatusAdminView, ApiError> {
    respond(async {
        let state = state()?;
        require_admin(&state).await?;
        let now = Utc::now();
        let components = store::status::components(&state.db).await?;
        let name_of = |id: &i64| {
            components
                .iter()
                .find(|c| c.id == *id)
                .map(|c| c.name.clone())
        };
        let maintenances = store::status::maintenances(&state.db, now - chrono::Duration::days(7))
            .await?
            .into_iter()
            .map(|m| MaintenanceView {
                state: m.state(now),
                cancelled: m.cancelled_at.is_some(),
                components: m.components.iter().filter_map(name_of).collect(),
                id: m.id,
                title: m.title,
                description: m.description,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
            })
            .collect();
        let mut webhooks = Vec::new();
        for hook in store::webhooks::webhooks(&state.db).await? {
            let deliveries = store::webhooks::deliveries(&state.db, hook.id, 20)
                .await?
                .into_iter()
                .map(|d| DeliveryView {
                    id: d.id,
                    about: match (d.incident_number, d.maintenance_title) {
                        (Some(number), _) => crate::domain::incidents::display_number(number),
                        (None, Some(title)) => format!("Maintenance: {title}"),
                        (None, None) => String::new(),
                    },
                    state: d.state,
                    attempts: d.attempts,
                    last_status: d.last_status,
                    last_error: d.last_error,
                    created_at: d.created_at,
                    next_attempt_at: d.next_attempt_at,
                    finished_at: d.finished_at,
                })
                .collect();
            webhooks.push(WebhookView {
                id: hook.id,
                name: hook.name,
                kind: hook.kind,
                url: hook.url,
                secret: hook.secret,
                all_updates: hook.all_updates,
                active: hook.active,
                components: hook.components,
                deliveries,
            });
        }
        Ok(StatusAdminView {
            components: components
                .into_iter()
                .map(|c| ComponentView {
                    id: c.id,
                    name: c.name,
                    group_name: c.group_name,
                    description: c.description,
                    position: c.position,
                    status: c.status,
                })
                .collect(),
            maintenances,
            webhooks,
            mail: {
                let m = store::subscriptions::summary(&state.db).await?;
                MailView {
                    confirmed: m.confirmed,
                    pending: m.pending,
                    queued: m.queued,
                    sent: m.sent,
                    failed: m.failed,
                    failures: m.failures,
                }
            },
        })
    })
    .await
}

#[server(endpoint = "add_component")]
pub async fn add_component(
    name: String,
    group_name: String,
    description: String,
) -> Result<i64, ApiError> {
    respond(recorded(&[Subject::Status], async move {
        let state = state()?;
        require_admin(&state).await?;
        let name = component_name("name", &name)?;
        let group_name = bounded_text("group_name", &group_name, 80, None)?;
        let description = bounded_text("description", &description, 500, None)?;
        let id = store::status::add_component(
            &state.db,
            &store::status::ComponentFields {
                name: &name,
                group_name: &group_name,
                description: &description,
            },
            Utc::now(),
        )
        .await?;
        Ok(id)
    }))
    .await
}

#[server(endpoint = "update_component")]
pub async fn update_component(
    id: i64,
    name: String,
    group_name: String,
    description: String,
    status: String,
    position: i64,
) -> Result<(), ApiError> {
    respond(recorded(&[Subject::Status], async move {
        let state = state()?;
        require_admin(&state).await?;
        let name = component_name("name", &name)?;
        let group_name = bounded_text("group_name", &group_name, 80, None)?;
        let description = bounded_text("description", &description, 500, None)?;
        let status = ComponentStatus::parse("status", &status)?;
        let fields = store::status::ComponentFields {
            name: &name,
            group_name: &group_name,
            description: &description,
        };
        if !store::status::update_component(&state.db, id, &fields, status, position, Utc::now())
            .await?
        {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }))
    .await
}

#[server(endpoint = "archive_component")]
pub async fn archive_component(id: i64) -> Result<(), ApiError> {
    respond(recorded(&[Subject::Status], async move {
        let state = state()?;
        require_admin(&state).await?;
        if !store::status::archive_component(&state.db, id, Utc::now()).await? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }))
    .await
}

/// Reads a `datetime-local` value ("2026-11-26T22:00") as a time in `zone`.
#[cfg(feature = "ssr")]
fn local_minute(
    zone: &crate::domain::zones::ZoneRules,
    field: &'static str,
    raw: &str,
) -> Result<DateTime<Utc>, FieldError> {
    zone.from_input(raw)
        .filter(|t| crate::domain::postmortems::plausible_date(t.date_naive()))
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!("Enter a date and time ({}) from 2000 to 2199.", zone.name),
            )
        })
}

/// Schedules a maintenance window. `components` maps any key to a component id
/// (one checkbox each: `components[c7]=7`).
#[server(endpoint = "schedule_maintenance")]
pub async fn schedule_maintenance(
    title: String,
    description: String,
    starts_at: String,
    ends_at: String,
    components: Option<BTreeMap<String, i64>>,
) -> Result<i64, ApiError> {
    respond(recorded(&[Subject::Status], async move {
        let state = state()?;
        let user = require_admin(&state).await?;
        let title = component_name("title", &title)?;
        let description = bounded_text("description", &description, 2000, None)?;
        let zone = super::zones::zone_of(&user);
        let window = maintenance_window(
            local_minute(&zone, "starts_at", &starts_at)?,
            local_minute(&zone, "ends_at", &ends_at)?,
        )?;
        let components: Vec<i64> = components.unwrap_or_default().into_values().collect();
        let id = store::status::schedule_maintenance(
            &state.db,
            &title,
            &description,
            window,
            &components,
            user.id,
            Utc::now(),
        )
        .await?;
        Ok(id)
    }))
    .await
}

#[server(endpoint = "cancel_maintenance")]
pub async fn cancel_maintenance(id: i64) -> Result<(), ApiError> {
    respond(recorded(&[Subject::Status], async move {
        let state = state()?;
        require_admin(&state).await?;
        if !store::status::cancel_maintenance(&state.db, id, Utc::now()).await? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }))
    .await
}

/// Adds a webhook; the signing secret is generated here.
#[server(endpoint = "add_webhook")]
pub async fn add_webhook(
    name: String,
    kind: String,
    url: String,
    all_updates: Option<String>,
    components: Option<BTreeMap<String, i64>>,
) -> Result<i64, ApiError> {
    respond(async move {
        use rand::RngCore;
        let state = state()?;
        let user = require_admin(&state).await?;
        let name = component_name("name", &name)?;
        let kind = WebhookKind::parse("kind", &kind)?;
        let url = target_url("url", &url)?;
        let components: Vec<i64> = components.unwrap_or_default().into_values().collect();
        if components.len() > 200 {
            return Err(ApiError::invalid(
                "components",
                "Choose at most 200 components.",
            ));
        }
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let id = store::webhooks::add_webhook(
            &state.db,
            &store::webhooks::NewWebhook {
                name: &name,
                kind,
                url: &url,
                secret: &secret,
                all_updates: all_updates.is_some(),
                components: &components,
            },
            user.id,
            Utc::now(),
        )
        .await
        .map_err(|e| match e {
            store::webhooks::AddWebhookError::UnknownComponent => ApiError::invalid(
                "components",
                "One of the chosen components no longer exists; reload the page.",
            ),
            store::webhooks::AddWebhookError::Store(e) => e.into(),
        })?;
        Ok(id)
    })
    .await
}

#[server(endpoint = "set_webhook_active")]
pub async fn set_webhook_active(id: i64, active: bool) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        require_admin(&state).await?;
        if !store::webhooks::set_active(&state.db, id, active).await? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    })
    .await
}

#[server(endpoint = "get_templates")]
pub async fn get_templates() -> Result<Vec<TemplateView>, ApiError> {
    respond(async {
        let state = state()?;
        require_admin(&state).await?;
        Ok(store::updates::templates(&state.db)
            .await?
            .into_iter()
            .map(|t| TemplateView {
                template: t.template,
                version: t.version,
            })
            .collect())
    })
    .await
}

/// Saves an admin's edit of a template made against `version`.
#[server(endpoint = "save_template", input = Json)]
pub async fn save_template(
    kind: String,
    fields: Vec<TemplateField>,
    body: String,
    version: i64,
) -> Result<(), ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_admin(&state).await?;
        let kind = TemplateKind::parse("kind", &kind)?;
        let template = Template::parse(kind, fields, &body)?;
        store::updates::save_template(&state.db, &template, version, user.id, Utc::now())
            .await
            .map_err(|e| match e {
                TemplateSaveError::Stale => ApiError::Conflict(
                    "Someone saved this template first. Reload it and make your change again."
                        .to_owned(),
                ),
                TemplateSaveError::Store(e) => e.into(),
            })?;
        Ok(())
    })
    .await
}
