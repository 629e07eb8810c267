//! Server functions of stakeholder communication: the composer, publishing with
//! its guards, the status channel stakeholders read, and their question queue.

use super::ApiError;
use crate::domain::incidents::{IncidentStatus, Severity};
use crate::domain::status::ComponentStatus;
use crate::domain::updates::{QuestionState, Template, TemplateKind, Warning};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use {
    super::incidents::{incident_id, recorded, refused},
    super::session::{require_user, require_writer, respond, state},
    crate::domain::incidents::bounded_text,
    crate::domain::mitigation::{HypothesisStatus, Safety},
    crate::domain::roles::IncidentRole,
    crate::domain::updates::{
        self, GuardContext, IncidentFacts, MAX_QUESTION_CHARS, NEXT_UPDATE, TIME,
    },
    crate::store,
    crate::store::changes::Subject,
};

/// A published update as responders and stakeholders read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateView {
    pub id: i64,
    pub kind: TemplateKind,
    pub title: String,
    pub body: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub next_update_at: Option<DateTime<Utc>>,
    /// Guard warnings the publisher overrode.
    pub overridden: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: i64,
    pub asked_by: String,
    pub asked_at: DateTime<Utc>,
    pub question: String,
    pub state: QuestionState,
    pub answer: String,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
}

/// A status-page component and what this incident says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedComponent {
    pub id: i64,
    pub name: String,
    pub group_name: String,
    /// `None` while this incident does not affect it.
    pub status: Option<ComponentStatus>,
}

/// Everything the Comms page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommsView {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    /// Who speaks for the incident now ("Comms Lead" holder, else the IC).
    pub speaker: Option<String>,
    pub speaker_role: String,
    pub can_speak: bool,
    pub templates: Vec<Template>,
    /// Starting values per template, drawn from the incident.
    pub prefill: Vec<(TemplateKind, BTreeMap<String, String>)>,
    /// When the next update is due (none once resolved).
    pub next_update: Option<DateTime<Utc>>,
    pub update_cadence_minutes: i64,
    pub updates: Vec<UpdateView>,
    /// The question queue (only for whoever speaks for the incident).
    pub questions: Vec<QuestionView>,
    pub components: Vec<AffectedComponent>,
    /// Resolved, while the public page still shows the incident as ongoing: the
    /// customer-facing update is pre-filled as its resolution.
    pub resolution_due: bool,
}

/// What publishing did: published, or stopped at the guards' warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublishOutcome {
    Published {
        id: i64,
    },
    /// Nothing was published; publish again with `confirm` to override.
    NeedsConfirmation {
        warnings: Vec<Warning>,
    },
}

/// The status channel: what a stakeholder sees of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelView {
    pub number: i64,
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub declared_at: DateTime<Utc>,
    pub next_update: Option<DateTime<Utc>>,
    pub updates: Vec<UpdateView>,
    /// The caller's own questions, with answers.
    pub my_questions: Vec<QuestionView>,
    /// The postmortem can be read (it is published).
    pub postmortem_published: bool,
}

