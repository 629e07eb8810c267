//! The leadership layer in the browser: authorisation requests and blockers (on the
//! war room and the leadership view), responders, the approval banner on every
//! page, and the leadership view itself. Live.

use crate::api::incidents::{PersonView, WarRoomView};
use crate::api::leadership::{
    get_leadership, pending_approvals, AddResponder, ApprovalView, BlockerView, BoardRow,
    DecideApproval, FlagRestricted, LeadershipView, OverrideApproval, RaiseBlocker,
    RemoveResponder, RequestApproval, ResolveBlocker, SetPostmortemDeadlines, TakeBlocker,
};
use crate::api::updates::AskQuestion;
use crate::api::ApiError;
use crate::components::{clock, use_live, use_now, FieldMessage, FormMessage, SeverityBadge};
use crate::domain::incidents::display_number;
use crate::domain::leadership::ApprovalStatus;
use crate::domain::rhythm::elapsed_text;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

/// Every leadership action, shared by the war room and the leadership view so
/// either page refetches after any of them.
#[derive(Clone, Copy)]
pub struct LeadActions {
    pub request: ServerAction<RequestApproval>,
    pub decide: ServerAction<DecideApproval>,
    pub skip: ServerAction<OverrideApproval>,
    pub raise: ServerAction<RaiseBlocker>,
    pub take: ServerAction<TakeBlocker>,
    pub resolve: ServerAction<ResolveBlocker>,
    pub add: ServerAction<AddResponder>,
    pub remove: ServerAction<RemoveResponder>,
    pub restrict: ServerAction<FlagRestricted>,
    /// Each form's last refusal, derived once by the page that owns the actions
    /// (a signal made inside the live view would be disposed by its refetch).
    pub request_error: Signal<Option<ApiError>>,
    pub decide_error: Signal<Option<ApiError>>,
    pub skip_error: Signal<Option<ApiError>>,
    pub raise_error: Signal<Option<ApiError>>,
    pub resolve_error: Signal<Option<ApiError>>,
    /// The request and the blocker acted on last, so a refusal shows on that card only.
    pub approval_acted: RwSignal<i64>,
    pub blocker_acted: RwSignal<i64>,
}

impl LeadActions {
    /// Call once per page, outside its live view.
    pub fn new() -> Self {
        let request = ServerAction::new();
        let decide = ServerAction::new();
        let skip = ServerAction::new();
        let raise = ServerAction::new();
        let resolve = ServerAction::new();
        LeadActions {
            request,
            decide,
            skip,
            raise,
            take: ServerAction::new(),
            resolve,
            add: ServerAction::new(),
            remove: ServerAction::new(),
            restrict: ServerAction::new(),
            request_error: Signal::derive(move || request.value().get().and_then(Result::err)),
            decide_error: Signal::derive(move || decide.value().get().and_then(Result::err)),
            skip_error: Signal::derive(move || skip.value().get().and_then(Result::err)),
            raise_error: Signal::derive(move || raise.value().get().and_then(Result::err)),
            resolve_error: Signal::derive(move || resolve.value().get().and_then(Result::err)),
            approval_acted: RwSignal::new(0),
            blocker_acted: RwSignal::new(0),
        }
    }

    pub fn versions(&self) -> usize {
        self.request.version().get()
            + self.decide.version().get()
            + self.skip.version().get()
            + self.raise.version().get()
            + self.take.version().get()
            + self.resolve.version().get()
            + self.add.version().get()
            + self.remove.version().get()
            + self.restrict.version().get()
    }

    /// Refusals that belong to no form field of their own.
    pub fn last_error(&self) -> Option<ApiError> {
        fn err<T>(v: Option<Result<T, ApiError>>) -> Option<ApiError> {
            v.and_then(Result::err)
        }
        err(self.take.value().get())
            .or_else(|| err(self.add.value().get()))
            .or_else(|| err(self.remove.value().get()))
            .or_else(|| err(self.restrict.value().get()))
    }
}

fn waited(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    elapsed_text(since, now)
}

