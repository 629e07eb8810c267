//! Admin: alert integrations, one per sender. A secret (routing key or
//! bearer token) is shown once, when made or rotated, with the address and
//! settings the sender needs.

use super::admin_status::AdminNav;
use crate::api::alerts::{
    list_integrations, AddIntegration, IntegrationView, NewSecret, RotateIntegrationSecret,
    UpdateIntegration,
};
use crate::api::ApiError;
use crate::components::{stamp, FieldMessage, FormMessage};
use crate::domain::alerts::{IntegrationKind, SenderSeverity, SeverityMap};
use crate::domain::incidents::Severity;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminIntegrationsPage() -> impl IntoView {
    let add = ServerAction::<AddIntegration>::new();
    let rotate = ServerAction::<RotateIntegrationSecret>::new();
    let update = ServerAction::<UpdateIntegration>::new();
    let list = Resource::new(
        move || {
            (
                add.version().get(),
                rotate.version().get(),
                update.version().get(),
            )
        },
        |_| list_integrations(),
    );
    let row_error = Signal::derive(move || {
        update
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| rotate.value().get().and_then(Result::err))
    });
    view! {
        <Title text="Alert integrations" />
        <AdminNav />
        <h1>"Alert integrations"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading integrations…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(integrations) => {
                        view! {
                            <AddIntegrationForm add />
                            <FormMessage error=row_error />
                            {move || {
                                let shown = rotate.value().get().and_then(Result::ok)?;
                                let kind = integrations_kind(&list, shown.id)?;
                                Some(view! { <SecretNotice secret=shown kind /> })
                            }}
                            <IntegrationList integrations rotate update />
                        }
                            .into_any()
                    }
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

fn integrations_kind(
    list: &Resource<Result<Vec<IntegrationView>, ApiError>>,
    id: i64,
) -> Option<IntegrationKind> {
    list.get()?
        .ok()?
        .into_iter()
        .find(|i| i.id == id)
        .map(|i| i.kind)
}

fn severity_selects(prefix: String, map: SeverityMap) -> impl IntoView {
    SenderSeverity::ALL
        .into_iter()
        .map(move |sender| {
            let chosen = map.map(sender);
            let id = format!("{prefix}-{}", sender.as_str());
            view! {
                <div class="field field-narrow">
                    <label for=id.clone()>{format!("“{}” becomes", sender.as_str())}</label>
                    <select id=id name=sender.as_str()>
                        <option value="sev1" selected=chosen == Severity::Sev1>"Sev1"</option>
                        <option value="sev2" selected=chosen == Severity::Sev2>"Sev2"</option>
                        <option value="sev3" selected=chosen == Severity::Sev3>"Sev3"</option>
                        <option value="sev4" selected=chosen == Severity::Sev4>"Sev4"</option>
                    </select>
                </div>
            }
        })
        .collect_view()
}

/// Whether new alert groups become incidents on their own, and from which severity.
fn auto_declare_select(id: String, chosen: Option<Severity>) -> impl IntoView {
    let label = |s: Severity| match s {
        Severity::Sev1 => "Sev1 alerts",
        Severity::Sev2 => "Sev2 and Sev1 alerts",
        Severity::Sev3 => "Sev3 and worse",
        Severity::Sev4 => "Every alert",
    };
    view! {
        <div class="field field-narrow">
            <label for=id.clone()>"Declare an incident automatically for"</label>
            <select id=id name="auto_declare">
                <option value="" selected=chosen.is_none()>"No alert: they wait in the inbox"</option>
                <option value="sev1" selected=chosen == Some(Severity::Sev1)>{label(Severity::Sev1)}</option>
                <option value="sev2" selected=chosen == Some(Severity::Sev2)>{label(Severity::Sev2)}</option>
                <option value="sev3" selected=chosen == Some(Severity::Sev3)>{label(Severity::Sev3)}</option>
                <option value="sev4" selected=chosen == Some(Severity::Sev4)>{label(Severity::Sev4)}</option>
            </select>
        </div>
    }
}

#[component]
fn AddIntegrationForm(add: ServerAction<AddIntegration>) -> impl IntoView {
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let created = move || {
        let secret = add.value().get().and_then(Result::ok)?;
        let kind = add
            .input()
            .get()
            .and_then(|i| IntegrationKind::parse("kind", &i.kind).ok())
            .or(Some(IntegrationKind::PagerDuty))?;
        Some((secret, kind))
    };
    let kind_seen = RwSignal::new(IntegrationKind::PagerDuty);
    let pending = add.pending();
    view! {
        <section class="panel" aria-labelledby="new-integration-heading">
            <h2 id="new-integration-heading">"Connect a sender"</h2>
            <ActionForm action=add>
                <div class="form-row">
                    <div class="field">
                        <label for="integration-name">"Name"</label>
                        <input id="integration-name" name="name" maxlength="80" required placeholder="Prometheus production" />
                        <FieldMessage error field="name" />
                    </div>
                    <div class="field">
                        <label for="integration-kind">"It speaks"</label>
                        <select
                            id="integration-kind"
                            name="kind"
                            on:change=move |ev| {
                                if let Ok(kind) = IntegrationKind::parse("kind", &event_target_value(&ev)) {
                                    kind_seen.set(kind);
                                }
                            }
                        >
                            <option value="pagerduty">{IntegrationKind::PagerDuty.label()}</option>
                            <option value="alertmanager">{IntegrationKind::Alertmanager.label()}</option>
                        </select>
                        <FieldMessage error field="kind" />
                    </div>
                </div>
                <fieldset class="form-row severity-map">
                    <legend>"Severity: what the sender says, and what it becomes here"</legend>
                    {severity_selects("new".to_owned(), SeverityMap::default())}
                </fieldset>
                <div class="form-row">{auto_declare_select("new-auto".to_owned(), None)}</div>
                <FormMessage error />
                <button type="submit" class="button-primary" disabled=move || pending.get()>
                    "Connect"
                </button>
            </ActionForm>
            {move || created().map(|(secret, kind)| view! { <SecretNotice secret kind /> })}
        </section>
    }
}

/// The secret, this once, with what to paste where.
#[component]
fn SecretNotice(secret: NewSecret, kind: IntegrationKind) -> impl IntoView {
    let origin = base_origin();
    let how = match kind {
        IntegrationKind::PagerDuty => view! {
            <p>"Routing key (integration key):"</p>
            <p class="secret"><code data-testid="integration-secret">{secret.secret.clone()}</code></p>
            <p class="hint">
                "Events go to " <code>{format!("{origin}/v2/enqueue")}</code>
                " and change events (deploys) to " <code>{format!("{origin}/v2/change/enqueue")}</code>
                ". In Alertmanager: " <code>"pagerduty_configs: [{routing_key: …, url: …/v2/enqueue}]"</code> "."
            </p>
        }
        .into_any(),
        IntegrationKind::Alertmanager => view! {
            <p>"Bearer token:"</p>
            <p class="secret"><code data-testid="integration-secret">{secret.secret.clone()}</code></p>
            <p class="hint">
                "Webhook address: " <code>{format!("{origin}/hooks/alertmanager/{}", secret.id)}</code>
                ". In Alertmanager: " <code>"webhook_configs: [{url: …, http_config: {authorization: {credentials: …}}}]"</code>
                "; in Grafana, a webhook contact point with this address and the token as its authorization credentials."
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="notice notice-success" role="status" data-testid="integration-created">
            {how}
            <p class="hint">"Copy it now: it is shown this once and stored only as a hash. Rotate it to get a new one."</p>
        </div>
    }
}

/// This instance's address as the browser sees it (empty on the server).
fn base_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
            return origin;
        }
    }
    String::new()
}

