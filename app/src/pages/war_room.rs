//! The war room of one incident: header, role board, rhythm, decision log, timeline. Live.

use super::leadership::{ApprovalsPanel, BlockersPanel, RespondersPanel, RestrictedNote};
use crate::api::auth::AuthState;
use crate::api::incidents::{
    get_war_room, AddHypothesis, AddTimelineNote, AssignRole, ChangeStatus, CheckIn,
    CorrectMilestone, DecisionView, HypothesisView, LogDecision, RecordDecisionResult,
    RecordRestoreStep, ReleaseRole, RoleView, SetCadence, TickRhythmItem, UpdateHypothesis,
    UpdateSummary, WarRoomView, ROOM_WINDOW, ROOM_WINDOW_MAX,
};
use crate::api::updates::AskQuestion;
use crate::api::ApiError;
use crate::components::{
    clock, clock_seconds, in_zone, use_incident_number, use_live, use_now, FormMessage,
    SeverityBadge, StatusBadge, ZoneNote,
};
use crate::domain::incidents::{display_number, Severity};
use crate::domain::mitigation::{HypothesisStatus, Safety};
use crate::domain::rhythm::{countdown_text, elapsed_text, ItemState};
use crate::domain::roles::IncidentRole;
use crate::domain::users::OrgRole;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

/// Every action of the war room, so the page refetches after any of them.
#[derive(Clone, Copy)]
struct Actions {
    assign: ServerAction<AssignRole>,
    release: ServerAction<ReleaseRole>,
    status: ServerAction<ChangeStatus>,
    cadence: ServerAction<SetCadence>,
    tick: ServerAction<TickRhythmItem>,
    check_in: ServerAction<CheckIn>,
    decide: ServerAction<LogDecision>,
    result: ServerAction<RecordDecisionResult>,
    note: ServerAction<AddTimelineNote>,
    add_hypothesis: ServerAction<AddHypothesis>,
    update_hypothesis: ServerAction<UpdateHypothesis>,
    restore: ServerAction<RecordRestoreStep>,
    correct: ServerAction<CorrectMilestone>,
    summary: ServerAction<UpdateSummary>,
    /// How many of the newest decisions and timeline entries the page shows.
    decisions_shown: RwSignal<i64>,
    timeline_shown: RwSignal<i64>,
}

impl Actions {
    fn new() -> Self {
        Actions {
            assign: ServerAction::new(),
            release: ServerAction::new(),
            status: ServerAction::new(),
            cadence: ServerAction::new(),
            tick: ServerAction::new(),
            check_in: ServerAction::new(),
            decide: ServerAction::new(),
            result: ServerAction::new(),
            note: ServerAction::new(),
            add_hypothesis: ServerAction::new(),
            update_hypothesis: ServerAction::new(),
            restore: ServerAction::new(),
            correct: ServerAction::new(),
            summary: ServerAction::new(),
            decisions_shown: RwSignal::new(ROOM_WINDOW),
            timeline_shown: RwSignal::new(ROOM_WINDOW),
        }
    }

    fn versions(&self) -> usize {
        self.assign.version().get()
            + self.release.version().get()
            + self.status.version().get()
            + self.cadence.version().get()
            + self.tick.version().get()
            + self.check_in.version().get()
            + self.decide.version().get()
            + self.result.version().get()
            + self.note.version().get()
            + self.add_hypothesis.version().get()
            + self.update_hypothesis.version().get()
            + self.restore.version().get()
            + self.correct.version().get()
            + self.summary.version().get()
    }

    /// The refusal to show, from whichever action answered last with one.
    fn last_error(&self) -> Option<ApiError> {
        fn err<T>(v: Option<Result<T, ApiError>>) -> Option<ApiError> {
            v.and_then(Result::err)
        }
        err(self.assign.value().get())
            .or_else(|| err(self.release.value().get()))
            .or_else(|| err(self.status.value().get()))
            .or_else(|| err(self.cadence.value().get()))
            .or_else(|| err(self.tick.value().get()))
            .or_else(|| err(self.check_in.value().get()))
            .or_else(|| err(self.result.value().get()))
            .or_else(|| err(self.update_hypothesis.value().get()))
            .or_else(|| err(self.correct.value().get()))
            .or_else(|| err(self.summary.value().get()))
    }
}

/// What one incident's page shows: the war room for responders; stakeholders
/// (viewers) are sent on to the status channel, a screen of its own.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Screen {
    Room(Box<WarRoomView>),
    Channel,
}

