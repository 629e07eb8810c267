//! Action items across incidents: the tracker with its filters, the item card
//! and its status steps (shared with the postmortem page), the dashboard's
//! "My action items" and incidents at recurrence risk, and the calendar link.

use crate::api::postmortems::{
    get_action_items, get_follow_up, FollowUp, GetCalendarLink, ItemView, MoveActionItem,
    TrackerFilter,
};
use crate::api::ApiError;
use crate::components::{use_live, FieldMessage, FormMessage, SeverityBadge};
use crate::domain::incidents::display_number;
use crate::domain::postmortems::ActionStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// One action item; `children` holds its actions.
#[component]
pub fn ItemCard(
    item: ItemView,
    show_incident: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let status_class = format!("badge item-status item-{}", item.status.as_str());
    view! {
        <li class="item" class:item-overdue=item.overdue data-testid="action-item" data-item-title=item.title.clone()>
            <div class="item-head">
                {item.top.then(|| view! { <span class="item-top" title="Top item">"★"</span> })}
                <span class="item-title">{item.title.clone()}</span>
                <span class=status_class>{item.status.label()}</span>
            </div>
            <div class="item-meta">
                <span class="badge item-kind">{item.kind.label()}</span>
                {show_incident.then(|| view! {
                    <a href=format!("/incidents/{}/postmortem", item.incident_number)>
                        {format!("{} {}", display_number(item.incident_number), item.incident_title)}
                    </a>
                })}
                <span>{item.owner_name.clone().map(|n| format!("Owner: {n}")).unwrap_or_else(|| "No owner".to_owned())}</span>
                <span>
                    {item.due.map(|d| format!("Due {d}")).unwrap_or_else(|| "No due date".to_owned())}
                    {item.overdue.then(|| view! { " " <span class="flag flag-overdue">"overdue"</span> })}
                </span>
            </div>
            <p class="item-verify"><span class="hint">"Verify: "</span>{item.verification.clone()}</p>
            {(item.status == ActionStatus::Verified).then(|| view! {
                <p class="item-evidence">
                    {format!("✓ Verified by {}: {}", item.verified_by.clone().unwrap_or_default(), item.evidence)}
                </p>
            })}
            {children.map(|c| c())}
        </li>
    }
}

/// The next steps an item can take; verifying asks for the evidence.
#[component]
pub fn ItemActions(
    item: ItemView,
    step: ServerAction<MoveActionItem>,
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    let id = item.id;
    // The evidence message belongs to the item it was refused for only.
    let last = use_context::<LastStep>();
    let error = Signal::derive(move || {
        error
            .get()
            .filter(|_| last.is_none_or(|l| l.0.get() == Some(id)))
    });
    let button = move |status: ActionStatus, label: &'static str, class: &'static str| {
        view! {
            <ActionForm action=step attr:class="inline-form">
                <input type="hidden" name="item" value=item.id />
                <input type="hidden" name="version" value=item.version />
                <input type="hidden" name="status" value=status.as_str() />
                <input type="hidden" name="evidence" value="" />
                <button type="submit" class=class>{label}</button>
            </ActionForm>
        }
    };
    let evidence_id = format!("evidence-{}", item.id);
    match item.status {
        ActionStatus::Open => view! {
            <div class="item-actions">{button(ActionStatus::InProgress, "Start", "button-secondary")}</div>
        }
        .into_any(),
        ActionStatus::InProgress => view! {
            <div class="item-actions">
                {button(ActionStatus::Done, "Mark done", "button-secondary")}
                {button(ActionStatus::Open, "Back to open", "button-quiet")}
            </div>
        }
        .into_any(),
        ActionStatus::Done => view! {
            <div class="item-actions item-verify-form">
                <ActionForm action=step attr:class="verify-form">
                    <input type="hidden" name="item" value=item.id />
                    <input type="hidden" name="version" value=item.version />
                    <input type="hidden" name="status" value="verified" />
                    <label for=evidence_id.clone()>"Evidence it works"</label>
                    <input id=evidence_id name="evidence" maxlength="1000" placeholder="The drill on 3 Dec paged within 2 minutes" />
                    <FieldMessage error field="evidence" />
                    <button type="submit" class="button-primary">"Mark verified"</button>
                </ActionForm>
                {button(ActionStatus::InProgress, "Reopen", "button-quiet")}
            </div>
        }
        .into_any(),
        ActionStatus::Verified => ().into_any(),
    }
}