#[component]
fn IntegrationList(
    integrations: Vec<IntegrationView>,
    rotate: ServerAction<RotateIntegrationSecret>,
    update: ServerAction<UpdateIntegration>,
) -> impl IntoView {
    if integrations.is_empty() {
        return view! {
            <section class="panel"><p>"No sender is connected yet. Connect one above; its alerts then arrive in the alert inbox."</p></section>
        }
        .into_any();
    }
    view! {
        <section class="panel" aria-labelledby="integrations-heading">
            <h2 id="integrations-heading">"Connected senders"</h2>
            <ul class="integration-list">
                {integrations
                    .into_iter()
                    .map(|i| {
                        let id = i.id;
                        view! {
                            <li class="integration" data-testid="integration">
                                <p>
                                    <strong>{i.name.clone()}</strong>
                                    " · " {i.kind.label()}
                                    {i.paused.then(|| view! { " · " <span class="badge badge-paused">"Paused"</span> })}
                                </p>
                                <p class="hint">
                                    {match i.last_event_at {
                                        Some(at) => format!("Last event {} · {} open alert group(s)", stamp(at), i.open_groups),
                                        None => "No event yet".to_owned(),
                                    }}
                                    {i.rotated_at.map(|at| format!(" · secret rotated {}", stamp(at)))}
                                </p>
                                <p class="hint">
                                    "Sends to " <code>{match i.kind {
                                        IntegrationKind::PagerDuty => "/v2/enqueue (changes: /v2/change/enqueue)".to_owned(),
                                        IntegrationKind::Alertmanager => format!("/hooks/alertmanager/{id}"),
                                    }}</code>
                                </p>
                                <ActionForm action=update>
                                    <input type="hidden" name="id" value=id />
                                    <fieldset class="form-row severity-map">
                                        <legend class="sr-only">"Severity"</legend>
                                        {severity_selects(format!("edit-{id}"), i.severity_map)}
                                    </fieldset>
                                    <div class="integration-controls">
                                        {auto_declare_select(format!("auto-{id}"), i.auto_declare)}
                                        <div class="field-check">
                                            <input id=format!("paused-{id}") type="checkbox" name="paused" value="on" checked=i.paused />
                                            <label for=format!("paused-{id}")>"Paused (its events are refused)"</label>
                                        </div>
                                        <button type="submit">"Save"</button>
                                    </div>
                                </ActionForm>
                                <ActionForm action=rotate attr:class="inline-form">
                                    <input type="hidden" name="id" value=id />
                                    <button type="submit" class="button-quiet">"Rotate the secret"</button>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