#[cfg(feature = "ssr")]
fn update_view(u: store::updates::PublishedUpdate) -> UpdateView {
    UpdateView {
        id: u.id,
        kind: u.kind,
        title: u.title,
        body: u.body,
        published_by: u.published_by,
        published_at: u.published_at,
        next_update_at: u.next_update_at,
        overridden: u
            .overridden
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

#[cfg(feature = "ssr")]
fn question_view(q: store::updates::Question) -> QuestionView {
    QuestionView {
        id: q.id,
        asked_by: q.asked_by_name,
        asked_at: q.asked_at,
        question: q.question,
        state: q.state,
        answer: q.answer,
        handled_by: q.handled_by,
        handled_at: q.handled_at,
    }
}

/// When the next update is due: from the newest update, else 20 minutes after declaring.
#[cfg(feature = "ssr")]
pub(crate) fn next_update_due(
    incident: &store::incidents::Incident,
    updates: &[store::updates::PublishedUpdate],
) -> Option<DateTime<Utc>> {
    if !incident.status.is_active() {
        return None;
    }
    match updates.first() {
        Some(newest) => newest.next_update_at,
        None => Some(
            crate::domain::rhythm::RhythmItem::FirstStakeholderUpdate
                .deadline(incident.declared_at),
        ),
    }
}

#[server(endpoint = "get_comms")]
pub async fn get_comms(number: i64) -> Result<CommsView, ApiError> {
    respond(async move {
        let state = state()?;
        // Visibility first: a hidden incident answers not-found to everyone outside it.
        let user = require_user(&state).await?;
        let room = super::incidents::visible_room(&state, &user, number).await?;
        if user.org_role == crate::domain::users::OrgRole::Viewer {
            return Err(ApiError::Forbidden(
                "Stakeholders follow incidents through the status channel.".to_owned(),
            ));
        }
        let incident = &room.incident;
        let updates = store::updates::for_incident(&state.db, incident.id).await?;
        let holder = |role| room.roles.iter().find(|h| h.role == role);
        let (speaker, speaker_role) = match holder(IncidentRole::CommsLead) {
            Some(h) => (Some(h.clone()), "Comms Lead"),
            None => (
                holder(IncidentRole::IncidentCommander).cloned(),
                "Incident Commander (no Comms Lead yet)",
            ),
        };
        let can_speak = speaker.as_ref().is_some_and(|h| h.user_id == user.id);
        let facts = IncidentFacts {
            severity: incident.severity.label().to_owned(),
            status: incident.status.label().to_owned(),
            impact: incident.impact.clone(),
            best_guess: incident.best_guess.clone(),
            hypothesis: room
                .hypotheses
                .iter()
                .rev()
                .find(|h| h.status == HypothesisStatus::Open)
                .map(|h| (h.statement.clone(), h.owner_name.clone())),
            mitigation: room.restore.iter().rev().find_map(|r| {
                r.safety.map(|s| {
                    (
                        r.step.label().to_owned(),
                        s.label().to_owned(),
                        r.by_name.clone(),
                    )
                })
            }),
        };
        let templates = store::updates::templates(&state.db)
            .await?
            .into_iter()
            .map(|t| t.template)
            .collect();
        let questions = if can_speak {
            store::updates::questions(&state.db, incident.id)
                .await?
                .into_iter()
                .map(question_view)
                .collect()
        } else {
            Vec::new()
        };
        let affected = store::status::incident_components(&state.db, incident.id).await?;
        let components = store::status::components(&state.db)
            .await?
            .into_iter()
            .map(|c| AffectedComponent {
                status: affected.iter().find(|a| a.0 == c.id).map(|a| a.1),
                id: c.id,
                name: c.name,
                group_name: c.group_name,
            })
            .collect();
        let last_public = updates
            .iter()
            .find(|u| u.kind == TemplateKind::CustomerFacing);
        let resolution_due = !incident.status.is_active()
            && last_public.is_some_and(|u| u.public_status != "resolved");
        let mut prefill: Vec<(TemplateKind, BTreeMap<String, String>)> = TemplateKind::ALL
            .into_iter()
            .map(|k| (k, updates::prefill(k, &facts)))
            .collect();
        if let (true, Some(last)) = (resolution_due, last_public) {
            if let Some((_, values)) = prefill
                .iter_mut()
                .find(|(k, _)| *k == TemplateKind::CustomerFacing)
            {
                *values = updates::resolution_prefill(&last.title);
            }
        }
        Ok(CommsView {
            number,
            title: incident.title.clone(),
            severity: incident.severity,
            status: incident.status,
            speaker: speaker.map(|h| h.user_name),
            speaker_role: speaker_role.to_owned(),
            can_speak,
            templates,
            prefill,
            resolution_due,
            next_update: next_update_due(incident, &updates),
            update_cadence_minutes: incident.update_cadence_minutes,
            updates: updates.into_iter().map(update_view).collect(),
            questions,
            components,
        })
    })
    .await
}

/// Publishes an update. The guards run first: with warnings and without
/// `confirm`, nothing is published and the warnings come back.
#[server(endpoint = "publish_update", input = Json)]
pub async fn publish_update(
    number: i64,
    kind: String,
    values: BTreeMap<String, String>,
    confirm: bool,
) -> Result<PublishOutcome, ApiError> {
    respond(recorded(&[Subject::Incident(number)], async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let kind = TemplateKind::parse("kind", &kind)?;
        let room = super::incidents::visible_room(&state, &user, number).await?;
        let id = room.incident.id;
        if !store::updates::may_speak(&state.db, id, user.id).await? {
            return Err(ApiError::Forbidden(
                crate::domain::roles::RoleRefusal::OnlyCommsLeadSpeaks
                    .message()
                    .to_owned(),
            ));
        }
        let mut values = updates::parse_values(kind, &values)?;
        let user_names: Vec<String> = store::users::list(&state.db)
            .await?
            .into_iter()
            .map(|u| u.name)
            .collect();
        let open_hypotheses: Vec<String> = room
            .hypotheses
            .iter()
            .filter(|h| h.status == HypothesisStatus::Open)
            .map(|h| h.statement.clone())
            .collect();
        let validated_fix_in_progress = room.incident.status == IncidentStatus::Monitoring
            || room
                .restore
                .iter()
                .any(|r| r.safety.is_some_and(|s| s != Safety::Untested));
        let warnings = updates::check(
            kind,
            &values,
            &GuardContext {
                validated_fix_in_progress,
                user_names: &user_names,
                open_hypotheses: &open_hypotheses,
            },
        );
        if !warnings.is_empty() && !confirm {
            return Ok(PublishOutcome::NeedsConfirmation { warnings });
        }
        let now = Utc::now();
        values.insert(TIME.to_owned(), updates::clock_text(now));
        if room.incident.status.is_active() {
            let next = now + chrono::Duration::minutes(room.incident.update_cadence_minutes);
            values.insert(NEXT_UPDATE.to_owned(), updates::clock_text(next));
        }
        let template = store::updates::template(&state.db, kind).await?.template;
        let body = template.render(&values);
        let title = values.get("issue").cloned().unwrap_or_default();
        let overridden: Vec<String> = warnings.into_iter().map(|w| w.message).collect();
        let (update, _) = store::updates::publish(
            &state.db,
            id,
            &store::updates::Publication {
                kind,
                title: &title,
                body: &body,
                overridden: &overridden,
            },
            user.id,
            now,
        )
        .await
        .map_err(refused)?;
        // Announces the public page too: a customer update makes the incident public.
        tracing::info!(number, kind = kind.as_str(), "update published");
        Ok(PublishOutcome::Published { id: update.id })
    }))
    .await
}

/// Marks a status-page component as affected by the incident ("" or
/// "operational" clears it).
#[server(endpoint = "set_affected_component")]
pub async fn set_affected_component(
    number: i64,
    component_id: i64,
    status: String,
) -> Result<(), ApiError> {
    // Clearing the last affected component takes the incident off the public page.
    let subjects = [Subject::Incident(number), Subject::Status];
    respond(recorded(&subjects, async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let id = incident_id(&state, &user, number).await?;
        let status = match status.as_str() {
            "" => None,
            raw => Some(ComponentStatus::parse("status", raw)?),
        };
        store::status::set_incident_component(
            &state.db,
            id,
            component_id,
            status,
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(())
    }))
    .await
}

#[server(endpoint = "get_status_channel")]
pub async fn get_status_channel(number: i64) -> Result<ChannelView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_user(&state).await?;
        let incident = super::incidents::visible_incident(&state, &user, number).await?;
        let updates = store::updates::for_incident(&state.db, incident.id).await?;
        let my_questions = store::updates::questions(&state.db, incident.id)
            .await?
            .into_iter()
            .filter(|q| q.asked_by == user.id)
            .map(question_view)
            .collect();
        Ok(ChannelView {
            number,
            title: incident.title.clone(),
            severity: incident.severity,
            status: incident.status,
            declared_at: incident.declared_at,
            next_update: next_update_due(&incident, &updates),
            updates: updates.into_iter().map(update_view).collect(),
            my_questions,
            postmortem_published: store::postmortems::status_of(&state.db, incident.id).await?
                == Some(crate::domain::postmortems::PostmortemStatus::Published),
        })
    })
    .await
}

