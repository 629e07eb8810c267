//! Server functions of postmortems: starting one from a resolved incident,
//! writing it, the lint and publishing, action items until verified, the
//! tracker, the dashboard's share of it, insights and the calendar link.

use super::ApiError;
use crate::domain::incidents::Severity;
use crate::domain::postmortems::{
    ActionKind, ActionStatus, Check, ItemFigures, PostmortemStatus, Section,
};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use {
    super::incidents::{change_as, incident_id, recorded, refused},
    super::session::{require_user, require_writer, respond, state, AppState},
    crate::domain::access::Capability,
    crate::domain::incidents::bounded_text,
    crate::domain::postmortems::{
        self as rules, lint, parse_item, response_times, ItemInput, LintInput, MAX_SECTION_CHARS,
    },
    crate::domain::users::{FieldError, OrgRole, UserId},
    crate::store::changes::Subject,
    crate::store::{self, postmortems::Steward, users::User},
};

/// An action item as every list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: i64,
    pub incident_number: i64,
    pub incident_title: String,
    pub title: String,
    pub kind: ActionKind,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub due: Option<NaiveDate>,
    pub verification: String,
    pub status: ActionStatus,
    pub top: bool,
    pub evidence: String,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionView {
    pub section: Section,
    pub text: String,
    /// The text as sanitised HTML.
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub body: String,
    pub excluded: bool,
}

/// A derived response time, in whole minutes (`None`: a milestone is missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeFigure {
    pub label: String,
    pub minutes: Option<i64>,
}

/// Everything the postmortem page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostmortemView {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub declared_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub status: PostmortemStatus,
    pub sections: Vec<SectionView>,
    pub users_affected: String,
    pub failed_requests: String,
    pub slo_budget_spent: String,
    pub impact_started_at: Option<DateTime<Utc>>,
    pub times: Vec<TimeFigure>,
    pub lines: Vec<LineView>,
    pub items: Vec<ItemView>,
    pub checks: Vec<Check>,
    /// The caller commands the incident or is an admin.
    pub can_steward: bool,
    /// The caller may change things (not a viewer).
    pub can_write: bool,
    /// People who can own an action item.
    pub people: Vec<(i64, String)>,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub published_by: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub overridden: Vec<String>,
    pub meeting_at: Option<DateTime<Utc>>,
    pub attendees: String,
    pub version: i64,
    /// Customer-facing summaries published on the status page, oldest first.
    pub public_summaries: Vec<(DateTime<Utc>, String)>,
}

impl PostmortemView {
    pub fn editable(&self) -> bool {
        self.can_write && self.status.is_editable()
    }

    /// From the impact start (else the declaration) to the resolution.
    pub fn impact_window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.impact_started_at.unwrap_or(self.declared_at);
        self.resolved_at.map(|end| (start, end))
    }
}

/// The postmortem page: the document, or a way to start it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PostmortemScreen {
    NotStarted {
        number: i64,
        title: String,
        resolved: bool,
        can_start: bool,
    },
    Document(Box<PostmortemView>),
}

/// What publishing did: published, or stopped at failing checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublishPostmortemOutcome {
    Published,
    /// Nothing was published; publish again with `confirm` to override.
    NeedsOverride {
        failing: Vec<Check>,
    },
}

/// Markdown to sanitised HTML (see [`super::markdown`]).
#[cfg(feature = "ssr")]
pub use super::markdown::render_markdown;

#[cfg(feature = "ssr")]
fn item_view(item: store::postmortems::Item, today: NaiveDate) -> ItemView {
    let overdue = item.rules().is_overdue(today);
    ItemView {
        id: item.id,
        incident_number: item.incident_number,
        incident_title: item.incident_title,
        title: item.title,
        kind: item.kind,
        owner_id: item.owner_id.map(|o| o.0),
        owner_name: item.owner_name,
        due: item.due,
        verification: item.verification,
        status: item.status,
        top: item.top,
        evidence: item.evidence,
        verified_by: item.verified_by_name,
        verified_at: item.verified_at,
        confirmed_at: item.confirmed_at,
        overdue,
        version: item.version,
    }
}

