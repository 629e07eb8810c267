//! The alert inbox: open alert groups no incident has taken yet, newest
//! first, live. Each can become an incident (the declare form, filled in),
//! join an open incident, or be dismissed with a reason.

use super::dashboard::DeclareForm;
use crate::api::alerts::{get_alert_inbox, AttachAlert, DismissAlert, InboxView};
use crate::api::ApiError;
use crate::components::{clock, use_live, use_now, FormMessage, SeverityBadge};
use crate::domain::alerts::{AlertGroup, AlertState};
use crate::domain::incidents::display_number;
use crate::domain::rhythm::elapsed_text;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let live = use_live();
    let attach = ServerAction::<AttachAlert>::new();
    let dismiss = ServerAction::<DismissAlert>::new();
    let inbox = Resource::new(
        move || {
            (
                live.alerts.get(),
                live.version.get(),
                attach.version().get(),
                dismiss.version().get(),
            )
        },
        |_| get_alert_inbox(),
    );
    // The group whose declare form is open.
    let declaring = RwSignal::new(None::<i64>);
    let now = use_now();
    let error = Signal::derive(move || {
        attach
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| dismiss.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Alerts" />
        <h1>"Alert inbox"</h1>
        <p class="hint page-hint">
            "Alerts from monitoring that no incident has taken yet. Declare one, attach it to an incident that is already open, or dismiss it with a reason."
        </p>
        <FormMessage error />
        <Transition fallback=|| view! { <p class="loading">"Loading alerts…"</p> }>
            {move || Suspend::new(async move {
                match inbox.await {
                    Ok(view) => inbox_view(view, declaring, attach, dismiss, now),
                    Err(ApiError::Forbidden(message)) => {
                        view! { <section class="panel" data-testid="forbidden"><p class="notice">{message}</p></section> }
                            .into_any()
                    }
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn inbox_view(
    view: InboxView,
    declaring: RwSignal<Option<i64>>,
    attach: ServerAction<AttachAlert>,
    dismiss: ServerAction<DismissAlert>,
    now: ReadSignal<DateTime<Utc>>,
) -> AnyView {
    if view.groups.is_empty() {
        return view! {
            <section class="panel empty-inbox" data-testid="alert-inbox">
                <p>"Nothing waiting. New alerts appear here as they arrive."</p>
                <p class="hint">"Admins connect monitoring under Admin → Alert integrations."</p>
            </section>
        }
        .into_any();
    }
    let incidents = view.incidents;
    let more = view.more;
    view! {
        <ul class="alert-list" data-testid="alert-inbox">
            {view
                .groups
                .into_iter()
                .map(|group| {
                    view! { <AlertCard group incidents=incidents.clone() declaring attach dismiss now /> }
                })
                .collect_view()}
        </ul>
        {more.then(|| view! { <p class="hint">"Showing the newest 200. Dismiss or attach some to see older ones."</p> })}
    }
    .into_any()
}

#[component]
fn AlertCard(
    group: AlertGroup,
    incidents: Vec<(i64, String)>,
    declaring: RwSignal<Option<i64>>,
    attach: ServerAction<AttachAlert>,
    dismiss: ServerAction<DismissAlert>,
    now: ReadSignal<DateTime<Utc>>,
) -> impl IntoView {
    let id = group.id;
    let started = group.started_at;
    let open = move || declaring.get() == Some(id);
    let state_class = format!("badge alert-state-{}", group.state.as_str());
    let counts =
        (group.alerts > 1).then(|| format!("{} of {} alerts firing", group.firing, group.alerts));
    let repeats = (group.events > 1).then(|| format!("{} events", group.events));
    let details = group.details.clone();
    let link = group.link.clone();
    let form_group = group.clone();
    view! {
        <li class="panel alert-card" data-testid="alert-group">
            <div class="alert-head">
                <SeverityBadge severity=group.severity />
                <span class=state_class>{group.state.label()}</span>
                <strong class="alert-summary">{group.summary.clone()}</strong>
            </div>
            <p class="alert-meta">
                {format!("{} · {} · ", group.integration, group.source)}
                <span title=clock(started)>
                    {move || {
                        let now = now.get();
                        let since = if (now - started).num_minutes() < 1 {
                            "firing for under a minute".to_owned()
                        } else {
                            format!("firing for {}", elapsed_text(started, now))
                        };
                        if group.state == AlertState::Acknowledged {
                            format!("acknowledged, {since}")
                        } else {
                            since
                        }
                    }}
                </span>
                {counts.map(|c| format!(" · {c}"))}
                {repeats.map(|r| format!(" · {r}"))}
            </p>
            {(!details.is_empty())
                .then(|| {
                    view! {
                        <ul class="alert-labels">
                            {details
                                .into_iter()
                                .take(12)
                                .map(|(k, v)| view! { <li><span class="label-key">{k}</span>"="<span>{v}</span></li> })
                                .collect_view()}
                        </ul>
                    }
                })}
            {link.map(|href| view! { <p class="alert-link"><a href=href rel="noopener noreferrer" target="_blank">"Open in the sender"</a></p> })}
            <div class="alert-actions">
                <button
                    type="button"
                    class="button-primary"
                    on:click=move |_| declaring.update(|d| *d = if *d == Some(id) { None } else { Some(id) })
                >
                    {move || if open() { "Close the form" } else { "Declare" }}
                </button>
                {(!incidents.is_empty())
                    .then(|| {
                        view! {
                            <ActionForm action=attach attr:class="inline-form">
                                <input type="hidden" name="group" value=id />
                                <label class="sr-only" for=format!("attach-{id}")>"Incident"</label>
                                <select id=format!("attach-{id}") name="number">
                                    {incidents
                                        .iter()
                                        .map(|(n, title)| {
                                            view! { <option value=*n>{format!("{} {title}", display_number(*n))}</option> }
                                        })
                                        .collect_view()}
                                </select>
                                <button type="submit">"Attach"</button>
                            </ActionForm>
                        }
                    })}
                <ActionForm action=dismiss attr:class="inline-form">
                    <input type="hidden" name="group" value=id />
                    <label class="sr-only" for=format!("dismiss-{id}")>"Why dismiss it"</label>
                    <input id=format!("dismiss-{id}") name="reason" maxlength="500" required placeholder="Why dismiss it?" />
                    <button type="submit" class="button-quiet">"Dismiss"</button>
                </ActionForm>
            </div>
            <Show when=open>
                <DeclareForm from=form_group.clone() />
            </Show>
        </li>
    }
}
