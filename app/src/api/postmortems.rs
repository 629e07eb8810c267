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

#[server(endpoint = "get_postmortem")]
pub async fn get_postmortem(number: i64) -> Result<PostmortemScreen, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_user(&state).await?;
        load(&state, &user, number).await
    })
    .await
}

#[server(endpoint = "start_postmortem")]
pub async fn start_postmortem(number: i64) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Steward,
        move |state, user, id| async move {
            let by = steward(&state, &user, id).await?;
            store::postmortems::start(&state.db, number, by, Utc::now())
                .await
                .map_err(refused)
        },
    ))
    .await
}

/// Renders Markdown as the document will show it.
#[server(endpoint = "preview_markdown")]
pub async fn preview_markdown(text: String) -> Result<String, ApiError> {
    respond(async move {
        let state = state()?;
        require_writer(&state).await?;
        super::markdown::check("text", &text)?;
        Ok(super::markdown::render(&text).await.to_string())
    })
    .await
}

/// Parses a UTC time typed as `YYYY-MM-DDTHH:MM` (a datetime-local field).
#[cfg(feature = "ssr")]
fn parse_time(field: &'static str, raw: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .ok()
        .filter(|t| rules::plausible_date(t.date()))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            FieldError::new(
                field,
                "Give the time as YYYY-MM-DD HH:MM (UTC), from 2000 to 2199.",
            )
        })
}

/// Saves the written parts. `fields` holds each section by name, plus
/// `users_affected`, `failed_requests`, `slo_budget_spent`, `impact_started_at`.
#[server(endpoint = "save_postmortem", input = Json)]
pub async fn save_postmortem(
    number: i64,
    version: i64,
    fields: BTreeMap<String, String>,
) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Write,
        move |state, _user, id| async move {
            let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
            let mut sections = Vec::new();
            for section in Section::ALL {
                let text = bounded_text(
                    section.as_str(),
                    get(section.as_str()),
                    MAX_SECTION_CHARS,
                    None,
                )?;
                super::markdown::check(section.as_str(), &text)?;
                sections.push((section, text));
            }
            let numbers = store::postmortems::ImpactNumbers {
                users_affected: bounded_text("users_affected", get("users_affected"), 100, None)?,
                failed_requests: bounded_text(
                    "failed_requests",
                    get("failed_requests"),
                    100,
                    None,
                )?,
                slo_budget_spent: bounded_text(
                    "slo_budget_spent",
                    get("slo_budget_spent"),
                    100,
                    None,
                )?,
            };
            let impact_started_at = parse_time("impact_started_at", get("impact_started_at"))?;
            if let (Some(start), Some(incident)) = (
                impact_started_at,
                store::incidents::find_by_number(&state.db, number).await?,
            ) {
                if start > incident.declared_at {
                    return Err(ApiError::invalid(
                        "impact_started_at",
                        "Impact starts at or before the declaration.",
                    ));
                }
            }
            store::postmortems::save_document(
                &state.db,
                id,
                &store::postmortems::DocumentEdit {
                    version,
                    sections: &sections,
                    numbers: &numbers,
                    impact_started_at,
                },
            )
            .await
            .map_err(refused)
        },
    ))
    .await
}

#[server(endpoint = "exclude_line")]
pub async fn exclude_line(number: i64, line: i64, excluded: bool) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Write,
        move |state, _user, id| async move {
            store::postmortems::set_line_excluded(&state.db, id, line, excluded)
                .await
                .map_err(refused)
        },
    ))
    .await
}

#[cfg(feature = "ssr")]
fn parse_owner(raw: &str) -> Result<Option<UserId>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw
            .parse::<i64>()
            .map(|id| Some(UserId(id)))
            .map_err(|_| ApiError::invalid("owner", "Choose an owner from the list.")),
    }
}

/// An owner must be an active person: an unknown or disabled id is refused at `owner`.
#[cfg(feature = "ssr")]
async fn active_owner(state: &AppState, owner: Option<UserId>) -> Result<Option<UserId>, ApiError> {
    if let Some(id) = owner {
        match store::users::find(&state.db, id).await? {
            Some(user) if !user.disabled => {}
            _ => return Err(ApiError::invalid("owner", "Choose an owner from the list.")),
        }
    }
    Ok(owner)
}

#[cfg(feature = "ssr")]
fn owner_refused(e: store::incidents::IncidentChangeError) -> ApiError {
    match e {
        store::incidents::IncidentChangeError::Invalid(m) if m.contains("owner") => {
            ApiError::invalid("owner", m)
        }
        other => refused(other),
    }
}