/// Queues a stakeholder's question for the Comms Lead.
#[server(endpoint = "ask_question")]
pub async fn ask_question(number: i64, question: String) -> Result<(), ApiError> {
    respond(recorded(&[Subject::Incident(number)], async move {
        let state = state()?;
        let user = require_user(&state).await?;
        let question = bounded_text(
            "question",
            &question,
            MAX_QUESTION_CHARS,
            Some("Write your question."),
        )?;
        let id = incident_id(&state, &user, number).await?;
        store::updates::ask(&state.db, id, user.id, &question, Utc::now()).await?;
        Ok(())
    }))
    .await
}

/// Answers a question; the asker sees the answer in their status channel.
#[server(endpoint = "answer_question")]
pub async fn answer_question(
    number: i64,
    question_id: i64,
    answer: String,
) -> Result<(), ApiError> {
    respond(recorded(&[Subject::Incident(number)], async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let answer = bounded_text(
            "answer",
            &answer,
            MAX_QUESTION_CHARS,
            Some("Write an answer."),
        )?;
        let id = incident_id(&state, &user, number).await?;
        store::updates::handle_question(
            &state.db,
            id,
            question_id,
            Some(&answer),
            user.id,
            Utc::now(),
        )
        .await
        .map_err(refused)?;
        Ok(())
    }))
    .await
}

/// Dismisses a question without an answer.
#[server(endpoint = "dismiss_question")]
pub async fn dismiss_question(number: i64, question_id: i64) -> Result<(), ApiError> {
    respond(recorded(&[Subject::Incident(number)], async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let id = incident_id(&state, &user, number).await?;
        store::updates::handle_question(&state.db, id, question_id, None, user.id, Utc::now())
            .await
            .map_err(refused)?;
        Ok(())
    }))
    .await
}
