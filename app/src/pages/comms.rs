//! Stakeholder communication of one incident: the Comms Lead's composer and
//! question queue, and the status channel stakeholders read. Live.

use crate::api::updates::{
    get_comms, get_status_channel, AnswerQuestion, AskQuestion, ChannelView, CommsView,
    DismissQuestion, PublishOutcome, PublishUpdate, QuestionView, SetAffectedComponent, UpdateView,
};
use crate::api::ApiError;
use crate::components::{
    clock, use_incident_number, use_live, use_now, FieldMessage, FormMessage, SeverityBadge,
    StatusBadge,
};
use crate::domain::incidents::display_number;
use crate::domain::rhythm::countdown_text;
use crate::domain::status::ComponentStatus;
use crate::domain::updates::{
    clock_text, QuestionState, Template, TemplateKind, NEXT_UPDATE, TIME,
};
use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;

/// What the Comms Lead is writing: survives refetches, cleared once published.
///
/// Everything the composer's reactive parts read is owned here, by the page, so a
/// refetch that rebuilds the composer never leaves a closure reading a disposed value.
#[derive(Clone, Copy)]
struct Draft {
    kind: RwSignal<Option<TemplateKind>>,
    values: RwSignal<BTreeMap<String, String>>,
    templates: StoredValue<Vec<Template>>,
    prefill: StoredValue<Vec<(TemplateKind, BTreeMap<String, String>)>>,
    publish_error: Signal<Option<ApiError>>,
    answer_error: Signal<Option<ApiError>>,
}