/// Whether `user` commands incident `id` or is an admin.
#[cfg(feature = "ssr")]
async fn steward(
    state: &AppState,
    user: &User,
    id: crate::domain::incidents::IncidentId,
) -> Result<Steward, ApiError> {
    let ic = store::incidents::holder(
        &state.db,
        id,
        crate::domain::roles::IncidentRole::IncidentCommander,
    )
    .await?;
    Ok(Steward {
        user: user.id,
        is_admin: user.org_role == OrgRole::Admin || ic == Some(user.id),
    })
}

/// `user` as the incident's steward (its IC, or an admin); refused otherwise.
#[cfg(feature = "ssr")]
async fn require_steward(
    state: &AppState,
    user: &User,
    id: crate::domain::incidents::IncidentId,
) -> Result<Steward, ApiError> {
    let by = steward(state, user, id).await?;
    if !by.is_admin {
        return Err(ApiError::Forbidden(
            crate::domain::roles::RoleRefusal::OnlyIcStewardsPostmortem
                .message()
                .to_owned(),
        ));
    }
    Ok(by)
}

/// The postmortem screen as `user` may see it: viewers read published ones only.
#[cfg(feature = "ssr")]
pub async fn load(
    state: &AppState,
    user: &User,
    number: i64,
) -> Result<PostmortemScreen, ApiError> {
    let access = super::access::open(state, user, number).await?;
    let viewer = user.org_role == OrgRole::Viewer;
    let Some(pm) = store::postmortems::find(&state.db, number).await? else {
        if viewer {
            return Err(ApiError::NotFound);
        }
        let incident = store::incidents::find_by_number(&state.db, number)
            .await?
            .ok_or(ApiError::NotFound)?;
        let can_start = steward(state, user, incident.id).await?.is_admin;
        return Ok(PostmortemScreen::NotStarted {
            number,
            title: incident.title,
            resolved: !incident.status.is_active(),
            can_start,
        });
    };
    if viewer && pm.status != PostmortemStatus::Published {
        return Err(ApiError::Forbidden(
            "This postmortem is shared once it is published.".to_owned(),
        ));
    }
    let users = store::users::list(&state.db).await?;
    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    let rules_items: Vec<rules::ActionItem> = pm.items.iter().map(|i| i.rules()).collect();
    let checks = lint(&LintInput {
        items: &rules_items,
        customer_impact: pm.section(Section::CustomerImpact),
        root_causes: pm.section(Section::RootCauses),
        people: &names,
    });
    let times = response_times(&pm.milestones);
    let minutes = |d: Option<chrono::Duration>| d.map(|d| d.num_minutes());
    let can_steward = !viewer && steward(state, user, pm.incident.id).await?.is_admin;
    let today = Utc::now().date_naive();
    let mut sections = Vec::with_capacity(pm.sections.len());
    for (section, text) in &pm.sections {
        sections.push(SectionView {
            section: *section,
            text: text.clone(),
            html: super::markdown::render(text).await.to_string(),
        });
    }
    Ok(PostmortemScreen::Document(Box::new(PostmortemView {
        number,
        title: pm.incident.title.clone(),
        severity: pm.incident.severity,
        declared_at: pm.incident.declared_at,
        resolved_at: pm.incident.resolved_at,
        status: pm.status,
        sections,
        users_affected: pm.numbers.users_affected.clone(),
        failed_requests: pm.numbers.failed_requests.clone(),
        slo_budget_spent: pm.numbers.slo_budget_spent.clone(),
        impact_started_at: pm.impact_started_at,
        times: vec![
            TimeFigure {
                label: "Time to detect".to_owned(),
                minutes: minutes(times.to_detect),
            },
            TimeFigure {
                label: "Time to roles assigned".to_owned(),
                minutes: minutes(times.to_roles),
            },
            TimeFigure {
                label: "Time to first update".to_owned(),
                minutes: minutes(times.to_first_update),
            },
            TimeFigure {
                label: "Time to mitigate".to_owned(),
                minutes: minutes(times.to_mitigate),
            },
            TimeFigure {
                label: "Time to resolve".to_owned(),
                minutes: minutes(times.to_resolve),
            },
        ],
        lines: pm
            .lines
            .iter()
            .filter(|l| !viewer || !l.excluded)
            .map(|l| LineView {
                id: l.id,
                at: l.at,
                body: l.body.clone(),
                excluded: l.excluded,
            })
            .collect(),
        items: pm.items.into_iter().map(|i| item_view(i, today)).collect(),
        checks,
        can_steward,
        can_write: access.allows(Capability::Write),
        people: users
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id.0, u.name))
            .collect(),
        started_by: pm.started_by,
        started_at: pm.started_at,
        published_by: pm.published_by,
        published_at: pm.published_at,
        overridden: pm
            .lint_overridden
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        meeting_at: pm.meeting_at,
        attendees: pm.attendees,
        version: pm.version,
        public_summaries: {
            let mut summaries: Vec<(DateTime<Utc>, String)> =
                store::updates::for_incident(&state.db, pm.incident.id)
                    .await?
                    .into_iter()
                    .filter(|u| u.public_status == "postmortem")
                    .map(|u| (u.published_at, u.body))
                    .collect();
            summaries.reverse();
            summaries
        },
    })))
}

