//! Admin: the public page's components and maintenance windows, e-mail
//! subscribers and their mail, outbound webhooks with their delivery log, and
//! the update templates.

use crate::api::status::{
    get_status_admin, get_templates, AddComponent, AddWebhook, ArchiveComponent, CancelMaintenance,
    ComponentView, MailView, SaveTemplate, ScheduleMaintenance, SetWebhookActive, StatusAdminView,
    TemplateView, UpdateComponent,
};
use crate::api::ApiError;
use crate::components::{clock, in_zone, stamp, FieldMessage, FormMessage};
use crate::domain::status::ComponentStatus;
use crate::domain::updates::{TemplateField, TemplateKind};
use leptos::prelude::*;
use leptos_meta::Title;

/// Links between the admin screens.
#[component]
pub fn AdminNav() -> impl IntoView {
    view! {
        <nav class="sub-nav" aria-label="Admin">
            <a href="/admin/users">"Users"</a>
            <a href="/admin/status">"Status page and webhooks"</a>
            <a href="/admin/templates">"Update templates"</a>
            <a href="/admin/integrations">"Alert integrations"</a>
        </nav>
    }
}

fn forbidden(message: String) -> AnyView {
    view! {
        <section class="panel" data-testid="forbidden">
            <p class="notice">{message}</p>
            <p class="hint">"Ask an admin if you need access."</p>
        </section>
    }
    .into_any()
}