/// One authorisation request: what, why, who asked, how long it has waited, and
/// (for leaders) approve or deny; (for the IC) go ahead without approval.
#[component]
pub fn ApprovalCard(
    approval: ApprovalView,
    now: ReadSignal<DateTime<Utc>>,
    actions: LeadActions,
    can_authorise: bool,
    #[prop(optional)] is_ic: bool,
    #[prop(optional)] show_incident: bool,
) -> AnyView {
    let number = approval.number;
    let approval_id = approval.id;
    let requested_at = approval.requested_at;
    let pending = approval.status == ApprovalStatus::Pending;
    let note_ref = NodeRef::<leptos::html::Textarea>::new();
    let skip_ref = NodeRef::<leptos::html::Textarea>::new();
    let mine = move || actions.approval_acted.get() == approval_id;
    let decide_error = Signal::derive(move || actions.decide_error.get().filter(|_| mine()));
    let skip_error = Signal::derive(move || actions.skip_error.get().filter(|_| mine()));
    let decide = move |approve: bool| {
        let note = note_ref.get().map(|t| t.value()).unwrap_or_default();
        actions.approval_acted.set(approval_id);
        actions.decide.dispatch(DecideApproval {
            number,
            approval_id,
            approve,
            note,
        });
    };
    let outcome = match (&approval.decided_by, approval.decided_at) {
        (Some(by), Some(at)) => {
            let note = if approval.note.is_empty() {
                String::new()
            } else {
                format!(": {}", approval.note)
            };
            Some(format!(
                "{} by {by} at {}{note}",
                approval.status.label(),
                clock(at)
            ))
        }
        _ => None,
    };
    view! {
        <li class="approval" data-status=approval.status.as_str() data-testid="approval">
            {show_incident
                .then(|| {
                    view! {
                        <a class="approval-incident" href=format!("/incidents/{number}")>
                            {format!("{} {}", display_number(number), approval.title)}
                        </a>
                    }
                })}
            <p class="approval-what">
                <strong>{approval.mitigation.clone()}</strong>
            </p>
            <p class="approval-why">{approval.reason.clone()}</p>
            <p class="hint">
                {format!("Asked by {} at {}", approval.requested_by, clock(requested_at))}
                {pending.then(|| view! { <span class="wait">{move || format!(" · waiting {}", waited(requested_at, now.get()))}</span> })}
            </p>
            {outcome.map(|text| view! { <p class="approval-outcome" data-testid="approval-outcome">{text}</p> })}
            {(pending && can_authorise)
                .then(|| {
                    view! {
                        <div class="approval-decide">
                            <label for=format!("approval-note-{approval_id}")>"Note " <span class="optional">"(required to deny)"</span></label>
                            <textarea id=format!("approval-note-{approval_id}") node_ref=note_ref rows="2" maxlength="1000"></textarea>
                            <FieldMessage error=decide_error field="note" />
                            <FormMessage error=decide_error />
                            <div class="button-row">
                                <button type="button" class="button-primary" on:click=move |_| decide(true)>"Approve"</button>
                                <button type="button" class="button-quiet" on:click=move |_| decide(false)>"Deny"</button>
                            </div>
                        </div>
                    }
                })}
            {(pending && is_ic)
                .then(|| {
                    view! {
                        <details class="approval-skip">
                            <summary>"Go ahead without approval"</summary>
                            <p class="hint">"Only when waiting is worse. This is recorded and shown in the postmortem."</p>
                            <label class="sr-only" for=format!("skip-reason-{approval_id}")>"Why waiting is worse"</label>
                            <textarea id=format!("skip-reason-{approval_id}") node_ref=skip_ref rows="2" maxlength="1000" placeholder="Why waiting is worse"></textarea>
                            <FieldMessage error=skip_error field="override_reason" />
                            <FormMessage error=skip_error />
                            <button
                                type="button"
                                class="button-quiet"
                                on:click=move |_| {
                                    let reason = skip_ref.get().map(|t| t.value()).unwrap_or_default();
                                    actions.approval_acted.set(approval_id);
                                    actions.skip.dispatch(OverrideApproval { number, approval_id, reason });
                                }
                            >
                                "Go ahead now"
                            </button>
                        </details>
                    }
                })}
        </li>
    }
    .into_any()
}