/// The Comms page: compose and publish updates, answer stakeholders, mark components.
#[component]
pub fn CommsPage() -> impl IntoView {
    let number = use_incident_number();
    let live = use_live();
    let changes = live.for_incident(number);
    let publish = ServerAction::<PublishUpdate>::new();
    let answer = ServerAction::<AnswerQuestion>::new();
    let dismiss = ServerAction::<DismissQuestion>::new();
    let component = ServerAction::<SetAffectedComponent>::new();
    let draft = Draft {
        kind: RwSignal::new(None),
        values: RwSignal::new(BTreeMap::new()),
        templates: StoredValue::new(Vec::new()),
        prefill: StoredValue::new(Vec::new()),
        publish_error: Signal::derive(move || publish.value().get().and_then(Result::err)),
        answer_error: Signal::derive(move || answer.value().get().and_then(Result::err)),
    };
    Effect::new(move |_| {
        if let Some(Ok(PublishOutcome::Published { .. })) = publish.value().get() {
            // The next render starts a fresh draft from the incident.
            draft.kind.set(None);
        }
    });
    let comms = Resource::new(
        move || {
            (
                number(),
                changes.get(),
                publish.version().get()
                    + answer.version().get()
                    + dismiss.version().get()
                    + component.version().get(),
            )
        },
        |(number, _, _)| get_comms(number),
    );
    let error = Signal::derive(move || {
        answer
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| dismiss.value().get().and_then(Result::err))
            .or_else(|| component.value().get().and_then(Result::err))
    });
    let now = use_now();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Opening comms…"</p> }>
            {move || Suspend::new(async move {
                match comms.await {
                    Ok(view) => {
                        view! {
                            <Title text=format!("Comms · {}", display_number(view.number)) />
                            <div class="comms" data-testid="comms">
                                <CommsHeader view=view.clone() now />
                                <FormMessage error />
                                <div class="comms-grid">
                                    <Composer view=view.clone() publish draft now />
                                    <div class="comms-side">
                                        <QuestionQueue view=view.clone() answer dismiss draft />
                                        <AffectedComponents view=view.clone() component />
                                        <section class="panel" aria-labelledby="published-heading">
                                            <h2 id="published-heading">"Published"</h2>
                                            <UpdateList updates=view.updates.clone() />
                                        </section>
                                    </div>
                                </div>
                            </div>
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
fn CommsHeader(view: CommsView, now: ReadSignal<DateTime<Utc>>) -> AnyView {
    let number = view.number;
    let next = view.next_update;
    view! {
        <header class="comms-header">
            <div class="war-title">
                <a class="war-number" href=format!("/incidents/{number}")>
                    {display_number(number)}
                </a>
                <h1>"Stakeholder updates"</h1>
                <SeverityBadge severity=view.severity />
                <StatusBadge status=view.status />
            </div>
            <p class="hint">
                {match &view.speaker {
                    Some(name) => format!("{name} speaks for this incident as {}.", view.speaker_role),
                    None => "Nobody speaks for this incident yet.".to_owned(),
                }}
            </p>
            {next.map(|due| view! {
                <p class="countdown" class:overdue=move || { now.get() > due }>
                    <span class="hint">"Next update "</span>
                    <strong data-testid="comms-next-update">{move || countdown_text(due, now.get())}</strong>
                    <span class="hint">{format!(" (by {})", clock(due))}</span>
                </p>
            })}
            <a class="button-quiet" href=format!("/incidents/{number}")>"Back to the war room"</a>
            {view.resolution_due.then(|| view! {
                <p class="notice notice-warn resolution-due" role="alert" data-testid="resolution-due">
                    <strong>"Resolved, but the status page still says it is ongoing."</strong>
                    " Publish the resolution: the customer-facing update below is filled in. Check what it says about data loss first."
                </p>
            })}
        </header>
    }
    .into_any()
}

/// The values a template starts with in the composer.
fn starting_values(view: &CommsView, kind: TemplateKind) -> BTreeMap<String, String> {
    view.prefill
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

#[component]
fn Composer(
    view: CommsView,
    publish: ServerAction<PublishUpdate>,
    draft: Draft,
    now: ReadSignal<DateTime<Utc>>,
) -> AnyView {
    if !view.can_speak {
        return view! {
            <section class="panel composer" aria-labelledby="composer-heading">
                <h2 id="composer-heading">"Compose"</h2>
                <p class="hint" data-testid="not-speaker">
                    {format!(
                        "Only {} publishes updates for this incident. Ask them, or take the Comms Lead role on the war room.",
                        view.speaker.clone().unwrap_or_else(|| "the Comms Lead".to_owned()),
                    )}
                </p>
            </section>
        }
        .into_any();
    }
    let number = view.number;
    let cadence = view.update_cadence_minutes;
    let active = view.status.is_active();
    let first_kind = if view.resolution_due {
        TemplateKind::CustomerFacing
    } else if view.updates.is_empty() {
        TemplateKind::InitialInternal
    } else {
        TemplateKind::OngoingInternal
    };
    // The draft lives outside this view, so live refetches never wipe what is being typed.
    if draft.kind.get_untracked().is_none() {
        draft.kind.set(Some(first_kind));
        draft.values.set(starting_values(&view, first_kind));
    }
    draft.templates.set_value(view.templates.clone());
    draft.prefill.set_value(view.prefill.clone());
    let kind = move || draft.kind.get().unwrap_or(first_kind);
    let kind_now = move || draft.kind.get_untracked().unwrap_or(first_kind);
    let set_kind = move |k| draft.kind.set(Some(k));
    let values = draft.values;
    let prefill = draft.prefill;
    let templates = draft.templates;
    let template = move || -> Option<Template> {
        templates.with_value(|t| t.iter().find(|t| t.kind == kind()).cloned())
    };
    let preview = move || {
        let mut filled = values.get();
        let at = now.get();
        // What stakeholders read names its zone: UTC, whoever writes it.
        filled.insert(TIME.to_owned(), clock_text(at));
        if active {
            filled.insert(
                NEXT_UPDATE.to_owned(),
                clock_text(at + Duration::minutes(cadence)),
            );
        }
        template().map(|t| t.render(&filled)).unwrap_or_default()
    };
    let error = draft.publish_error;
    let warnings = move || match publish.value().get() {
        Some(Ok(PublishOutcome::NeedsConfirmation { warnings })) => warnings,
        _ => Vec::new(),
    };
    let published = move || {
        matches!(
            publish.value().get(),
            Some(Ok(PublishOutcome::Published { .. }))
        )
    };
    let send = move |confirm: bool| {
        publish.dispatch(PublishUpdate {
            number,
            kind: kind_now().as_str().to_owned(),
            values: values.get_untracked(),
            confirm,
        });
    };
    let label_of = move |key: &str| {
        template()
            .and_then(|t| t.fields.into_iter().find(|f| f.key == key))
            .map(|f| f.label)
            .unwrap_or_else(|| key.to_owned())
    };
    view! {
        <section class="panel composer" aria-labelledby="composer-heading">
            <h2 id="composer-heading">"Compose"</h2>
            <div class="template-choice" role="radiogroup" aria-label="Template">
                {TemplateKind::ALL
                    .into_iter()
                    .map(|k| {
                        view! {
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="template"
                                    value=k.as_str()
                                    prop:checked=move || kind() == k
                                    on:change=move |_| {
                                        set_kind(k);
                                        values.set(prefill.with_value(|p| p.iter().find(|(pk, _)| *pk == k).map(|(_, v)| v.clone()).unwrap_or_default()));
                                    }
                                />
                                {k.label()}
                            </label>
                        }
                    })
                    .collect_view()
                    .into_any()}
            </div>
            <form
                class="composer-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send(false);
                }
            >
                {move || {
                    template()
                        .map(|t| {
                            t.fields
                                .into_iter()
                                .filter(|f| f.key != TIME && f.key != NEXT_UPDATE)
                                .map(|f| {
                                    let key = f.key.clone();
                                    let key_for_input = key.clone();
                                    let required = kind_now().is_required(&key);
                                    let static_key = kind_now().static_key(&key).unwrap_or("fields");
                                    let id = format!("field-{key}");
                                    view! {
                                        <label for=id.clone()>
                                            {f.label.clone()}
                                            {(!required).then(|| view! { <span class="hint">" (optional)"</span> })}
                                        </label>
                                        {(!f.help.is_empty()).then(|| view! { <p class="hint field-help">{f.help.clone()}</p> })}
                                        <textarea
                                            id=id
                                            name=key.clone()
                                            rows="2"
                                            prop:value=move || values.with(|v| v.get(&key).cloned().unwrap_or_default())
                                            on:input=move |ev| {
                                                let text = event_target_value(&ev);
                                                values.update(|v| {
                                                    v.insert(key_for_input.clone(), text);
                                                });
                                            }
                                        ></textarea>
                                        <FieldMessage error field=static_key />
                                    }
                                })
                                .collect_view()
                                .into_any()
                        })
                }}
                <h3 class="preview-heading">"Preview"</h3>
                <div class="preview" data-testid="preview">
                    {move || {
                        (kind() == TemplateKind::CustomerFacing)
                            .then(|| values.with(|v| v.get("issue").cloned().unwrap_or_default()))
                            .filter(|title| !title.trim().is_empty())
                            .map(|title| view! { <p class="update-title">{title}</p> })
                    }}
                    <pre class="update-body">{preview}</pre>
                </div>
                <FormMessage error />
                {move || {
                    let list = warnings();
                    (!list.is_empty())
                        .then(|| {
                            view! {
                                <div class="notice-warn guard-warnings" role="alert" data-testid="guard-warnings">
                                    <p><strong>"Check before it goes out:"</strong></p>
                                    <ul>
                                        {list
                                            .into_iter()
                                            .map(|w| view! { <li><strong>{label_of(&w.field)}": "</strong>{w.message}</li> })
                                            .collect_view()}
                                    </ul>
                                    <button type="button" class="button-quiet" on:click=move |_| send(true)>
                                        "Publish anyway (recorded)"
                                    </button>
                                </div>
                            }
                            .into_any()
                        })
                }}
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=move || publish.pending().get()>
                        "Publish"
                    </button>
                    <Show when=published>
                        <span class="notice-success-inline" role="status">"Published."</span>
                    </Show>
                </div>
            </form>
        </section>
    }
    .into_any()
}

#[component]
fn QuestionQueue(
    view: CommsView,
    answer: ServerAction<AnswerQuestion>,
    dismiss: ServerAction<DismissQuestion>,
    draft: Draft,
) -> AnyView {
    if !view.can_speak {
        return ().into_any();
    }
    let number = view.number;
    let open: Vec<QuestionView> = view
        .questions
        .iter()
        .filter(|q| q.state == QuestionState::Open)
        .cloned()
        .collect();
    let handled = view.questions.len() - open.len();
    let answer_error = draft.answer_error;
    view! {
        <section class="panel" aria-labelledby="questions-heading" data-testid="question-queue">
            <h2 id="questions-heading">"Questions from stakeholders"</h2>
            {open.is_empty().then(|| view! { <p class="hint">"No open questions."</p> })}
            <ul class="questions">
                {open
                    .into_iter()
                    .map(|q| {
                        view! {
                            <li class="question">
                                <p class="question-text">{q.question.clone()}</p>
                                <p class="hint">{format!("{} · {}", q.asked_by, clock(q.asked_at))}</p>
                                <ActionForm action=answer attr:class="answer-form">
                                    <input type="hidden" name="number" value=number />
                                    <input type="hidden" name="question_id" value=q.id />
                                    <label class="sr-only" for=format!("answer-{}", q.id)>"Answer"</label>
                                    <textarea id=format!("answer-{}", q.id) name="answer" rows="2" placeholder="Your answer"></textarea>
                                    <FieldMessage error=answer_error field="answer" />
                                    <div class="form-actions">
                                        <button type="submit" class="button-primary">"Answer"</button>
                                        <button
                                            type="button"
                                            class="button-quiet"
                                            on:click=move |_| {
                                                dismiss.dispatch(DismissQuestion { number, question_id: q.id });
                                            }
                                        >
                                            "Dismiss"
                                        </button>
                                    </div>
                                </ActionForm>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {(handled > 0).then(|| view! { <p class="hint">{format!("{handled} answered or dismissed.")}</p> })}
        </section>
    }
    .into_any()
}

#[component]
fn AffectedComponents(view: CommsView, component: ServerAction<SetAffectedComponent>) -> AnyView {
    if view.components.is_empty() {
        return ().into_any();
    }
    let number = view.number;
    let editable = view.can_speak && view.status.is_active();
    view! {
        <section class="panel" aria-labelledby="components-heading">
            <h2 id="components-heading">"Status page components"</h2>
            <ul class="affected">
                {view
                    .components
                    .into_iter()
                    .map(|c| {
                        let current = c.status;
                        let id = c.id;
                        view! {
                            <li>
                                <label for=format!("component-{id}")>{c.name.clone()}</label>
                                <select
                                    id=format!("component-{id}")
                                    disabled=!editable
                                    on:change=move |ev| {
                                        component.dispatch(SetAffectedComponent { number, component_id: id, status: event_target_value(&ev) });
                                    }
                                >
                                    <option value="" selected=current.is_none()>"Not affected"</option>
                                    {[ComponentStatus::DegradedPerformance, ComponentStatus::PartialOutage, ComponentStatus::MajorOutage, ComponentStatus::UnderMaintenance]
                                        .into_iter()
                                        .map(|s| view! { <option value=s.as_str() selected=current == Some(s)>{s.label()}</option> })
                                        .collect_view()}
                                </select>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

/// Published updates, newest first.
#[component]
pub fn UpdateList(updates: Vec<UpdateView>) -> AnyView {
    if updates.is_empty() {
        return view! { <p class="hint">"Nothing published yet."</p> }.into_any();
    }
    view! {
        <ol class="updates" data-testid="updates">
            {updates
                .into_iter()
                .map(|u| {
                    view! {
                        <li class="update" class:update-customer=u.kind == TemplateKind::CustomerFacing>
                            <p class="update-meta">
                                <strong>{u.kind.label()}</strong>
                                {format!(" · {} · {}", clock(u.published_at), u.published_by)}
                            </p>
                            {(!u.title.is_empty()).then(|| view! { <p class="update-title">{u.title.clone()}</p> })}
                            <pre class="update-body">{u.body.clone()}</pre>
                            {(!u.overridden.is_empty()).then(|| view! {
                                <p class="hint">{format!("Published past {} warning(s): {}", u.overridden.len(), u.overridden.join(" "))}</p>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

/// The status channel of one incident, where stakeholders (viewers) follow
/// it: the published updates, and their own questions to the Comms Lead. Live.
#[component]
pub fn ChannelPage() -> impl IntoView {
    let number = use_incident_number();
    let live = use_live();
    let changes = live.for_incident(number);
    let ask = ServerAction::<AskQuestion>::new();
    let error = Signal::derive(move || ask.value().get().and_then(Result::err));
    let channel = Resource::new(
        move || (number(), changes.get(), ask.version().get()),
        |(number, _, _)| get_status_channel(number),
    );
    let now = use_now();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Opening the status channel…"</p> }>
            {move || Suspend::new(async move {
                match channel.await {
                    Ok(view) => view! { <ChannelBody view ask error now /> }.into_any(),
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

/// What a stakeholder sees of an incident: the updates, and their own questions.
#[component]
fn ChannelBody(
    view: ChannelView,
    ask: ServerAction<AskQuestion>,
    /// The last refusal of `ask` (derived by the page, which outlives this view).
    error: Signal<Option<ApiError>>,
    now: ReadSignal<DateTime<Utc>>,
) -> AnyView {
    let number = view.number;
    let asked = move || matches!(ask.value().get(), Some(Ok(())));
    view! {
        <Title text=format!("{} {}", display_number(number), view.title) />
        <div class="channel" data-testid="status-channel">
            <header class="comms-header">
                <div class="war-title">
                    <span class="war-number">{display_number(number)}</span>
                    <h1>{view.title.clone()}</h1>
                    <SeverityBadge severity=view.severity />
                    <StatusBadge status=view.status />
                </div>
                {view.postmortem_published.then(|| view! {
                    <a href=format!("/incidents/{number}/postmortem")>"Read the postmortem"</a>
                })}
                {view.next_update.map(|due| view! {
                    <p class="countdown">
                        <span class="hint">"Next update "</span>
                        <strong>{move || countdown_text(due, now.get())}</strong>
                        <span class="hint">{format!(" (by {})", clock(due))}</span>
                    </p>
                })}
            </header>
            <div class="comms-grid">
                <section class="panel" aria-labelledby="channel-updates">
                    <h2 id="channel-updates">"Updates"</h2>
                    <UpdateList updates=view.updates.clone() />
                </section>
                <div class="comms-side">
                    <section class="panel" aria-labelledby="ask-heading">
                        <h2 id="ask-heading">"Ask the Comms Lead"</h2>
                        <p class="hint">"Responders stay on the fix; the Comms Lead answers here."</p>
                        <ActionForm action=ask attr:class="ask-form">
                            <input type="hidden" name="number" value=number />
                            <label class="sr-only" for="question">"Your question"</label>
                            <textarea id="question" name="question" rows="3" placeholder="Your question"></textarea>
                            <FieldMessage error field="question" />
                            <FormMessage error />
                            <div class="form-actions">
                                <button type="submit" class="button-primary">"Ask"</button>
                                <Show when=asked>
                                    <span class="notice-success-inline" role="status">"Sent. The answer will show here."</span>
                                </Show>
                            </div>
                        </ActionForm>
                    </section>
                    <section class="panel" aria-labelledby="mine-heading">
                        <h2 id="mine-heading">"Your questions"</h2>
                        {view.my_questions.is_empty().then(|| view! { <p class="hint">"You have not asked anything yet."</p> })}
                        <ul class="questions" data-testid="my-questions">
                            {view
                                .my_questions
                                .iter()
                                .map(|q| {
                                    view! {
                                        <li class="question">
                                            <p class="question-text">{q.question.clone()}</p>
                                            {match q.state {
                                                QuestionState::Open => view! { <p class="hint">"Waiting for an answer."</p> }.into_any(),
                                                QuestionState::Dismissed => view! { <p class="hint">"Closed without an answer; watch the updates."</p> }.into_any(),
                                                QuestionState::Answered => view! {
                                                    <p class="answer">
                                                        <strong>{format!("{}: ", q.handled_by.clone().unwrap_or_default())}</strong>
                                                        {q.answer.clone()}
                                                    </p>
                                                }.into_any(),
                                            }}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                </div>
            </div>
        </div>
    }
    .into_any()
}