#[server(endpoint = "add_action_item")]
pub async fn add_action_item(
    number: i64,
    title: String,
    kind: String,
    owner: String,
    due: String,
    verification: String,
    top: Option<String>,
) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Write,
        move |state, user, id| async move {
            let draft = parse_item(&ItemInput {
                title: &title,
                kind: &kind,
                due: &due,
                verification: &verification,
            })?;
            let owner = active_owner(&state, parse_owner(&owner)?).await?;
            store::postmortems::add_item(
                &state.db,
                id,
                &draft,
                owner,
                top.is_some(),
                user.id,
                Utc::now(),
            )
            .await
            .map(|_| ())
            .map_err(owner_refused)
        },
    ))
    .await
}

/// Runs one change of action item `item` by a writer who may do `what` on its
/// incident, recorded in the change log as a change of that incident. An item of an incident hidden from
/// the caller answers exactly like a missing one.
#[cfg(feature = "ssr")]
async fn item_change<F, Fut>(item: i64, what: Capability, work: F) -> Result<(), ApiError>
where
    F: FnOnce(AppState, User) -> Fut,
    Fut: std::future::Future<Output = Result<i64, ApiError>>,
{
    let state = state()?;
    let user = require_writer(&state).await?;
    let access = super::access::open_item(&state, &user, item).await?;
    access.require(what)?;
    let number = access.incident.number;
    recorded(&[Subject::Incident(number)], work(state, user)).await?;
    Ok(())
}

/// The review meeting's correction of an item's owner, due date or top mark.
#[server(endpoint = "reassign_action_item")]
pub async fn reassign_action_item(
    item: i64,
    version: i64,
    owner: String,
    due: String,
    top: Option<String>,
) -> Result<(), ApiError> {
    respond(item_change(
        item,
        Capability::Write,
        move |state, _user| async move {
            let owner = active_owner(&state, parse_owner(&owner)?).await?;
            let due = rules::parse_due(&due)?;
            store::postmortems::reassign_item(&state.db, item, version, owner, due, top.is_some())
                .await
                .map_err(owner_refused)
        },
    ))
    .await
}

#[server(endpoint = "move_action_item")]
pub async fn move_action_item(
    item: i64,
    version: i64,
    status: String,
    evidence: String,
) -> Result<(), ApiError> {
    respond(item_change(
        item,
        Capability::WorkItem,
        move |state, user| async move {
            let next = ActionStatus::parse(status.trim())
                .ok_or_else(|| ApiError::invalid("status", "Choose a status from the list."))?;
            let evidence = bounded_text(
                "evidence",
                &evidence,
                1000,
                (next == ActionStatus::Verified)
                    .then_some("Say what shows it works: a test, an alert that fired, a drill."),
            )?;
            store::postmortems::move_item(
                &state.db,
                item,
                version,
                next,
                &evidence,
                user.id,
                Utc::now(),
            )
            .await
            .map_err(refused)
        },
    ))
    .await
}

#[server(endpoint = "confirm_action_item")]
pub async fn confirm_action_item(item: i64, version: i64) -> Result<(), ApiError> {
    respond(item_change(
        item,
        Capability::Write,
        move |state, _user| async move {
            store::postmortems::confirm_item(&state.db, item, version, Utc::now())
                .await
                .map_err(refused)
        },
    ))
    .await
}

#[server(endpoint = "send_for_review")]
pub async fn send_for_review(number: i64, in_review: bool) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Steward,
        move |state, user, id| async move {
            let by = steward(&state, &user, id).await?;
            store::postmortems::set_review(&state.db, id, in_review, by, Utc::now())
                .await
                .map_err(refused)
        },
    ))
    .await
}

#[server(endpoint = "record_meeting")]
pub async fn record_meeting(
    number: i64,
    held_at: String,
    attendees: String,
) -> Result<(), ApiError> {
    respond(change_as(
        number,
        Capability::Write,
        move |state, _user, id| async move {
            let held_at = parse_time("held_at", &held_at)?
                .ok_or_else(|| ApiError::invalid("held_at", "Give the meeting's date and time."))?;
            let attendees = bounded_text(
                "attendees",
                &attendees,
                1000,
                Some("Name who attended the review."),
            )?;
            store::postmortems::record_meeting(&state.db, id, held_at, &attendees)
                .await
                .map_err(refused)
        },
    ))
    .await
}