/// One blocker with its age, who is on it, and (for leaders) take and resolve.
#[component]
pub fn BlockerCard(
    blocker: BlockerView,
    now: ReadSignal<DateTime<Utc>>,
    actions: LeadActions,
    can_clear: bool,
    #[prop(optional)] show_incident: bool,
) -> AnyView {
    let number = blocker.number;
    let blocker_id = blocker.id;
    let raised_at = blocker.raised_at;
    let open = blocker.resolved_at.is_none();
    let note_ref = NodeRef::<leptos::html::Input>::new();
    let resolve_error = Signal::derive(move || {
        actions
            .resolve_error
            .get()
            .filter(|_| actions.blocker_acted.get() == blocker_id)
    });
    let taken = blocker.taken_by.clone();
    view! {
        <li class="blocker" class:blocker-open=open data-testid="blocker">
            {show_incident
                .then(|| {
                    view! {
                        <a class="approval-incident" href=format!("/incidents/{number}")>
                            {format!("{} {}", display_number(number), blocker.title)}
                        </a>
                    }
                })}
            <p class="blocker-what"><strong>{blocker.description.clone()}</strong></p>
            <p class="hint">
                {format!("Raised by {} at {}", blocker.raised_by, clock(raised_at))}
                {open.then(|| view! { <span class="wait">{move || format!(" · open {}", waited(raised_at, now.get()))}</span> })}
            </p>
            {match (&blocker.resolved_by, open, &taken) {
                (Some(by), false, _) => {
                    view! { <p class="approval-outcome">{format!("Resolved by {by}: {}", blocker.resolution)}</p> }.into_any()
                }
                (_, true, Some(who)) => view! { <p class="blocker-owner">{format!("{who} is on it")}</p> }.into_any(),
                _ => view! { <p class="blocker-owner blocker-unowned">"Nobody is on it yet"</p> }.into_any(),
            }}
            {(open && can_clear)
                .then(|| {
                    view! {
                        <div class="blocker-actions">
                            {taken
                                .is_none()
                                .then(|| {
                                    view! {
                                        <button type="button" class="button-quiet" on:click=move |_| {
                                            actions.take.dispatch(TakeBlocker { number, blocker_id });
                                        }>"I'm on it"</button>
                                    }
                                })}
                            <form
                                class="inline-row"
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    let note = note_ref.get().map(|i| i.value()).unwrap_or_default();
                                    actions.blocker_acted.set(blocker_id);
                                    actions.resolve.dispatch(ResolveBlocker { number, blocker_id, note });
                                }
                            >
                                <label class="sr-only" for=format!("blocker-note-{blocker_id}")>"What cleared it"</label>
                                <input id=format!("blocker-note-{blocker_id}") node_ref=note_ref maxlength="1000" placeholder="What cleared it" />
                                <button type="submit" class="button-quiet">"Resolve"</button>
                            </form>
                            <FieldMessage error=resolve_error field="resolution" />
                            <FormMessage error=resolve_error />
                        </div>
                    }
                })}
        </li>
    }
    .into_any()
}

/// The war room's authorisation requests.
#[component]
pub fn ApprovalsPanel(
    view: WarRoomView,
    now: ReadSignal<DateTime<Utc>>,
    actions: LeadActions,
) -> AnyView {
    let number = view.number;
    let request_error = actions.request_error;
    let mitigation_ref = NodeRef::<leptos::html::Input>::new();
    let reason_ref = NodeRef::<leptos::html::Textarea>::new();
    let can_ask = view.can_request_approval && view.can_edit;
    if view.approvals.is_empty() && !can_ask {
        return ().into_any();
    }
    let cards = view
        .approvals
        .iter()
        .cloned()
        .map(|approval| {
            view! { <ApprovalCard approval now actions can_authorise=view.can_authorise is_ic=view.is_ic /> }
        })
        .collect_view();
    view! {
        <section class="panel war-panel war-compact" aria-labelledby="approvals-heading">
            <h2 id="approvals-heading">"High-impact mitigations"</h2>
            <ul class="approvals">{cards}</ul>
            {can_ask
                .then(|| {
                    view! {
                        <details class="ask-approval">
                            <summary>"Ask leaders to authorise a mitigation"</summary>
                            <form on:submit=move |ev| {
                                ev.prevent_default();
                                let mitigation = mitigation_ref.get().map(|i| i.value()).unwrap_or_default();
                                let reason = reason_ref.get().map(|t| t.value()).unwrap_or_default();
                                actions.request.dispatch(RequestApproval { number, mitigation, reason });
                            }>
                                <div class="field">
                                    <label for="approval-mitigation">"Mitigation"</label>
                                    <input id="approval-mitigation" node_ref=mitigation_ref maxlength="300" placeholder="e.g. shift traffic to the secondary region" />
                                    <FieldMessage error=request_error field="mitigation" />
                                </div>
                                <div class="field">
                                    <label for="approval-reason">"Why, and what it risks"</label>
                                    <textarea id="approval-reason" node_ref=reason_ref rows="2" maxlength="1000"></textarea>
                                    <FieldMessage error=request_error field="reason" />
                                </div>
                                <FormMessage error=request_error />
                                <button type="submit" class="button-quiet">"Ask for authorisation"</button>
                            </form>
                        </details>
                    }
                })}
        </section>
    }
    .into_any()
}

