//! The postmortem document: starting, writing, previewing, review and publishing.

use super::*;

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
        crate::api::markdown::check("text", &text)?;
        Ok(crate::api::markdown::render(&text).await.to_string())
    })
    .await
}

/// Parses a time typed in `zone` as `YYYY-MM-DDTHH:MM` (a datetime-local field).
#[cfg(feature = "ssr")]
fn parse_time(
    zone: &crate::domain::zones::ZoneRules,
    field: &'static str,
    raw: &str,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    zone.from_input(raw)
        .filter(|t| rules::plausible_date(t.date_naive()))
        .map(Some)
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!(
                    "Give the time as YYYY-MM-DD HH:MM ({}), from 2000 to 2199.",
                    zone.name
                ),
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
        move |state, user, id| async move {
            let zone = crate::api::zones::zone_of(&user);
            let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
            let mut sections = Vec::new();
            for section in Section::ALL {
                let text = bounded_text(
                    section.as_str(),
                    get(section.as_str()),
                    MAX_SECTION_CHARS,
                    None,
                )?;
                crate::api::markdown::check(section.as_str(), &text)?;
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
            let impact_started_at =
                parse_time(&zone, "impact_started_at", get("impact_started_at"))?;
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
        move |state, user, id| async move {
            let held_at = parse_time(&crate::api::zones::zone_of(&user), "held_at", &held_at)?
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
        let by = require_steward(&state, &user, id).await?;
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

/// Longest public summary of a postmortem.
pub const MAX_PUBLIC_SUMMARY_CHARS: usize = 4000;

/// Publishes a customer-facing summary of a published postmortem on the
/// status page (and to webhooks, chat and subscribers), under the incident's
/// public title. The guard reads it like any customer-facing update: with
/// warnings and without `confirm`, nothing goes out.
#[server(endpoint = "publish_postmortem_summary")]
pub async fn publish_postmortem_summary(
    number: i64,
    text: String,
    confirm: bool,
) -> Result<crate::api::updates::PublishOutcome, ApiError> {
    use crate::api::updates::PublishOutcome;
    use crate::domain::updates::{check, GuardContext, TemplateKind};
    respond(recorded(&[Subject::Incident(number)], async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let id = incident_id(&state, &user, number).await?;
        let by = require_steward(&state, &user, id).await?;
        let text = bounded_text(
            "text",
            &text,
            MAX_PUBLIC_SUMMARY_CHARS,
            Some("Write what customers should know: what happened, the impact, what changes."),
        )?;
        let updates = store::updates::for_incident(&state.db, id).await?;
        let Some(title) = updates
            .iter()
            .find(|u| u.kind == TemplateKind::CustomerFacing)
            .map(|u| u.title.clone())
        else {
            return Err(ApiError::invalid(
                "text",
                "This incident never reached the status page; there is no public incident to summarise.",
            ));
        };
        let names: Vec<String> = store::users::list(&state.db)
            .await?
            .into_iter()
            .map(|u| u.name)
            .collect();
        let values = BTreeMap::from([("summary".to_owned(), text.clone())]);
        let warnings = check(
            TemplateKind::CustomerFacing,
            &values,
            &GuardContext {
                // A postmortem promises nothing about restoration.
                validated_fix_in_progress: true,
                user_names: &names,
                open_hypotheses: &[],
            },
        );
        if !warnings.is_empty() && !confirm {
            return Ok(PublishOutcome::NeedsConfirmation { warnings });
        }
        let overridden: Vec<String> = warnings.into_iter().map(|w| w.message).collect();
        let update = store::postmortems::publish_public_summary(
            &state.db,
            id,
            &title,
            &text,
            &overridden,
            by,
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(PublishOutcome::Published { id: update.id })
    }))
    .await
}