/// Publishes the postmortem. With failing checks and without `confirm`,
/// nothing is published and the failing checks come back.
#[server(endpoint = "publish_postmortem")]
pub async fn publish_postmortem(
    number: i64,
    version: i64,
    confirm: bool,
) -> Result<PublishPostmortemOutcome, ApiError> {
    respond(recorded(&[Subject::Incident(number)], async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let id = incident_id(&state, &user, number).await?;
        let by = steward(&state, &user, id).await?;
        if !by.is_admin {
            return Err(ApiError::Forbidden(
                crate::domain::roles::RoleRefusal::OnlyIcStewardsPostmortem
                    .message()
                    .to_owned(),
            ));
        }
        let PostmortemScreen::Document(view) = load(&state, &user, number).await? else {
            return Err(ApiError::NotFound);
        };
        let failing: Vec<Check> = view.checks.into_iter().filter(|c| !c.passed).collect();
        if !failing.is_empty() && !confirm {
            return Ok(PublishPostmortemOutcome::NeedsOverride { failing });
        }
        let overridden: Vec<String> = failing.iter().map(|c| c.rule.label().to_owned()).collect();
        store::postmortems::publish(&state.db, id, version, &overridden, by, Utc::now())
            .await
            .map_err(refused)?;
        Ok(PublishPostmortemOutcome::Published)
    }))
    .await
}

/// Which action items the tracker shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrackerFilter {
    /// A user id, or "me".
    pub owner: String,
    /// A status, "outstanding", or "" for any.
    pub status: String,
    /// "overdue", "week" (due in the next 7 days), or "".
    pub due: String,
    /// An incident number, or "".
    pub incident: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerView {
    pub items: Vec<ItemView>,
    pub people: Vec<(i64, String)>,
    pub incidents: Vec<(i64, String)>,
    pub today: NaiveDate,
}

/// Every action item, without those of incidents `hidden` from the caller.
#[cfg(feature = "ssr")]
pub(crate) async fn tracker_items(
    state: &AppState,
    hidden: &store::leadership::Hidden,
    today: NaiveDate,
) -> Result<Vec<ItemView>, ApiError> {
    Ok(store::postmortems::all_items(&state.db)
        .await?
        .into_iter()
        .filter(|i| !hidden.hides_number(i.incident_number))
        .map(|i| item_view(i, today))
        .collect())
}

/// Incidents at recurrence risk, without those `hidden` from the caller.
#[cfg(feature = "ssr")]
pub(crate) async fn risks(
    state: &AppState,
    hidden: &store::leadership::Hidden,
) -> Result<Vec<RiskView>, ApiError> {
    Ok(store::postmortems::at_recurrence_risk(&state.db)
        .await?
        .into_iter()
        .filter(|r| !hidden.hides_number(r.number))
        .map(|r| RiskView {
            number: r.number,
            title: r.title,
            severity: r.severity,
            postmortem: r.postmortem,
            unverified_prevention: r.unverified_prevention,
        })
        .collect())
}

#[server(endpoint = "get_action_items", input = Json)]
pub async fn get_action_items(filter: TrackerFilter) -> Result<TrackerView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let today = Utc::now().date_naive();
        let owner = match filter.owner.trim() {
            "" => None,
            "me" => Some(user.id.0),
            raw => Some(
                raw.parse::<i64>()
                    .map_err(|_| ApiError::invalid("owner", "Choose an owner from the list."))?,
            ),
        };
        let incident =
            match filter.incident.trim() {
                "" => None,
                raw => Some(raw.parse::<i64>().map_err(|_| {
                    ApiError::invalid("incident", "Choose an incident from the list.")
                })?),
            };
        let status = match filter.status.trim() {
            "" | "outstanding" => None,
            raw => Some(
                ActionStatus::parse(raw)
                    .ok_or_else(|| ApiError::invalid("status", "Choose a status from the list."))?,
            ),
        };
        let week = today + chrono::Duration::days(7);
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let all = tracker_items(&state, &hidden, today).await?;
        let mut incidents: Vec<(i64, String)> = all
            .iter()
            .map(|i| (i.incident_number, i.incident_title.clone()))
            .collect();
        incidents.sort();
        incidents.dedup();
        let items = all
            .into_iter()
            .filter(|i| owner.is_none_or(|o| i.owner_id == Some(o)))
            .filter(|i| incident.is_none_or(|n| i.incident_number == n))
            .filter(|i| match (filter.status.trim(), status) {
                ("outstanding", _) => i.status.is_outstanding(),
                (_, Some(s)) => i.status == s,
                _ => true,
            })
            .filter(|i| match filter.due.trim() {
                "overdue" => i.overdue,
                "week" => {
                    i.status.is_outstanding() && i.due.is_some_and(|d| d >= today && d <= week)
                }
                _ => true,
            })
            .collect();
        let people = store::users::list(&state.db)
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id.0, u.name))
            .collect();
        Ok(TrackerView {
            items,
            people,
            incidents,
            today,
        })
    })
    .await
}

/// A resolved incident whose prevention work is not all verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskView {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub postmortem: Option<PostmortemStatus>,
    pub unverified_prevention: usize,
}