/// The war room's blockers: raise one, see who is on each.
#[component]
pub fn BlockersPanel(
    view: WarRoomView,
    now: ReadSignal<DateTime<Utc>>,
    actions: LeadActions,
) -> AnyView {
    let number = view.number;
    let raise_error = actions.raise_error;
    let description_ref = NodeRef::<leptos::html::Input>::new();
    let (open, resolved): (Vec<_>, Vec<_>) = view
        .blockers
        .iter()
        .cloned()
        .partition(|b| b.resolved_at.is_none());
    let can_clear = view.can_clear_blockers;
    let resolved_count = resolved.len();
    view! {
        <section class="panel war-panel war-compact" aria-labelledby="blockers-heading">
            <h2 id="blockers-heading">"Blockers"</h2>
            {open.is_empty().then(|| view! { <p class="hint">"Nothing in the way."</p> })}
            <ul class="blockers">
                {open
                    .into_iter()
                    .map(|blocker| view! { <BlockerCard blocker now actions can_clear /> })
                    .collect_view()}
            </ul>
            {(resolved_count > 0)
                .then(|| {
                    view! {
                        <details>
                            <summary>{format!("Resolved ({resolved_count})")}</summary>
                            <ul class="blockers">
                                {resolved
                                    .into_iter()
                                    .map(|blocker| view! { <BlockerCard blocker now actions can_clear /> })
                                    .collect_view()}
                            </ul>
                        </details>
                    }
                })}
            {view.can_edit
                .then(|| {
                    view! {
                        <form class="inline-row" on:submit=move |ev| {
                            ev.prevent_default();
                            let description = description_ref.get().map(|i| i.value()).unwrap_or_default();
                            actions.raise.dispatch(RaiseBlocker { number, description });
                            if let Some(input) = description_ref.get() {
                                input.set_value("");
                            }
                        }>
                            <label class="sr-only" for="blocker-description">"What is in the way"</label>
                            <input id="blocker-description" node_ref=description_ref maxlength="300" placeholder="Access, a vendor, another team…" />
                            <button type="submit" class="button-quiet">"Raise a blocker"</button>
                        </form>
                        <FieldMessage error=raise_error field="description" />
                        <FormMessage error=raise_error />
                    }
                })}
        </section>
    }
    .into_any()
}