#[component]
pub fn WarRoomPage() -> impl IntoView {
    let number = use_incident_number();
    let live = use_live();
    let actions = Actions::new();
    let lead = super::leadership::LeadActions::new();
    let changes = live.for_incident(number);
    let auth = expect_context::<crate::Auth>();
    // Observers ask the Comms Lead from the war room (the responders panel).
    let ask = ServerAction::<AskQuestion>::new();
    let ask_error = Signal::derive(move || ask.value().get().and_then(Result::err));
    let room = Resource::new(
        move || {
            (
                number(),
                changes.get(),
                actions.versions() + lead.versions(),
                (actions.decisions_shown.get(), actions.timeline_shown.get()),
            )
        },
        move |(number, _, _, (decisions, timeline))| async move {
            let viewer = matches!(
                auth.state.await,
                Ok(AuthState { user: Some(ref user), .. }) if user.org_role == OrgRole::Viewer
            );
            if viewer {
                Ok(Screen::Channel)
            } else {
                get_war_room(number, Some(decisions), Some(timeline))
                    .await
                    .map(|v| Screen::Room(Box::new(v)))
            }
        },
    );
    let error = Signal::derive(move || actions.last_error().or_else(|| lead.last_error()));
    let now = use_now();

    view! {
        <Transition fallback=|| view! { <p class="loading">"Opening the war room…"</p> }>
            {move || Suspend::new(async move {
                match room.await {
                    Ok(Screen::Channel) => {
                        view! { <leptos_router::components::Redirect path=format!("/incidents/{}/channel", number()) /> }
                            .into_any()
                    }
                    Ok(Screen::Room(view)) => {
                        let view = *view;
                        view! {
                            <Title text=format!("{} {}", display_number(view.number), view.title) />
                            <div class="war-room" data-testid="war-room">
                                <Header view=view.clone() now actions />
                                <FormMessage error />
                                <RestrictedNote view=view.clone() actions=lead />
                                <UpdateNudge view=view.clone() now />
                                <div class="war-grid">
                                    <div class="war-col">
                                        <RoleBoard view=view.clone() now actions />
                                        <RespondersPanel view=view.clone() actions=lead ask ask_error />
                                        <Rhythm view=view.clone() now actions />
                                    </div>
                                    <div class="war-col">
                                        <ApprovalsPanel view=view.clone() now actions=lead />
                                        <BlockersPanel view=view.clone() now actions=lead />
                                        <DecisionLog view=view.clone() actions />
                                        <Hypotheses view=view.clone() actions />
                                    </div>
                                    <div class="war-col">
                                        <AlertsPanel view=view.clone() now />
                                        <RestoreFirst view=view.clone() actions />
                                        <Timeline view actions />
                                    </div>
                                </div>
                            </div>
                        }
                            .into_any()
                    }
                    Err(ApiError::NotFound) => {
                        view! {
                            <Title text="Incident not found" />
                            <section class="panel"><p>"There is no incident with that number."</p></section>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Header(view: WarRoomView, now: ReadSignal<DateTime<Utc>>, actions: Actions) -> AnyView {
    let declared = view.declared_at;
    let resolved = view.resolved_at;
    let since = move || elapsed_text(declared, resolved.unwrap_or(now.get()));
    let status_ref = NodeRef::<leptos::html::Select>::new();
    let severity_ref = NodeRef::<leptos::html::Select>::new();
    let number = view.number;
    let version = view.version;
    let options = view.status.next_options();
    let current_severity = view.severity;
    view! {
        <header class="war-header">
            <div class="war-title">
                <span class="war-number">{display_number(view.number)}</span>
                <h1>{view.title.clone()}</h1>
            </div>
            <div class="war-facts">
                <SeverityBadge severity=view.severity />
                <StatusBadge status=view.status />
                <span class="hint" title=format!("Declared {}", clock(declared))>
                    {move || if resolved.is_some() { format!("resolved after {}", since()) } else { format!("{} since declared", since()) }}
                </span>
                {(!view.bridge_url.is_empty())
                    .then(|| view! { <a href=view.bridge_url.clone() target="_blank" rel="noopener">"Join the bridge"</a> })}
                {view.restricted.then(|| view! { <span class="flag">"Restricted"</span> })}
                {resolved.is_some()
                    .then(|| view! { <a class="button-link" href=format!("/incidents/{number}/postmortem")>"Postmortem"</a> })}
                {view.postmortem_due_on
                    .map(|due| view! { <span class="hint">{format!("postmortem due {}", crate::components::day(due))}</span> })}
            </div>
            {view.resolution_due.then(|| view! {
                <p class="notice notice-warn resolution-due" role="alert" data-testid="resolution-due">
                    "The status page still shows this incident as ongoing. "
                    <a href=format!("/incidents/{number}/comms")>"Publish the resolution"</a>
                </p>
            })}
            {(view.can_edit)
                .then(|| {
                    view! {
                        <form
                            class="status-form"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                let status = status_ref.get().map(|s| s.value()).unwrap_or_default();
                                let severity = severity_ref.get().map(|s| s.value()).unwrap_or_default();
                                actions.status.dispatch(ChangeStatus { number, version, status, severity });
                            }
                        >
                            <label class="sr-only" for="status-select">"Status"</label>
                            <select id="status-select" node_ref=status_ref>
                                <option value=view.status.as_str() selected>{format!("{} (now)", view.status.label())}</option>
                                {options
                                    .into_iter()
                                    .map(|s| view! { <option value=s.as_str()>{s.label()}</option> })
                                    .collect_view()}
                            </select>
                            <label class="sr-only" for="severity-select">"Severity"</label>
                            <select id="severity-select" node_ref=severity_ref>
                                {Severity::ALL
                                    .into_iter()
                                    .map(|s| view! { <option value=s.as_str() selected=s == current_severity>{s.label()}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" class="button-quiet">"Update"</button>
                        </form>
                    }
                })}
        </header>
        <div class="war-summary">
            <span><strong>"Impact: "</strong>{if view.impact.is_empty() { "not posted yet".to_owned() } else { view.impact.clone() }}</span>
            <span><strong>"Best guess: "</strong>{if view.best_guess.is_empty() { "not posted yet".to_owned() } else { view.best_guess.clone() }}</span>
            {view.can_edit.then(|| view! { <SummaryForm view=view.clone() actions /> })}
        </div>
    }
    .into_any()
}

#[component]
fn RoleBoard(view: WarRoomView, now: ReadSignal<DateTime<Utc>>, actions: Actions) -> AnyView {
    let people = view.people.clone();
    let rows = view
        .roles
        .clone()
        .into_iter()
        .filter(|r| r.required || r.holder.is_some())
        .map(|role| {
            view! { <RoleRow role view=view.clone() people=people.clone() now actions /> }
        })
        .collect_view();
    let optional_open: Vec<_> = view
        .roles
        .iter()
        .filter(|r| !r.required && r.holder.is_none())
        .map(|r| r.role)
        .collect();
    let number = view.number;
    let me = view.me;
    let can_add = view.can_join && !optional_open.is_empty();
    let add_ref = NodeRef::<leptos::html::Select>::new();
    view! {
        <section class="panel war-panel" aria-labelledby="roles-heading">
            <h2 id="roles-heading">"Roles"</h2>
            <ul class="roles" data-testid="role-board">{rows}</ul>
            {can_add
                .then(|| {
                    view! {
                        <form
                            class="inline-row"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                if let Some(role) = add_ref.get().map(|s| s.value()) {
                                    actions.assign.dispatch(AssignRole { number, role, user_id: me });
                                }
                            }
                        >
                            <label class="sr-only" for="optional-role">"Optional role"</label>
                            <select id="optional-role" node_ref=add_ref>
                                {optional_open
                                    .iter()
                                    .map(|r| view! { <option value=r.as_str()>{r.label()}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" class="button-quiet">"Take this role"</button>
                        </form>
                    }
                })}
        </section>
    }
    .into_any()
}

#[component]
fn RoleRow(
    role: RoleView,
    view: WarRoomView,
    people: Vec<crate::api::incidents::PersonView>,
    now: ReadSignal<DateTime<Utc>>,
    actions: Actions,
) -> AnyView {
    let number = view.number;
    let me = view.me;
    let role_name = role.role.as_str().to_owned();
    let label = role.role.label();
    let select_ref = NodeRef::<leptos::html::Select>::new();
    let can_assign_others = view.can_join && (view.commands || role.holder.is_none());
    let holder_id = role.holder.as_ref().map(|h| h.user_id);
    let can_release = view.can_join
        && role.role != crate::domain::roles::IncidentRole::IncidentCommander
        && holder_id.is_some()
        && (view.commands || holder_id == Some(me));
    let open_since = role.open_since;
    let is_core = role.required;
    let role_for_release = role_name.clone();
    view! {
        <li class="role" class:role-gap=role.holder.is_none() && is_core data-role=role_name.clone()>
            <span class="role-name">{label}</span>
            <span class="role-holder">
                {match role.holder.clone() {
                    Some(h) => {
                        let detail = match &h.previous {
                            Some(prev) => format!("since {} · from {prev}", clock(h.since)),
                            None => format!("since {} · by {}", clock(h.since), h.assigned_by),
                        };
                        view! {
                            <strong data-testid="holder">{h.name.clone()}</strong>
                            {(h.roles_held > 1).then(|| view! { <span class="flag">{format!("holds {} roles", h.roles_held)}</span> })}
                            <span class="hint">{detail}</span>
                        }
                            .into_any()
                    }
                    None => {
                        view! {
                            <span class="gap-text">
                                {move || match open_since {
                                    Some(at) if is_core => format!("Open for {}", elapsed_text(at, now.get())),
                                    _ => "Open".to_owned(),
                                }}
                            </span>
                        }
                            .into_any()
                    }
                }}
            </span>
            <span class="role-actions">
                {can_assign_others
                    .then(|| {
                        let role_name = role_name.clone();
                        view! {
                            <form
                                class="inline-row"
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    let user_id = select_ref
                                        .get()
                                        .and_then(|s| s.value().parse::<i64>().ok())
                                        .unwrap_or(me);
                                    actions.assign.dispatch(AssignRole { number, role: role_name.clone(), user_id });
                                }
                            >
                                <label class="sr-only" for=format!("assign-{}", role_name)>{format!("Person for {label}")}</label>
                                <select id=format!("assign-{}", role_name) node_ref=select_ref aria-label=format!("Person for {label}")>
                                    {if view.commands {
                                        people
                                            .iter()
                                            .map(|p| view! { <option value=p.id.to_string() selected=Some(p.id) == holder_id>{p.name.clone()}</option> })
                                            .collect_view()
                                            .into_any()
                                    } else {
                                        view! { <option value=me.to_string()>"Me"</option> }.into_any()
                                    }}
                                </select>
                                <button type="submit" class="button-quiet">
                                    {if holder_id.is_some() { "Hand off" } else if view.commands { "Assign" } else { "Take" }}
                                </button>
                            </form>
                        }
                    })}
                {can_release
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button-link"
                                on:click=move |_| {
                                    actions.release.dispatch(ReleaseRole { number, role: role_for_release.clone() });
                                }
                            >
                                "Release"
                            </button>
                        }
                    })}
            </span>
        </li>
    }
    .into_any()
}

/// Tells whoever speaks for the incident that a stakeholder update is overdue.
#[component]
fn UpdateNudge(view: WarRoomView, now: ReadSignal<DateTime<Utc>>) -> AnyView {
    let holder = |role: IncidentRole| {
        view.roles
            .iter()
            .find(|r| r.role == role)
            .and_then(|r| r.holder.as_ref())
            .map(|h| h.user_id)
    };
    let speaker = holder(IncidentRole::CommsLead).or(holder(IncidentRole::IncidentCommander));
    let number = view.number;
    match (view.next_update, speaker == Some(view.me)) {
        (Some(due), true) => view! {
            <Show when=move || { now.get() > due }>
                <p class="notice-warn nudge" role="status" data-testid="update-nudge">
                    "The stakeholder update is " {move || countdown_text(due, now.get())} ". "
                    <a href=format!("/incidents/{number}/comms")>"Write it now"</a>
                </p>
            </Show>
        }
        .into_any(),
        _ => ().into_any(),
    }
}

#[component]
fn Rhythm(view: WarRoomView, now: ReadSignal<DateTime<Utc>>, actions: Actions) -> AnyView {
    let number = view.number;
    let version = view.version;
    let declared = view.declared_at;
    let next_check_in = view.next_check_in;
    let next_update = view.next_update;
    let active = view.status.is_active();
    let decision_ref = NodeRef::<leptos::html::Input>::new();
    let update_ref = NodeRef::<leptos::html::Input>::new();
    let items = view
        .rhythm
        .iter()
        .map(|r| {
            let r = r.clone();
            let item = r.item;
            let state = move || ItemState::of(item, declared, r.done_at, now.get());
            let can_tick = view.can_edit && !r.automatic && r.done_at.is_none();
            view! {
                <li
                    class="rhythm-item"
                    class:done=move || matches!(state(), ItemState::Done { .. })
                    class:overdue=move || active && state().is_overdue()
                >
                    <span class="rhythm-mark" aria-hidden="true">
                        {move || match state() {
                            ItemState::Done { .. } => "✓",
                            ItemState::Overdue { .. } if active => "!",
                            _ => "○",
                        }}
                    </span>
                    <span class="rhythm-label">{item.label()}</span>
                    <span class="rhythm-when hint">
                        {move || match state() {
                            ItemState::Done { at } => format!("done {}", clock(at)),
                            ItemState::Due { by } => format!("due {}", clock(by)),
                            ItemState::Overdue { since } => format!("overdue since {}", clock(since)),
                        }}
                    </span>
                    {can_tick
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="button-link"
                                    on:click=move |_| {
                                        actions.tick.dispatch(TickRhythmItem { number, item: item.as_str().to_owned() });
                                    }
                                >
                                    "Done"
                                </button>
                            }
                        })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel war-panel" aria-labelledby="rhythm-heading">
            <h2 id="rhythm-heading">"Rhythm"</h2>
            {active
                .then(move || {
                    view! {
                        <div class="countdowns">
                            <div class="countdown" class:overdue=move || { now.get() > next_check_in }>
                                <span class="hint">"Next check-in"</span>
                                <strong data-testid="next-check-in">{move || countdown_text(next_check_in, now.get())}</strong>
                                {view.can_edit.then(|| view! {
                                    <button type="button" class="button-link" on:click=move |_| { actions.check_in.dispatch(CheckIn { number }); }>
                                        "Check in now"
                                    </button>
                                })}
                            </div>
                            {next_update.map(|next_update| view! {
                                <div class="countdown" class:overdue=move || { now.get() > next_update }>
                                    <span class="hint">"Next stakeholder update"</span>
                                    <strong data-testid="next-update">{move || countdown_text(next_update, now.get())}</strong>
                                    <a class="button-link" href=format!("/incidents/{number}/comms")>"Compose"</a>
                                </div>
                            })}
                        </div>
                    }
                })}
            <ul class="rhythm">{items}</ul>
            <Milestones view=view.clone() actions />
            {(view.can_edit && view.commands)
                .then(|| {
                    view! {
                        <form
                            class="cadence-form"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                let decision_minutes = decision_ref.get().map(|i| i.value()).unwrap_or_default();
                                let update_minutes = update_ref.get().map(|i| i.value()).unwrap_or_default();
                                actions.cadence.dispatch(SetCadence { number, version, decision_minutes, update_minutes });
                            }
                        >
                            <label>
                                "Check-in every "
                                <input type="number" min="5" max="120" node_ref=decision_ref value=view.decision_cadence_minutes.to_string() />
                                " min"
                            </label>
                            <label>
                                "Update every "
                                <input type="number" min="5" max="120" node_ref=update_ref value=view.update_cadence_minutes.to_string() />
                                " min"
                            </label>
                            <button type="submit" class="button-quiet">"Set cadence"</button>
                        </form>
                    }
                })}
        </section>
    }
    .into_any()
}

#[component]
fn DecisionLog(view: WarRoomView, actions: Actions) -> AnyView {
    let number = view.number;
    let me = view.me;
    let decision_ref = NodeRef::<leptos::html::Input>::new();
    let reason_ref = NodeRef::<leptos::html::Input>::new();
    let owner_ref = NodeRef::<leptos::html::Select>::new();
    let error = Signal::derive(move || actions.decide.value().get().and_then(Result::err));

    // "d" anywhere outside a text field jumps to the decision form.
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            use leptos::wasm_bindgen::JsCast;
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
                .unwrap_or(false);
            if !typing && ev.key() == "d" && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() {
                if let Some(input) = decision_ref.get_untracked() {
                    ev.prevent_default();
                    let _ = input.focus();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }

    let decisions = view
        .decisions
        .iter()
        .map(|d| view! { <DecisionRow decision=d.clone() number can_edit=view.can_edit actions /> })
        .collect_view();
    view! {
        <section class="panel war-panel" aria-labelledby="decisions-heading">
            <h2 id="decisions-heading">"Decision log" <kbd class="shortcut" title="Press d to log a decision">"d"</kbd> <ZoneNote /></h2>
            {view.can_edit.then(|| view! {
                <form
                    class="decision-form"
                    data-testid="decision-form"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let decision = decision_ref.get().map(|i| i.value()).unwrap_or_default();
                        let reason = reason_ref.get().map(|i| i.value()).unwrap_or_default();
                        let owner_id = owner_ref
                            .get()
                            .and_then(|s| s.value().parse::<i64>().ok())
                            .unwrap_or(me);
                        actions.decide.dispatch(LogDecision { number, decision, reason, owner_id });
                        if let Some(input) = decision_ref.get() { input.set_value(""); }
                        if let Some(input) = reason_ref.get() { input.set_value(""); }
                    }
                >
                    <label class="sr-only" for="decision-input">"Decision"</label>
                    <input id="decision-input" node_ref=decision_ref maxlength="500" placeholder="Decision, e.g. roll back 4.2" autocomplete="off" />
                    <label class="sr-only" for="reason-input">"Reason"</label>
                    <input id="reason-input" node_ref=reason_ref maxlength="1000" placeholder="Because… (evidence or hypothesis)" autocomplete="off" />
                    <label class="sr-only" for="owner-select">"Owner"</label>
                    <select id="owner-select" node_ref=owner_ref>
                        {view.people.iter().map(|p| view! { <option value=p.id.to_string() selected=p.id == me>{p.name.clone()}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="button-primary">"Log"</button>
                </form>
                <FormMessage error />
            })}
            <ol class="decisions scroll" data-testid="decisions">
                {if view.decisions.is_empty() {
                    view! { <li class="empty hint">"No decisions yet."</li> }.into_any()
                } else {
                    decisions.into_any()
                }}
            </ol>
            <Older shown=view.decisions.len() total=view.decision_count what="decisions" more=actions.decisions_shown />
        </section>
    }
    .into_any()
}

#[component]
fn DecisionRow(decision: DecisionView, number: i64, can_edit: bool, actions: Actions) -> AnyView {
    let result_ref = NodeRef::<leptos::html::Input>::new();
    // The result form is made only for the decision someone is completing.
    let adding = RwSignal::new(false);
    let id = decision.id;
    let version = decision.version;
    view! {
        <li class="decision">
            <div class="decision-head">
                <time class="hint">{clock_seconds(decision.decided_at)}</time>
                <strong>{decision.decision.clone()}</strong>
                <span class="hint">{format!("owner {}", decision.owner)}</span>
            </div>
            {(!decision.reason.is_empty()).then(|| view! { <p class="decision-reason">{decision.reason.clone()}</p> })}
            {match decision.result.clone() {
                Some(result) => view! {
                    <p class="decision-result">
                        <span class="hint">{decision.result_at.map(|at| format!("Result {}: ", clock_seconds(at))).unwrap_or_default()}</span>
                        {result}
                    </p>
                }.into_any(),
                None if can_edit => view! {
                    <Show
                        when=move || adding.get()
                        fallback=move || view! {
                            <button type="button" class="button-quiet" on:click=move |_| adding.set(true)>"Add result"</button>
                        }
                    >
                        <form
                            class="inline-row"
                            on:submit=move |ev| {
                                ev.prevent_default();
                                let result = result_ref.get().map(|i| i.value()).unwrap_or_default();
                                actions.result.dispatch(RecordDecisionResult { number, decision_id: id, version, result });
                            }
                        >
                            <label class="sr-only" for=format!("result-{id}")>"Result"</label>
                            <input id=format!("result-{id}") node_ref=result_ref maxlength="1000" placeholder="Result, when known" autofocus />
                            <button type="submit" class="button-quiet">"Save result"</button>
                        </form>
                    </Show>
                }.into_any(),
                None => view! { <p class="hint">"Result pending"</p> }.into_any(),
            }}
        </li>
    }
    .into_any()
}

#[component]
fn Timeline(view: WarRoomView, actions: Actions) -> AnyView {
    let number = view.number;
    let view_len = view.timeline.len();
    let note_ref = NodeRef::<leptos::html::Input>::new();
    let error = Signal::derive(move || actions.note.value().get().and_then(Result::err));
    view! {
        <section class="panel war-panel" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline" <ZoneNote /></h2>
            {view.can_edit.then(|| view! {
                <form
                    class="inline-row note-form"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let body = note_ref.get().map(|i| i.value()).unwrap_or_default();
                        actions.note.dispatch(AddTimelineNote { number, body });
                        if let Some(input) = note_ref.get() { input.set_value(""); }
                    }
                >
                    <label class="sr-only" for="note-input">"Note"</label>
                    <input id="note-input" node_ref=note_ref maxlength="2000" placeholder="Add a note for responders" autocomplete="off" />
                    <button type="submit" class="button-quiet">"Post"</button>
                </form>
                <FormMessage error />
            })}
            <ol class="timeline scroll" data-testid="timeline">
                {view
                    .timeline
                    .iter()
                    .cloned()
                    .map(|e| view! {
                        <li class="entry" class:entry-event=e.is_event>
                            <time class="hint">{clock_seconds(e.at)}</time>
                            <span class="entry-body">
                                {e.by_scribe.then(|| view! { <span class="flag">"Scribe"</span> })}
                                {(!e.is_event).then(|| view! { <strong>{e.author.clone().unwrap_or_default()}": "</strong> })}
                                {e.body}
                            </span>
                        </li>
                    })
                    .collect_view()}
            </ol>
            <Older shown=view_len total=view.timeline_count what="entries" more=actions.timeline_shown />
        </section>
    }
    .into_any()
}

/// "Newest 100 of 5,000 · Show 100 older": asks the war room for more of a
/// list (live refetches keep showing that many of the newest).
#[component]
fn Older(shown: usize, total: i64, what: &'static str, more: RwSignal<i64>) -> impl IntoView {
    let shown = shown as i64;
    (total > shown).then(|| {
        let next = (total - shown).min(ROOM_WINDOW);
        view! {
            <p class="older hint">
                {format!("Newest {shown} of {total} {what}. ")}
                {(shown < ROOM_WINDOW_MAX).then(|| view! {
                    <button
                        type="button"
                        class="button-quiet"
                        on:click=move |_| more.update(|n| *n = (*n + ROOM_WINDOW).min(ROOM_WINDOW_MAX))
                    >
                        {format!("Show {next} older")}
                    </button>
                })}
            </p>
        }
    })
}

#[component]
fn Hypotheses(view: WarRoomView, actions: Actions) -> AnyView {
    let number = view.number;
    let statement_ref = NodeRef::<leptos::html::Input>::new();
    let owner_ref = NodeRef::<leptos::html::Select>::new();
    let error = Signal::derive(move || actions.add_hypothesis.value().get().and_then(Result::err));
    let people = view.people.clone();
    let rows = view
        .hypotheses
        .iter()
        .map(|h| {
            view! { <HypothesisRow hypothesis=h.clone() number people=people.clone() can_edit=view.can_edit actions /> }
        })
        .collect_view();
    view! {
        <section class="panel war-panel" aria-labelledby="hypotheses-heading">
            <h2 id="hypotheses-heading">"Hypotheses"</h2>
            {view.hypothesis_warning.clone().map(|w| view! { <p class="notice-warn" role="status">{w}</p> })}
            {view.can_edit.then(|| view! {
                <form
                    class="inline-row"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let statement = statement_ref.get().map(|i| i.value()).unwrap_or_default();
                        let owner_id = owner_ref.get().map(|s| s.value()).unwrap_or_default();
                        actions.add_hypothesis.dispatch(AddHypothesis { number, statement, owner_id });
                        if let Some(input) = statement_ref.get() { input.set_value(""); }
                    }
                >
                    <label class="sr-only" for="hypothesis-input">"Hypothesis"</label>
                    <input id="hypothesis-input" node_ref=statement_ref maxlength="300" placeholder="It could be…" autocomplete="off" />
                    <label class="sr-only" for="hypothesis-owner">"Owner"</label>
                    <select id="hypothesis-owner" node_ref=owner_ref>
                        <option value="">"No owner yet"</option>
                        {view.people.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                    </select>
                    <button type="submit" class="button-quiet">"Add"</button>
                </form>
                <FormMessage error />
            })}
            <ul class="hypotheses scroll" data-testid="hypotheses">
                {if view.hypotheses.is_empty() {
                    view! { <li class="empty hint">"No hypotheses yet. Aim for 1 to 3, each with an owner."</li> }.into_any()
                } else {
                    rows.into_any()
                }}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn HypothesisRow(
    hypothesis: HypothesisView,
    number: i64,
    people: Vec<crate::api::incidents::PersonView>,
    can_edit: bool,
    actions: Actions,
) -> AnyView {
    let status_ref = NodeRef::<leptos::html::Select>::new();
    let owner_ref = NodeRef::<leptos::html::Select>::new();
    let evidence_ref = NodeRef::<leptos::html::Input>::new();
    let id = hypothesis.id;
    let version = hypothesis.version;
    let current_owner = hypothesis.owner_id;
    let current_status = hypothesis.status;
    view! {
        <li class=format!("hypothesis hypothesis-{}", hypothesis.status.as_str())>
            <div class="decision-head">
                <strong>{hypothesis.statement.clone()}</strong>
                <span class="flag">{hypothesis.status.label()}</span>
                <span class="hint">{hypothesis.owner.clone().map(|o| format!("owner {o}")).unwrap_or_else(|| "no owner".to_owned())}</span>
            </div>
            {(!hypothesis.evidence.is_empty()).then(|| view! { <p class="decision-reason">{hypothesis.evidence.clone()}</p> })}
            {can_edit.then(|| view! {
                <form
                    class="inline-row hypothesis-form"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let status = status_ref.get().map(|s| s.value()).unwrap_or_default();
                        let owner_id = owner_ref.get().map(|s| s.value()).unwrap_or_default();
                        let evidence = evidence_ref.get().map(|i| i.value()).unwrap_or_default();
                        actions.update_hypothesis.dispatch(UpdateHypothesis { number, hypothesis_id: id, version, status, evidence, owner_id });
                    }
                >
                    <select node_ref=status_ref aria-label="Hypothesis status">
                        {HypothesisStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=s == current_status>{s.label()}</option> }).collect_view()}
                    </select>
                    <select node_ref=owner_ref aria-label="Hypothesis owner">
                        <option value="">"No owner"</option>
                        {people.iter().map(|p| view! { <option value=p.id.to_string() selected=Some(p.id) == current_owner>{p.name.clone()}</option> }).collect_view()}
                    </select>
                    <input node_ref=evidence_ref aria-label="Evidence" placeholder="Evidence" value=hypothesis.evidence.clone() maxlength="2000" />
                    <button type="submit" class="button-quiet">"Save"</button>
                </form>
            })}
        </li>
    }
    .into_any()
}

#[component]
fn RestoreFirst(view: WarRoomView, actions: Actions) -> AnyView {
    let number = view.number;
    let error = Signal::derive(move || actions.restore.value().get().and_then(Result::err));
    let rows = view
        .restore
        .iter()
        .map(|r| {
            let r = r.clone();
            let step = r.step;
            let safety_ref = NodeRef::<leptos::html::Select>::new();
            let note_ref = NodeRef::<leptos::html::Input>::new();
            let send = move |outcome: &'static str| {
                let safety = safety_ref.get().map(|s| s.value()).unwrap_or_default();
                let note = note_ref.get().map(|i| i.value()).unwrap_or_default();
                actions.restore.dispatch(RecordRestoreStep {
                    number,
                    step: step.as_str().to_owned(),
                    outcome: outcome.to_owned(),
                    safety,
                    note,
                });
            };
            let state = match (r.decided, r.tried) {
                (true, Some(safety)) => format!("tried ({})", safety.label()),
                (true, None) => "not applicable".to_owned(),
                _ => "open".to_owned(),
            };
            view! {
                <li class="restore-step" class:restore-open=!r.decided data-step=step.as_str()>
                    <div class="decision-head">
                        <strong>{step.label()}</strong>
                        <span class="flag" data-testid="restore-state">{state}</span>
                        {r.by.clone().map(|by| view! { <span class="hint">{format!("{by}{}", r.at.map(|at| format!(", {}", clock(at))).unwrap_or_default())}</span> })}
                    </div>
                    {(!r.note.is_empty()).then(|| view! { <p class="decision-reason">{r.note.clone()}</p> })}
                    {(view.can_edit && !r.decided).then(|| view! {
                        <div class="inline-row">
                            <select node_ref=safety_ref aria-label=format!("Safety of {}", step.label())>
                                <option value="">"Safety…"</option>
                                {Safety::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                            </select>
                            <input node_ref=note_ref aria-label=format!("Detail or reason for {}", step.label()) placeholder="Detail, or why not" maxlength="500" />
                            <button type="button" class="button-quiet" on:click=move |_| send("tried")>"Tried"</button>
                            <button type="button" class="button-link" on:click=move |_| send("not_applicable")>"N/A"</button>
                        </div>
                    })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel war-panel" aria-labelledby="restore-heading">
            <h2 id="restore-heading">"Restore first"</h2>
            <FormMessage error />
            <ul class="restore scroll" data-testid="restore-first">{rows}</ul>
        </section>
    }
    .into_any()
}

#[component]
fn Milestones(view: WarRoomView, actions: Actions) -> AnyView {
    let number = view.number;
    let milestone_ref = NodeRef::<leptos::html::Select>::new();
    let at_ref = NodeRef::<leptos::html::Input>::new();
    let rows = view
        .milestones
        .iter()
        .map(|m| {
            let time = m.at.map(clock).unwrap_or_else(|| "not yet".to_owned());
            let note = m.corrected_by.as_ref().map(|by| {
                let stamp = m.stamped.map(clock).unwrap_or_else(|| "unset".to_owned());
                format!("corrected by {by}; system stamp {stamp}")
            });
            view! {
                <li class="milestone" data-milestone=m.milestone.as_str()>
                    <span>{m.milestone.label()}</span>
                    <strong class="milestone-at">{time}</strong>
                    {note.map(|n| view! { <span class="hint">{n}</span> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <h3 class="subheading">"Milestones"</h3>
        <ul class="milestones" data-testid="milestones">{rows}</ul>
        {(view.commands).then(|| view! {
            <details class="correct-milestone">
                <summary>"Correct a milestone"</summary>
                <form
                    class="inline-row"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        let milestone = milestone_ref.get().map(|s| s.value()).unwrap_or_default();
                        let at = at_ref.get().map(|i| i.value()).unwrap_or_default();
                        actions.correct.dispatch(CorrectMilestone { number, milestone, at });
                    }
                >
                    <select node_ref=milestone_ref aria-label="Milestone">
                        {crate::domain::milestones::Milestone::ALL
                            .into_iter()
                            .map(|m| view! { <option value=m.as_str()>{m.label()}</option> })
                            .collect_view()}
                    </select>
                    <input type="datetime-local" node_ref=at_ref aria-label=move || in_zone(|z| format!("Time ({})", z.name)) />
                    <span class="hint">{move || in_zone(|z| z.name.clone())}</span>
                    <button type="submit" class="button-quiet">"Save"</button>
                </form>
            </details>
        })}
    }
    .into_any()
}

#[component]
fn SummaryForm(view: WarRoomView, actions: Actions) -> AnyView {
    let number = view.number;
    let version = view.version;
    let impact_ref = NodeRef::<leptos::html::Input>::new();
    let guess_ref = NodeRef::<leptos::html::Input>::new();
    let bridge_ref = NodeRef::<leptos::html::Input>::new();
    view! {
        <details class="summary-edit">
            <summary>"Post status"</summary>
            <form
                class="summary-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let impact = impact_ref.get().map(|i| i.value()).unwrap_or_default();
                    let best_guess = guess_ref.get().map(|i| i.value()).unwrap_or_default();
                    let bridge_url = bridge_ref.get().map(|i| i.value()).unwrap_or_default();
                    actions.summary.dispatch(UpdateSummary { number, version, impact, best_guess, bridge_url });
                }
            >
                <input node_ref=impact_ref aria-label="Impact" placeholder="Impact: who, what, how widely" value=view.impact.clone() maxlength="2000" />
                <input node_ref=guess_ref aria-label="Best guess" placeholder="Current best guess" value=view.best_guess.clone() maxlength="2000" />
                <input node_ref=bridge_ref aria-label="Bridge link" placeholder="Bridge link (https://…)" value=view.bridge_url.clone() maxlength="500" />
                <button type="submit" class="button-quiet">"Save"</button>
            </form>
        </details>
    }
    .into_any()
}

/// The alerts attached to the incident, live, with time to detect measured
/// from the first of them; and recent changes (deploys), the first suspects.
#[component]
fn AlertsPanel(view: WarRoomView, now: ReadSignal<DateTime<Utc>>) -> AnyView {
    if view.alerts.is_empty() && view.changes.is_empty() {
        return ().into_any();
    }
    let first_fired = view.alerts.iter().map(|a| a.started_at).min();
    let detect = first_fired.map(|fired| {
        let minutes = (view.declared_at - fired).num_minutes();
        if minutes > 0 {
            format!(
                "First alert fired at {}, {} before the incident was declared (time to detect).",
                clock(fired),
                crate::domain::rhythm::duration_text(minutes)
            )
        } else {
            format!(
                "First alert fired at {}, when the incident was declared.",
                clock(fired)
            )
        }
    });
    let alerts = view.alerts.clone();
    let changes = view.changes.clone();
    view! {
        <section class="panel alerts-panel" aria-labelledby="alerts-heading" data-testid="war-room-alerts">
            <h2 id="alerts-heading">"Alerts and recent changes"</h2>
            {detect.map(|text| view! { <p class="hint">{text}</p> })}
            {(!alerts.is_empty())
                .then(|| {
                    view! {
                        <ul class="attached-alerts">
                            {alerts
                                .into_iter()
                                .map(|a| {
                                    let started = a.started_at;
                                    let state = a.state;
                                    let resolved = a.resolved_at;
                                    view! {
                                        <li data-testid="attached-alert" data-state=state.as_str()>
                                            <span class=format!("badge alert-state-{}", state.as_str())>{state.label()}</span>
                                            " " <strong>{a.summary.clone()}</strong>
                                            <span class="hint">
                                                {move || match resolved {
                                                    Some(at) => format!(" · {} · {} to {}", a.source, clock(started), clock(at)),
                                                    None => format!(" · {} · firing for {}", a.source, elapsed_text(started, now.get())),
                                                }}
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            {(!changes.is_empty())
                .then(|| {
                    view! {
                        <h3>"Recent changes"</h3>
                        <ul class="recent-changes" data-testid="recent-changes">
                            {changes
                                .into_iter()
                                .map(|c| {
                                    let summary = match c.link.clone() {
                                        Some(href) => view! { <a href=href rel="noopener noreferrer" target="_blank">{c.summary.clone()}</a> }.into_any(),
                                        None => view! { <span>{c.summary.clone()}</span> }.into_any(),
                                    };
                                    view! {
                                        <li>
                                            <span class="mono">{clock(c.happened_at)}</span>
                                            " " {summary}
                                            {(!c.source.is_empty()).then(|| view! { <span class="hint">{format!(" · {}", c.source)}</span> })}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
    .into_any()
}