/// Remembers which item the last status step was for, after the action finishes.
#[derive(Clone, Copy)]
pub struct LastStep(pub RwSignal<Option<i64>>);

/// Provides [`LastStep`] for a page's item actions.
pub fn provide_last_step(step: ServerAction<MoveActionItem>) {
    let last = LastStep(RwSignal::new(None));
    Effect::new(move |_| {
        if let Some(item) = step.input().with(|i| i.as_ref().map(|i| i.item)) {
            last.0.set(Some(item));
        }
    });
    provide_context(last);
}

/// The tracker: every action item, filtered by owner, status, due date and incident.
#[component]
pub fn ActionItemsPage() -> impl IntoView {
    let live = use_live();
    let query = use_query_map();
    let step = ServerAction::<MoveActionItem>::new();
    provide_last_step(step);
    let filter = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        TrackerFilter {
            owner: get("owner"),
            status: get("status"),
            due: get("due"),
            incident: get("incident"),
        }
    };
    let items = Resource::new(
        move || (filter(), live.version.get(), step.version().get()),
        |(filter, _, _)| get_action_items(filter),
    );
    let step_error = Signal::derive(move || step.value().get().and_then(Result::err));
    view! {
        <Title text="Action items" />
        <h1>"Action items"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading action items…"</p> }>
            {move || Suspend::new(async move {
                let current = filter();
                match items.await {
                    Ok(view) => view! {
                        <form class="panel tracker-filters" method="get" action="/action-items">
                            <div class="field">
                                <label for="f-owner">"Owner"</label>
                                <select id="f-owner" name="owner">
                                    <option value="" selected=current.owner.is_empty()>"Anyone"</option>
                                    <option value="me" selected=current.owner == "me">"Me"</option>
                                    {view.people.iter().map(|(id, name)| view! {
                                        <option value=*id selected=current.owner == id.to_string()>{name.clone()}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="f-status">"Status"</label>
                                <select id="f-status" name="status">
                                    <option value="" selected=current.status.is_empty()>"Any"</option>
                                    <option value="outstanding" selected=current.status == "outstanding">"Open or in progress"</option>
                                    {ActionStatus::ALL.into_iter().map(|s| view! {
                                        <option value=s.as_str() selected=current.status == s.as_str()>{s.label()}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="f-due">"Due"</label>
                                <select id="f-due" name="due">
                                    <option value="" selected=current.due.is_empty()>"Any time"</option>
                                    <option value="overdue" selected=current.due == "overdue">"Overdue"</option>
                                    <option value="week" selected=current.due == "week">"Due this week"</option>
                                </select>
                            </div>
                            <div class="field">
                                <label for="f-incident">"Incident"</label>
                                <select id="f-incident" name="incident">
                                    <option value="" selected=current.incident.is_empty()>"All incidents"</option>
                                    {view.incidents.iter().map(|(n, title)| view! {
                                        <option value=*n selected=current.incident == n.to_string()>{format!("{} {}", display_number(*n), title)}</option>
                                    }).collect_view()}
                                </select>
                            </div>
                            <button type="submit" class="button-secondary">"Filter"</button>
                        </form>
                        <FormMessage error=step_error />
                        <section class="panel" aria-label="Items">
                            <p class="hint" role="status">{format!("{} item(s)", view.items.len())}</p>
                            {if view.items.is_empty() {
                                view! { <p class="empty">"No action items match."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="items" data-testid="tracker-items">
                                        {view.items.into_iter().map(|item| view! {
                                            <ItemCard item=item.clone() show_incident=true>
                                                <ItemActions item=item.clone() step error=step_error />
                                            </ItemCard>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        <CalendarLink />
                    }
                    .into_any(),
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `path` on this site, as a full address a calendar app can subscribe to.
fn absolute(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Ok(origin) = window().location().origin() {
        return format!("{origin}{path}");
    }
    path.to_owned()
}

/// The private calendar feed of the caller's action items.
#[component]
fn CalendarLink() -> impl IntoView {
    let show = ServerAction::<GetCalendarLink>::new();
    view! {
        <section class="panel calendar-link" aria-labelledby="calendar-heading">
            <h2 id="calendar-heading">"Your items in your calendar"</h2>
            <p class="hint">"A private address your calendar app subscribes to. Anyone with it sees your items, so keep it to yourself; a new address stops the old one."</p>
            {move || match show.value().get() {
                Some(Ok(path)) => view! { <code class="calendar-url" data-testid="calendar-url">{absolute(&path)}</code> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <div class="item-actions">
                <button type="button" class="button-secondary" on:click=move |_| { show.dispatch(GetCalendarLink { reset: false }); }>"Show my address"</button>
                <button type="button" class="button-quiet" on:click=move |_| { show.dispatch(GetCalendarLink { reset: true }); }>"Make a new address"</button>
            </div>
        </section>
    }
}

/// The dashboard's follow-up: my outstanding items (overdue ones nudge) and
/// incidents at recurrence risk.
#[component]
pub fn FollowUpPanels() -> impl IntoView {
    let live = use_live();
    let follow = Resource::new(move || live.version.get(), |_| get_follow_up());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match follow.await {
                    Ok(FollowUp { my_items, at_risk, postmortems_owed }) => {
                        let overdue = my_items.iter().filter(|i| i.overdue).count();
                        view! {
                            {(!postmortems_owed.is_empty()).then(|| view! { <PostmortemsOwed owed=postmortems_owed /> })}
                            <section class="panel" aria-labelledby="my-items-heading" data-testid="my-items">
                                <h2 id="my-items-heading">"My action items"</h2>
                                {(overdue > 0).then(|| view! {
                                    <p class="notice-warn" role="alert" data-testid="overdue-nudge">
                                        {format!("{overdue} of your action items {} overdue. Finish it, or agree a new date with the incident's commander.", if overdue == 1 { "is" } else { "are" })}
                                    </p>
                                })}
                                {if my_items.is_empty() {
                                    view! { <p class="empty hint">"Nothing assigned to you."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="items items-compact">
                                            {my_items.into_iter().map(|item| view! { <ItemCard item show_incident=true /> }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                <a href="/action-items?owner=me">"All my items"</a>
                            </section>
                            <section class="panel" aria-labelledby="risk-heading" data-testid="at-risk">
                                <h2 id="risk-heading">"At recurrence risk"</h2>
                                <p class="hint">"Resolved incidents whose prevention work is not all verified."</p>
                                {if at_risk.is_empty() {
                                    view! { <p class="empty hint">"None."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="risk-list">
                                            {at_risk.into_iter().map(|r| view! {
                                                <li data-testid="risk" data-number=r.number>
                                                    <a href=format!("/incidents/{}/postmortem", r.number)>
                                                        {format!("{} {}", display_number(r.number), r.title)}
                                                    </a>
                                                    <SeverityBadge severity=r.severity />
                                                    <span class="hint">
                                                        {match r.postmortem {
                                                            None => "no postmortem yet".to_owned(),
                                                            Some(_) if r.unverified_prevention == 0 => "no prevention item".to_owned(),
                                                            Some(_) => format!("{} prevention item(s) not verified", r.unverified_prevention),
                                                        }}
                                                    </span>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                        }
                        .into_any()
                    }
                    Err(_) => ().into_any(),
                }
            })}
        </Transition>
    }
}

/// The postmortems the signed-in user owes as IC, with a nudge when one is overdue.
#[component]
fn PostmortemsOwed(owed: Vec<crate::api::leadership::DueView>) -> AnyView {
    let overdue = owed.iter().filter(|p| p.overdue).count();
    view! {
        <section class="panel" aria-labelledby="owed-heading" data-testid="postmortems-owed">
            <h2 id="owed-heading">"Postmortems you owe"</h2>
            {(overdue > 0).then(|| view! {
                <p class="notice-warn" role="alert">
                    {format!("{overdue} postmortem{} past its due date. Publish it, or tell leadership when it will be ready.", if overdue == 1 { " is" } else { "s are" })}
                </p>
            })}
            <ul class="risk-list">
                {owed.into_iter().map(|p| view! {
                    <li class:overdue=p.overdue>
                        <a href=format!("/incidents/{}/postmortem", p.number)>{format!("{} {}", display_number(p.number), p.title)}</a>
                        <span class="hint">{format!("due {}", p.due.format("%a %-d %b"))}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