/// The postmortem as a Markdown document (what the export and the printable page use).
#[cfg(feature = "ssr")]
pub fn markdown(view: &PostmortemView) -> String {
    use std::fmt::Write;
    let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Postmortem: INC-{} {}\n\n{} · {}",
        view.number,
        view.title,
        view.severity.label(),
        view.status.label()
    );
    if let Some((start, end)) = view.impact_window() {
        let _ = writeln!(
            md,
            "\nImpact window: {} to {} ({} minutes)",
            stamp(start),
            stamp(end),
            (end - start).num_minutes()
        );
    }
    for s in &view.sections {
        let _ = writeln!(md, "\n## {}\n", s.section.label());
        if s.section == Section::CustomerImpact {
            for (label, value) in [
                ("Users affected", &view.users_affected),
                ("Failed requests", &view.failed_requests),
                ("SLO budget spent", &view.slo_budget_spent),
            ] {
                if !value.is_empty() {
                    let _ = writeln!(md, "- {label}: {value}");
                }
            }
            md.push('\n');
        }
        if s.section == Section::DetectionResponse {
            for t in &view.times {
                let value = t
                    .minutes
                    .map(|m| format!("{m} min"))
                    .unwrap_or_else(|| "not recorded".to_owned());
                let _ = writeln!(md, "- {}: {value}", t.label);
            }
            md.push('\n');
        }
        let _ = writeln!(md, "{}", s.text.trim());
        if s.section == Section::CustomerImpact {
            let _ = writeln!(md, "\n## Timeline\n");
            for l in view.lines.iter().filter(|l| !l.excluded) {
                let _ = writeln!(md, "- {} {}", l.at.format("%Y-%m-%d %H:%M"), l.body);
            }
        }
    }
    let _ = writeln!(
        md,
        "\n## Action items\n\n| Top | Item | Kind | Owner | Due | Verification | Status |\n|---|---|---|---|---|---|---|"
    );
    for i in &view.items {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            if i.top { "★" } else { "" },
            i.title.replace('|', "/"),
            i.kind.label(),
            i.owner_name.as_deref().unwrap_or("—"),
            i.due
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".to_owned()),
            i.verification.replace('|', "/"),
            i.status.label()
        );
    }
    if let Some(at) = view.meeting_at {
        let _ = writeln!(
            md,
            "\nReviewed on {} with {}.",
            stamp(at),
            if view.attendees.is_empty() {
                "no attendees recorded"
            } else {
                &view.attendees
            }
        );
    }
    if let (Some(by), Some(at)) = (&view.published_by, view.published_at) {
        let _ = writeln!(md, "\nPublished by {by} on {}.", stamp(at));
    }
    if !view.overridden.is_empty() {
        let _ = writeln!(
            md,
            "\nPublished past these checks: {}.",
            view.overridden.join("; ")
        );
    }
    md
}

// One file per area; everything is reachable from here as before.
mod action_items;
mod document;
mod insights;
pub use action_items::*;
pub use document::*;
pub use insights::*;