#[component]
pub fn AdminStatusPage() -> impl IntoView {
    let add = ServerAction::<AddComponent>::new();
    let update = ServerAction::<UpdateComponent>::new();
    let archive = ServerAction::<ArchiveComponent>::new();
    let schedule = ServerAction::<ScheduleMaintenance>::new();
    let cancel = ServerAction::<CancelMaintenance>::new();
    let add_hook = ServerAction::<AddWebhook>::new();
    let toggle = ServerAction::<SetWebhookActive>::new();
    let data = Resource::new(
        move || {
            add.version().get()
                + update.version().get()
                + archive.version().get()
                + schedule.version().get()
                + cancel.version().get()
                + add_hook.version().get()
                + toggle.version().get()
        },
        |_| get_status_admin(),
    );
    let row_error = Signal::derive(move || {
        update
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| archive.value().get().and_then(Result::err))
            .or_else(|| cancel.value().get().and_then(Result::err))
            .or_else(|| toggle.value().get().and_then(Result::err))
    });
    // Derived here, by the page, so they outlive the sections rebuilt on every refetch.
    let add_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let schedule_error = Signal::derive(move || schedule.value().get().and_then(Result::err));
    let add_hook_error = Signal::derive(move || add_hook.value().get().and_then(Result::err));
    view! {
        <Title text="Status page" />
        <AdminNav />
        <h1>"Status page and webhooks"</h1>
        <p class="hint">
            "The public page is at " <a href="/status" rel="external">"/status"</a>
            ". It shows components, maintenance windows and customer-facing updates only."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! {
                        <FormMessage error=row_error />
                        <Components view=view.clone() add add_error update archive />
                        <Maintenances view=view.clone() schedule schedule_error cancel />
                        <Subscribers mail=view.mail.clone() />
                        <Webhooks view add_hook add_hook_error toggle />
                    }
                    .into_any(),
                    Err(ApiError::Forbidden(message)) => forbidden(message),
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Components(
    view: StatusAdminView,
    add: ServerAction<AddComponent>,
    add_error: Signal<Option<ApiError>>,
    update: ServerAction<UpdateComponent>,
    archive: ServerAction<ArchiveComponent>,
) -> AnyView {
    view! {
        <section class="panel" aria-labelledby="components-heading">
            <h2 id="components-heading">"Components"</h2>
            {view.components.is_empty().then(|| view! { <p class="hint">"No components yet. Add what customers know by name: the API, the dashboard, payments."</p> })}
            <ul class="admin-list">
                {view.components.into_iter().map(|c| view! { <ComponentRow c update archive /> }).collect_view()}
            </ul>
            <ActionForm action=add attr:class="inline-fields">
                <label>"Name" <input name="name" required /></label>
                <label>"Group (optional)" <input name="group_name" /></label>
                <label>"Description (optional)" <input name="description" /></label>
                <button type="submit" class="button-primary">"Add component"</button>
                <FieldMessage error=add_error field="name" />
                <FormMessage error=add_error />
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn ComponentRow(
    c: ComponentView,
    update: ServerAction<UpdateComponent>,
    archive: ServerAction<ArchiveComponent>,
) -> AnyView {
    let id = c.id;
    view! {
        <li>
            <ActionForm action=update attr:class="inline-fields">
                <input type="hidden" name="id" value=id />
                <label>"Name" <input name="name" value=c.name.clone() required /></label>
                <label>"Group" <input name="group_name" value=c.group_name.clone() /></label>
                <input type="hidden" name="description" value=c.description.clone() />
                <label>"Base status"
                    <select name="status">
                        {ComponentStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=s == c.status>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Order" <input name="position" type="number" value=c.position class="narrow" /></label>
                <button type="submit" class="button-quiet">"Save"</button>
                <button type="button" class="button-link" on:click=move |_| { archive.dispatch(ArchiveComponent { id }); }>
                    "Remove"
                </button>
            </ActionForm>
        </li>
    }
    .into_any()
}

#[component]
fn Maintenances(
    view: StatusAdminView,
    schedule: ServerAction<ScheduleMaintenance>,
    schedule_error: Signal<Option<ApiError>>,
    cancel: ServerAction<CancelMaintenance>,
) -> AnyView {
    let error = schedule_error;
    view! {
        <section class="panel" aria-labelledby="maintenance-heading">
            <h2 id="maintenance-heading">"Maintenance windows"</h2>
            <ul class="admin-list">
                {view.maintenances.into_iter().map(|m| {
                    let id = m.id;
                    view! {
                        <li>
                            <strong>{m.title.clone()}</strong>
                            {format!(" · {} to {} · {}", stamp(m.starts_at), stamp(m.ends_at),
                                if m.cancelled { "cancelled" } else { m.state.as_str() })}
                            {(!m.components.is_empty()).then(|| format!(" · {}", m.components.join(", ")))}
                            {(!m.cancelled).then(|| view! {
                                <button type="button" class="button-link" on:click=move |_| { cancel.dispatch(CancelMaintenance { id }); }>"Cancel"</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <ActionForm action=schedule attr:class="stacked-form">
                <label>"Title" <input name="title" required /></label>
                <FieldMessage error field="title" />
                <label>"What customers should know" <textarea name="description" rows="2"></textarea></label>
                <div class="inline-fields">
                    <label>{move || in_zone(|z| format!("Starts ({})", z.name))} <input name="starts_at" type="datetime-local" required /></label>
                    <label>{move || in_zone(|z| format!("Ends ({})", z.name))} <input name="ends_at" type="datetime-local" required /></label>
                </div>
                <FieldMessage error field="starts_at" />
                <FieldMessage error field="ends_at" />
                <fieldset class="checks">
                    <legend>"Components"</legend>
                    {view.components.iter().map(|c| view! {
                        <label class="choice"><input type="checkbox" name=format!("components[c{}]", c.id) value=c.id />{c.name.clone()}</label>
                    }).collect_view()}
                </fieldset>
                <FormMessage error />
                <button type="submit" class="button-primary">"Schedule"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn Subscribers(mail: MailView) -> AnyView {
    view! {
        <section class="panel" aria-labelledby="subscribers-heading">
            <h2 id="subscribers-heading">"E-mail subscribers"</h2>
            <p class="hint">
                "Readers sign up on the public page when CALMROOM_SMTP_URL is set, confirm by mail, and get customer-facing updates and maintenance notices for what they follow. Mail is retried with backoff; every mail has a one-click unsubscribe."
            </p>
            <p data-testid="mail-counts">
                {format!(
                    "{} confirmed · {} awaiting confirmation · mail: {} queued, {} sent, {} failed",
                    mail.confirmed, mail.pending, mail.queued, mail.sent, mail.failed
                )}
            </p>
            {(!mail.failures.is_empty()).then(|| view! {
                <ul class="deliveries">
                    {mail.failures.into_iter().map(|(address, kind, error, at)| view! {
                        <li class="delivery delivery-failed">
                            {format!("{address} · {kind} · queued {} · {error}", clock(at))}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn Webhooks(
    view: StatusAdminView,
    add_hook: ServerAction<AddWebhook>,
    add_hook_error: Signal<Option<ApiError>>,
    toggle: ServerAction<SetWebhookActive>,
) -> AnyView {
    let error = add_hook_error;
    view! {
        <section class="panel" aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">"Webhooks"</h2>
            <p class="hint">
                "Each published update is POSTed to every active webhook (customer-facing updates always, internal ones where chosen), and so is each maintenance window when it is scheduled; a webhook that follows components hears only of incidents and windows affecting one of them. Chat webhooks get them in their platform's own format and never mention anyone. JSON bodies carry "
                <code>"X-Calmroom-Signature: sha256=…"</code>
                ", the HMAC-SHA256 of the body with the secret. Failures are retried with backoff and never hold up publishing."
            </p>
            <ul class="admin-list">
                {view.webhooks.into_iter().map(|w| {
                    let id = w.id;
                    let active = w.active;
                    view! {
                        <li data-testid="webhook">
                            <p>
                                <strong>{w.name.clone()}</strong>
                                {format!(" · {} · {} · {}", w.kind.label(), if w.all_updates { "all updates" } else { "customer-facing only" }, if w.active { "active" } else { "off" })}
                                {(!w.components.is_empty()).then(|| format!(" · follows {}", w.components.join(", ")))}
                                <button type="button" class="button-link" on:click=move |_| { toggle.dispatch(SetWebhookActive { id, active: !active }); }>
                                    {if active { "Turn off" } else { "Turn on" }}
                                </button>
                            </p>
                            <p class="hint wrap">{w.url.clone()}</p>
                            <details>
                                <summary>"Secret and deliveries"</summary>
                                <p class="hint">"Secret: " <code>{w.secret.clone()}</code></p>
                                {w.deliveries.is_empty().then(|| view! { <p class="hint">"No deliveries yet."</p> })}
                                <ul class="deliveries">
                                    {w.deliveries.into_iter().map(|d| view! {
                                        <li class=format!("delivery delivery-{}", d.state)>
                                            {format!("{} · {} · {} attempt(s)", d.about, d.state, d.attempts)}
                                            {d.last_status.map(|s| format!(" · HTTP {s}"))}
                                            {(!d.last_error.is_empty()).then(|| format!(" · {}", d.last_error))}
                                            {(d.state == "pending").then(|| format!(" · next try {}", clock(d.next_attempt_at)))}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <ActionForm action=add_hook attr:class="stacked-form">
                <div class="inline-fields">
                    <label>"Name" <input name="name" required /></label>
                    <label>"Kind"
                        // Options one by one: an iterator of options inside a select
                        // did not hydrate (docs/developing.md).
                        <select name="kind">
                            <option value="slack">"Slack"</option>
                            <option value="teams">"Microsoft Teams (Workflows)"</option>
                            <option value="mattermost">"Mattermost"</option>
                            <option value="discord">"Discord"</option>
                            <option value="google_chat">"Google Chat"</option>
                            <option value="json">"JSON (signed)"</option>
                        </select>
                    </label>
                </div>
                <FieldMessage error field="name" />
                <FieldMessage error field="kind" />
                <label>"URL" <input name="url" type="url" required /></label>
                <FieldMessage error field="url" />
                <fieldset class="checks">
                    <legend>"Only incidents and maintenance affecting (none chosen: everything)"</legend>
                    {view.components.iter().map(|c| view! {
                        <label class="choice"><input type="checkbox" name=format!("components[c{}]", c.id) value=c.id />{c.name.clone()}</label>
                    }).collect_view()}
                </fieldset>
                <FieldMessage error field="components" />
                <label class="choice"><input type="checkbox" name="all_updates" value="yes" />"Internal updates too"</label>
                <FormMessage error />
                <button type="submit" class="button-primary">"Add webhook"</button>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
pub fn AdminTemplatesPage() -> impl IntoView {
    let save = ServerAction::<SaveTemplate>::new();
    let templates = Resource::new(move || save.version().get(), |_| get_templates());
    // One error signal per template, owned by the page so it outlives the editors.
    let errors: Vec<(TemplateKind, Signal<Option<ApiError>>)> = TemplateKind::ALL
        .into_iter()
        .map(|kind| {
            let error = Signal::derive(move || {
                save.value()
                    .get()
                    .and_then(Result::err)
                    .filter(|_| save.input().get().is_none_or(|i| i.kind == kind.as_str()))
            });
            (kind, error)
        })
        .collect();
    let errors = StoredValue::new(errors);
    view! {
        <Title text="Update templates" />
        <AdminNav />
        <h1>"Update templates"</h1>
        <p class="hint">
            "Fields keep their names; change labels, order and help. In the body, "
            <code>"{{field}}"</code>
            " puts in a value; a line whose fields are all empty is left out."
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(list) => list
                        .into_iter()
                        .map(|t| {
                            let kind = t.template.kind;
                            let error = errors
                                .with_value(|e| e.iter().find(|(k, _)| *k == kind).map(|(_, s)| *s))
                                .unwrap_or_default();
                            view! { <TemplateEditor t save error /> }
                        })
                        .collect_view()
                        .into_any(),
                    Err(ApiError::Forbidden(message)) => forbidden(message),
                    Err(e) => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TemplateEditor(
    t: TemplateView,
    save: ServerAction<SaveTemplate>,
    error: Signal<Option<ApiError>>,
) -> AnyView {
    let kind = t.template.kind;
    let version = t.version;
    let fields = RwSignal::new(t.template.fields.clone());
    let body = RwSignal::new(t.template.body.clone());
    let move_field = move |index: usize, up: bool| {
        fields.update(|f| {
            let other = if up {
                index.checked_sub(1)
            } else {
                Some(index + 1)
            };
            if let Some(other) = other.filter(|o| *o < f.len()) {
                f.swap(index, other);
            }
        })
    };
    view! {
        <section class="panel template-editor" aria-label=kind.label()>
            <h2>{kind.label()}</h2>
            <form on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveTemplate { kind: kind.as_str().to_owned(), fields: fields.get_untracked(), body: body.get_untracked(), version });
            }>
                <table class="fields-table">
                    <thead><tr><th>"Field"</th><th>"Label"</th><th>"Help"</th><th>"Order"</th></tr></thead>
                    <tbody>
                        {move || fields.get().into_iter().enumerate().map(|(i, f): (usize, TemplateField)| {
                            let key = f.key.clone();
                            let key_help = f.key.clone();
                            view! {
                                <tr>
                                    <td><code>{f.key.clone()}</code></td>
                                    <td><input value=f.label.clone() aria-label=format!("Label of {}", f.key) on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        fields.update(|all| if let Some(x) = all.iter_mut().find(|x| x.key == key) { x.label = v; });
                                    } /></td>
                                    <td><input value=f.help.clone() aria-label=format!("Help of {}", f.key) on:change=move |ev| {
                                        let v = event_target_value(&ev);
                                        fields.update(|all| if let Some(x) = all.iter_mut().find(|x| x.key == key_help) { x.help = v; });
                                    } /></td>
                                    <td class="order">
                                        <button type="button" class="button-link" aria-label="Move up" on:click=move |_| move_field(i, true)>"↑"</button>
                                        <button type="button" class="button-link" aria-label="Move down" on:click=move |_| move_field(i, false)>"↓"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <label>"Body"
                    <textarea rows="7" class="mono" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                </label>
                <FieldMessage error field="body" />
                <FieldMessage error field="fields" />
                <FormMessage error />
                <button type="submit" class="button-primary">"Save template"</button>
            </form>
        </section>
    }
    .into_any()
}
