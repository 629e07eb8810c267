//! The first page after sign-in: declare an incident, see what is active and what is resolved.

use crate::api::auth::AuthState;
use crate::api::incidents::{list_incidents, DeclareIncident, IncidentCard};
use crate::components::{use_live, use_now, FieldMessage, FormMessage, SeverityBadge, StatusBadge};
use crate::domain::alerts::AlertGroup;
use crate::domain::incidents::{display_number, Severity};
use crate::domain::rhythm::elapsed_text;
use crate::domain::users::OrgRole;
use crate::Auth;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    // Read inside a Transition: the page is not inside the layout's sign-in
    // gate (components/layout.rs), so a bare read would render nothing on
    // the server and mismatch in the browser.
    let can_declare = move || async move {
        auth.state
            .await
            .ok()
            .and_then(|AuthState { user, .. }| user)
            .is_some_and(|user| user.org_role != OrgRole::Viewer)
    };
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <div class="dashboard">
            <div class="dashboard-main">
                <IncidentList />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        can_declare().await.then(|| view! { <super::action_items::FollowUpPanels /> })
                    })}
                </Transition>
            </div>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    can_declare().await.then(|| view! { <DeclareForm /> })
                })}
            </Transition>
        </div>
    }
}

/// Active incidents first, resolved ones below; live.
#[component]
pub fn IncidentList() -> impl IntoView {
    let live = use_live();
    let incidents = Resource::new(move || live.version.get(), |_| list_incidents());
    let now = use_now();
    view! {
        <div class="incident-lists">
            <Transition fallback=|| view! { <p class="loading">"Loading incidents…"</p> }>
                {move || Suspend::new(async move {
                    match incidents.await {
                        Ok(cards) => {
                            let (active, resolved): (Vec<_>, Vec<_>) = cards
                                .into_iter()
                                .partition(|c| c.status.is_active());
                            view! {
                                <CardSection
                                    heading="Active incidents"
                                    key="active"
                                    empty="No active incidents."
                                    cards=active
                                    now
                                />
                                <CardSection
                                    heading="Resolved"
                                    key="resolved"
                                    empty="Nothing resolved yet."
                                    cards=resolved
                                    now
                                />
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// One titled list of incident cards (`data-testid` is `<key>-incidents`).
#[component]
fn CardSection(
    heading: &'static str,
    key: &'static str,
    empty: &'static str,
    cards: Vec<IncidentCard>,
    now: ReadSignal<chrono::DateTime<chrono::Utc>>,
) -> impl IntoView {
    let heading_id = format!("{key}-heading");
    view! {
        <section class="panel" aria-labelledby=heading_id.clone()>
            <h2 id=heading_id.clone()>{heading}</h2>
            {if cards.is_empty() {
                view! { <p class="empty hint">{empty}</p> }.into_any()
            } else {
                view! {
                    <ul class=format!("cards cards-{key}") data-testid=format!("{key}-incidents")>
                        {cards.into_iter().map(|card| view! { <Card card now /> }).collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn Card(card: IncidentCard, now: ReadSignal<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    let declared = card.declared_at;
    let resolved = card.resolved_at;
    let open_for = move || elapsed_text(declared, resolved.unwrap_or(now.get()));
    let gaps = card
        .role_gaps
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <li class="card">
            <a href=format!("/incidents/{}", card.number) class="card-link">
                <span class="card-number">{display_number(card.number)}</span>
                <span class="card-title">{card.title.clone()}</span>
            </a>
            <span class="card-meta">
                <SeverityBadge severity=card.severity />
                <StatusBadge status=card.status />
                {card.restricted.then(|| view! { <span class="flag">"Restricted"</span> })}
                <span class="hint">
                    {move || if resolved.is_some() { format!("took {}", open_for()) } else { format!("open {}", open_for()) }}
                </span>
                {(!card.role_gaps.is_empty() && resolved.is_none())
                    .then(|| view! { <span class="flag">"Unfilled: " {gaps.clone()}</span> })}
                {(card.overdue_items > 0)
                    .then(|| {
                        view! {
                            <span class="flag flag-overdue">
                                {format!("{} rhythm item(s) overdue", card.overdue_items)}
                            </span>
                        }
                    })}
            </span>
        </li>
    }
}

/// The declare form; `from` fills it in from an alert group of the inbox,
/// which the new incident then has attached.
#[component]
pub(crate) fn DeclareForm(#[prop(optional)] from: Option<AlertGroup>) -> impl IntoView {
    let declare = ServerAction::<DeclareIncident>::new();
    let error = Signal::derive(move || declare.value().get().and_then(Result::err));
    let pending = declare.pending();
    let severity = from.as_ref().map_or(Severity::Sev2, |g| g.severity);
    let title: String = from
        .as_ref()
        .map(|g| g.summary.chars().take(200).collect())
        .unwrap_or_default();
    let impact = from
        .as_ref()
        .map(AlertGroup::impact_text)
        .unwrap_or_default();
    let alert = from.as_ref().map(|g| g.id.to_string());
    view! {
        <section class="panel declare" aria-labelledby="declare-heading">
            <h2 id="declare-heading">{if alert.is_some() { "Declare from this alert" } else { "Declare an incident" }}</h2>
            <ActionForm action=declare>
                {alert.map(|id| view! { <input type="hidden" name="alert" value=id /> })}
                <div class="field">
                    <label for="declare-title">"Title"</label>
                    <input id="declare-title" name="title" maxlength="200" required placeholder="What is broken, in a few words" value=title />
                    <FieldMessage error field="title" />
                </div>
                <div class="field">
                    <label for="declare-severity">"Severity"</label>
                    <select id="declare-severity" name="severity">
                        {Severity::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str() selected=s == severity>{s.label()}</option> })
                            .collect_view()}
                    </select>
                    <FieldMessage error field="severity" />
                </div>
                <div class="field">
                    <label for="declare-impact">"Impact " <span class="optional">"(optional)"</span></label>
                    <textarea id="declare-impact" name="impact" rows="2" maxlength="2000" placeholder="Who is affected, what is broken, how widely">{impact}</textarea>
                    <FieldMessage error field="impact" />
                </div>
                <div class="field">
                    <label for="declare-guess">"Current best guess " <span class="optional">"(optional)"</span></label>
                    <textarea id="declare-guess" name="best_guess" rows="2" maxlength="2000"></textarea>
                    <FieldMessage error field="best_guess" />
                </div>
                <div class="field field-check">
                    <input id="declare-restricted" type="checkbox" name="restricted" value="on" />
                    <label for="declare-restricted">"Possible security impact or data exposure"</label>
                    <p class="hint">"Only its participants and admins will see it, and it needs a Security Lead."</p>
                </div>
                <FormMessage error />
                <button type="submit" class="button-primary button-wide" disabled=move || pending.get()>
                    "Declare and open the war room"
                </button>
                <p class="hint">"You become Incident Commander until you hand the role on."</p>
            </ActionForm>
        </section>
    }
}