/// The dashboard's share of follow-up: my outstanding items and incidents at risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub my_items: Vec<ItemView>,
    pub at_risk: Vec<RiskView>,
    /// Postmortems the caller owes as the incident's commander, soonest first.
    pub postmortems_owed: Vec<super::leadership::DueView>,
}

#[server(endpoint = "get_follow_up")]
pub async fn get_follow_up() -> Result<FollowUp, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let today = Utc::now().date_naive();
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let my_items = store::postmortems::items_of(&state.db, user.id)
            .await?
            .into_iter()
            .filter(|i| !hidden.hides_number(i.incident_number))
            .filter(|i| i.status != ActionStatus::Verified)
            .map(|i| item_view(i, today))
            .collect();
        let at_risk = risks(&state, &hidden).await?;
        let postmortems_owed = store::leadership::postmortems_due(&state.db)
            .await?
            .into_iter()
            .filter(|p| p.ic.as_ref().is_some_and(|(id, _)| *id == user.id))
            .map(|p| super::leadership::due_view(p, today))
            .collect();
        Ok(FollowUp {
            my_items,
            at_risk,
            postmortems_owed,
        })
    })
    .await
}

/// Median and p90 of one response time over a period, in minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRow {
    pub label: String,
    pub median: Option<i64>,
    pub p90: Option<i64>,
    /// How many incidents had both milestones.
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_severity: Vec<(Severity, usize)>,
    pub times: Vec<TimeRow>,
    /// Share of follow-up updates published by their due time, with the counts.
    pub punctuality: Option<f64>,
    pub updates_counted: usize,
    pub items: ItemFigures,
    pub items_total: usize,
}

/// Insights for incidents declared from `from` to `to` (inclusive, YYYY-MM-DD;
/// empty: the last 90 days).
#[server(endpoint = "get_insights")]
pub async fn get_insights(from: String, to: String) -> Result<InsightsView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let today = Utc::now().date_naive();
        let date = |field: &'static str, raw: &str, default: NaiveDate| match raw.trim() {
            "" => Ok(default),
            raw => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .filter(|d| rules::plausible_date(*d))
                .ok_or_else(|| {
                    ApiError::invalid(field, "Give a date from 2000 to 2199 as YYYY-MM-DD.")
                }),
        };
        let to = date("to", &to, today)?;
        let from = date("from", &from, to - chrono::Duration::days(90))?;
        if from > to {
            return Err(ApiError::invalid(
                "from",
                "The period starts before it ends.",
            ));
        }
        let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = (to + chrono::Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let data = store::postmortems::insight_data(&state.db, start, end, &hidden).await?;
        let by_severity = Severity::ALL
            .into_iter()
            .map(|s| (s, data.incidents.iter().filter(|i| i.severity == s).count()))
            .collect();
        let all_times: Vec<rules::ResponseTimes> = data
            .incidents
            .iter()
            .map(|i| response_times(&i.milestones))
            .collect();
        let row = |label: &str, pick: fn(&rules::ResponseTimes) -> Option<chrono::Duration>| {
            let values: Vec<chrono::Duration> = all_times.iter().filter_map(pick).collect();
            let (median, p90) = rules::median_and_p90(&values);
            TimeRow {
                label: label.to_owned(),
                median: median.map(|d| d.num_minutes()),
                p90: p90.map(|d| d.num_minutes()),
                count: values.len(),
            }
        };
        let times = vec![
            row("Time to roles assigned", |t| t.to_roles),
            row("Time to first update", |t| t.to_first_update),
            row("Time to mitigate", |t| t.to_mitigate),
            row("Time to resolve", |t| t.to_resolve),
        ];
        let items: Vec<(rules::ActionItem, Option<NaiveDate>)> = data
            .items
            .iter()
            .map(|i| (i.rules(), i.finished_on))
            .collect();
        Ok(InsightsView {
            from,
            to,
            by_severity,
            times,
            punctuality: rules::punctuality(&data.updates),
            updates_counted: data.updates.len(),
            items: rules::item_figures(&items, today),
            items_total: items.len(),
        })
    })
    .await
}

/// The path of the caller's private calendar feed; `reset` makes a new one
/// so an old, shared link stops working.
#[server(endpoint = "get_calendar_link")]
pub async fn get_calendar_link(reset: bool) -> Result<String, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let fresh = || {
            use rand::Rng;
            let bytes: [u8; 24] = rand::rngs::OsRng.gen();
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let now = Utc::now();
        if reset {
            store::postmortems::reset_calendar_token(&state.db, user.id, fresh(), now).await?;
        }
        let token = store::postmortems::calendar_token(&state.db, user.id, fresh(), now).await?;
        Ok(format!("/calendar/{token}.ics"))
    })
    .await
}