/// Who may write in the responder channel besides the role holders; the IC adds and removes.
#[component]
pub fn RespondersPanel(
    view: WarRoomView,
    actions: LeadActions,
    /// The page's question action and its refusal, so both survive the live refetch it causes.
    ask: ServerAction<AskQuestion>,
    ask_error: Signal<Option<ApiError>>,
) -> AnyView {
    let number = view.number;
    let holders: Vec<i64> = view
        .roles
        .iter()
        .filter_map(|r| r.holder.as_ref().map(|h| h.user_id))
        .collect();
    let listed: Vec<i64> = view.responders.iter().map(|p| p.id).collect();
    let candidates: Vec<PersonView> = view
        .people
        .iter()
        .filter(|p| !holders.contains(&p.id) && !listed.contains(&p.id))
        .cloned()
        .collect();
    let manage = view.commands && view.can_join;
    let add_ref = NodeRef::<leptos::html::Select>::new();
    let observing = view.can_join && !view.can_edit;
    let question_ref = NodeRef::<leptos::html::Input>::new();
    if !manage && !observing && view.responders.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="panel war-panel war-compact" aria-labelledby="responders-heading">
            <h2 id="responders-heading">"Responders"</h2>
            {(!observing).then(|| view! { <p class="hint">"Role holders and the people below write here; everyone else observes and asks the Comms Lead."</p> })}
            {observing
                .then(|| {
                    view! {
                        <div class="notice observing" data-testid="observing">
                            <p>"You are observing. Take an open role, or ask the Incident Commander to add you."</p>
                            <form class="inline-row" on:submit=move |ev| {
                                ev.prevent_default();
                                let question = question_ref.get().map(|i| i.value()).unwrap_or_default();
                                ask.dispatch(AskQuestion { number, question });
                            }>
                                <label class="sr-only" for="observer-question">"Your question for the Comms Lead"</label>
                                <input id="observer-question" node_ref=question_ref maxlength="500" placeholder="A question for the Comms Lead" />
                                <button type="submit" class="button-quiet">"Ask"</button>
                            </form>
                            <FieldMessage error=ask_error field="question" />
                            {move || ask.value().get().is_some_and(|r| r.is_ok()).then(|| view! { <p class="hint">"Asked. It is in the Comms Lead's question queue."</p> })}
                        </div>
                    }
                })}
            <ul class="responders">
                {view
                    .responders
                    .iter()
                    .map(|p| {
                        let user_id = p.id;
                        view! {
                            <li>
                                <span>{p.name.clone()}</span>
                                {manage
                                    .then(|| {
                                        view! {
                                            <button type="button" class="button-link" on:click=move |_| {
                                                actions.remove.dispatch(RemoveResponder { number, user_id });
                                            }>"Remove"</button>
                                        }
                                    })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {(manage && !candidates.is_empty())
                .then(|| {
                    view! {
                        <form class="inline-row" on:submit=move |ev| {
                            ev.prevent_default();
                            if let Some(user_id) = add_ref.get().and_then(|s| s.value().parse::<i64>().ok()) {
                                actions.add.dispatch(AddResponder { number, user_id });
                            }
                        }>
                            <label class="sr-only" for="add-responder">"Person to add"</label>
                            <select id="add-responder" node_ref=add_ref>
                                {candidates
                                    .iter()
                                    .map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" class="button-quiet">"Add responder"</button>
                        </form>
                    }
                })}
        </section>
    }
    .into_any()
}

/// The restricted marker, or (for responders) the way to restrict.
#[component]
pub fn RestrictedNote(view: WarRoomView, actions: LeadActions) -> AnyView {
    let number = view.number;
    if view.restricted {
        return view! {
            <p class="notice restricted-note" data-testid="restricted">
                <strong>"Restricted. "</strong>
                "Possible security impact or data exposure: only participants and admins see this incident. It needs a Security Lead. Customer updates still go out through the Comms Lead."
            </p>
        }
        .into_any();
    }
    view.can_edit
        .then(|| {
            view! {
                <details class="restrict">
                    <summary>"Possible security impact or data exposure?"</summary>
                    <p class="hint">"Restricting hides the incident from everyone but its participants and admins, and asks for a Security Lead. It cannot be undone here."</p>
                    <button type="button" class="button-quiet" on:click=move |_| {
                        actions.restrict.dispatch(FlagRestricted { number });
                    }>"Restrict this incident"</button>
                </details>
            }
        })
        .into_any()
}

/// Pending authorisation requests, on every page of a leader. Live.
#[component]
pub fn ApprovalBanner() -> impl IntoView {
    let live = use_live();
    let now = use_now();
    let pending = Resource::new(move || live.version.get(), |_| pending_approvals());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let pending = pending.await.unwrap_or_default();
                (!pending.is_empty())
                    .then(|| {
                        view! {
                            <aside class="approval-banner" role="status" data-testid="approval-banner">
                                <strong>"Waiting for your authorisation"</strong>
                                <ul>
                                    {pending
                                        .into_iter()
                                        .map(|a| {
                                            let at = a.requested_at;
                                            view! {
                                                <li>
                                                    <span class="war-number">{display_number(a.number)}</span>
                                                    " "
                                                    <span>{a.mitigation.clone()}</span>
                                                    <span class="hint">{move || format!(" · {} · waiting {}", a.requested_by, waited(at, now.get()))}</span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                <a class="button-link" href="/leadership">"Review on the leadership view"</a>
                            </aside>
                        }
                    })
            })}
        </Transition>
    }
}

/// The leadership view: active incidents at a glance, then follow-up. Live.
#[component]
pub fn LeadershipPage() -> impl IntoView {
    let live = use_live();
    let now = use_now();
    let actions = LeadActions::new();
    let deadlines = ServerAction::<SetPostmortemDeadlines>::new();
    let deadlines_error = Signal::derive(move || deadlines.value().get().and_then(Result::err));
    let board = Resource::new(
        move || {
            (
                live.version.get(),
                actions.versions(),
                deadlines.version().get(),
            )
        },
        |_| get_leadership(),
    );
    let error = Signal::derive(move || actions.last_error());
    view! {
        <Title text="Leadership" />
        <h1>"Leadership"</h1>
        <FormMessage error />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match board.await {
                    Ok(view) => view! { <Board view now actions deadlines deadlines_error /> }.into_any(),
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Board(
    view: LeadershipView,
    now: ReadSignal<DateTime<Utc>>,
    actions: LeadActions,
    deadlines: ServerAction<SetPostmortemDeadlines>,
    deadlines_error: Signal<Option<ApiError>>,
) -> AnyView {
    let can_authorise = view.can_authorise;
    view! {
        <div class="leadership">
            <section class="panel" id="approvals" aria-labelledby="lead-approvals">
                <h2 id="lead-approvals">"Waiting for authorisation"</h2>
                {view.approvals.is_empty().then(|| view! { <p class="hint">"Nothing is waiting."</p> })}
                <ul class="approvals">
                    {view
                        .approvals
                        .into_iter()
                        .map(|approval| view! { <ApprovalCard approval now actions can_authorise show_incident=true /> })
                        .collect_view()}
                </ul>
                {(!can_authorise).then(|| view! { <p class="hint">"You see requests as an admin; people with the leadership permission approve them."</p> })}
            </section>
            <section class="panel" aria-labelledby="lead-incidents">
                <h2 id="lead-incidents">"Active incidents"</h2>
                {view.incidents.is_empty().then(|| view! { <p class="hint">"No active incidents."</p> })}
                <ul class="board-rows">
                    {view.incidents.into_iter().map(|row| view! { <BoardIncident row now /> }).collect_view()}
                </ul>
            </section>
            <section class="panel" aria-labelledby="lead-blockers">
                <h2 id="lead-blockers">"Open blockers"</h2>
                {view.blockers.is_empty().then(|| view! { <p class="hint">"Nothing in the way."</p> })}
                <ul class="blockers">
                    {view
                        .blockers
                        .into_iter()
                        .map(|blocker| view! { <BlockerCard blocker now actions can_clear=true show_incident=true /> })
                        .collect_view()}
                </ul>
            </section>
            <h2 class="section-heading">"After incidents"</h2>
            <div class="follow-grid">
                <section class="panel" aria-labelledby="lead-postmortems">
                    <h3 id="lead-postmortems">"Postmortems due"</h3>
                    {view.postmortems.is_empty().then(|| view! { <p class="hint">"None owed."</p> })}
                    <ul class="plain-list">
                        {view
                            .postmortems
                            .into_iter()
                            .map(|p| {
                                view! {
                                    <li class:overdue=p.overdue>
                                        <a href=format!("/incidents/{}/postmortem", p.number)>{format!("{} {}", display_number(p.number), p.title)}</a>
                                        <span class="hint">
                                            {format!(
                                                " · {} · due {} · IC {}",
                                                p.status.map_or("not started", |s| s.label()),
                                                p.due.format("%a %-d %b"),
                                                p.ic.unwrap_or_else(|| "none".to_owned()),
                                            )}
                                        </span>
                                        {p.overdue.then(|| view! { <span class="flag flag-overdue">"Overdue"</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
                <section class="panel" aria-labelledby="lead-items">
                    <h3 id="lead-items">"Overdue action items by owner"</h3>
                    {view.overdue_items.is_empty().then(|| view! { <p class="hint">"Nothing overdue."</p> })}
                    <ul class="plain-list">
                        {view
                            .overdue_items
                            .into_iter()
                            .map(|group| {
                                view! {
                                    <li>
                                        <strong>{format!("{} ({})", group.owner, group.items.len())}</strong>
                                        <ul class="plain-list nested">
                                            {group
                                                .items
                                                .into_iter()
                                                .map(|i| {
                                                    view! {
                                                        <li>
                                                            {i.title.clone()}
                                                            <span class="hint">
                                                                {format!(
                                                                    " · {} · due {}",
                                                                    display_number(i.incident_number),
                                                                    i.due.map(|d| d.format("%-d %b").to_string()).unwrap_or_default(),
                                                                )}
                                                            </span>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
                <section class="panel" aria-labelledby="lead-risk">
                    <h3 id="lead-risk">"At recurrence risk"</h3>
                    {view.at_risk.is_empty().then(|| view! { <p class="hint">"No incident is waiting on prevention work."</p> })}
                    <ul class="plain-list">
                        {view
                            .at_risk
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <li>
                                        <a href=format!("/incidents/{}/postmortem", r.number)>{format!("{} {}", display_number(r.number), r.title)}</a>
                                        <span class="hint">{format!(" · {} prevention item(s) not verified", r.unverified_prevention)}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            </div>
            {view.deadlines.map(|days| view! { <DeadlinesForm days deadlines error=deadlines_error /> })}
        </div>
    }
    .into_any()
}

#[component]
fn BoardIncident(row: BoardRow, now: ReadSignal<DateTime<Utc>>) -> AnyView {
    let filled = row.required - row.gaps.len();
    let gaps = row
        .gaps
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ");
    let last = row.last_update_at;
    let next = row.next_update_due;
    let overdue = move || next.is_some_and(|n| n < now.get());
    let asks = row.pending + row.blockers;
    view! {
        <li class="board-row" data-testid="board-incident">
            <div class="board-title">
                <SeverityBadge severity=row.severity />
                <a href=format!("/incidents/{}", row.number)>{format!("{} {}", display_number(row.number), row.title)}</a>
                {row.restricted.then(|| view! { <span class="flag">"Restricted"</span> })}
                <span class="hint">{format!("{} · {}", row.status.label(), clock(row.declared_at))}</span>
            </div>
            <dl class="board-facts">
                <div>
                    <dt>"IC"</dt>
                    <dd>
                        {match row.ic.clone() {
                            Some(name) => view! { <span>{name}</span> }.into_any(),
                            None => view! { <span class="flag flag-overdue">"No IC"</span> }.into_any(),
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"Roles"</dt>
                    <dd class:gap-text=!row.gaps.is_empty()>
                        {format!("{filled} of {} filled", row.required)}
                        {(!gaps.is_empty()).then(|| view! { <span class="hint">{format!(" · open: {gaps}")}</span> })}
                    </dd>
                </div>
                <div>
                    <dt>"Waiting on leaders"</dt>
                    <dd class:gap-text={asks > 0}>
                        {if asks == 0 {
                            "nothing".to_owned()
                        } else {
                            let mut parts = Vec::new();
                            if row.pending > 0 {
                                parts.push(format!("{} authorisation{}", row.pending, if row.pending == 1 { "" } else { "s" }));
                            }
                            if row.blockers > 0 {
                                parts.push(format!("{} blocker{}", row.blockers, if row.blockers == 1 { "" } else { "s" }));
                            }
                            parts.join(", ")
                        }}
                    </dd>
                </div>
                <div>
                    <dt>"Last update"</dt>
                    <dd>
                        {move || match last {
                            Some(at) => format!("{} ago", elapsed_text(at, now.get())),
                            None => "none yet".to_owned(),
                        }}
                        {move || overdue().then(|| view! { <span class="flag flag-overdue">"Update overdue"</span> })}
                    </dd>
                </div>
            </dl>
        </li>
    }
    .into_any()
}

#[component]
fn DeadlinesForm(
    days: crate::domain::leadership::DeadlineDays,
    deadlines: ServerAction<SetPostmortemDeadlines>,
    error: Signal<Option<ApiError>>,
) -> AnyView {
    let saved = move || deadlines.value().get().is_some_and(|r| r.is_ok());
    let field = move |name: &'static str, label: &'static str, value: u32| {
        view! {
            <div class="field">
                <label for=name>{label}</label>
                <input id=name name=name inputmode="numeric" value=value.to_string() />
                <FieldMessage error field=name />
            </div>
        }
    };
    view! {
        <section class="panel" aria-labelledby="lead-deadlines">
            <h2 id="lead-deadlines">"Postmortem deadlines"</h2>
            <p class="hint">"Business days from resolution to the postmortem's due date. Incidents already resolved keep their date."</p>
            <ActionForm action=deadlines attr:class="deadline-form">
                {field("sev1_days", "Sev1", days.sev1)}
                {field("sev2_days", "Sev2", days.sev2)}
                {field("sev3_days", "Sev3", days.sev3)}
                {field("sev4_days", "Sev4", days.sev4)}
                <FormMessage error />
                <button type="submit" class="button-quiet">"Save deadlines"</button>
                {move || saved().then(|| view! { <span class="hint">"Saved."</span> })}
            </ActionForm>
        </section>
    }
    .into_any()
}
