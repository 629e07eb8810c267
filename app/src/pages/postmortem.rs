//! The postmortem of one incident: the document drafted from its log, the
//! action items, the pre-publish checklist, and the review-meeting screen. Live.

use crate::api::postmortems::{
    get_postmortem, AddActionItem, ConfirmActionItem, ExcludeLine, MoveActionItem,
    PostmortemScreen, PostmortemView, PreviewMarkdown, PublishPostmortem, PublishPostmortemOutcome,
    PublishPostmortemSummary, ReassignActionItem, RecordMeeting, SavePostmortem, SendForReview,
    StartPostmortem,
};
use crate::api::updates::PublishOutcome;
use crate::api::ApiError;
use crate::components::{
    clock, in_zone, stamp, use_incident_number, use_live, FieldMessage, FormMessage, SeverityBadge,
};
use crate::domain::incidents::display_number;
use crate::domain::postmortems::{ActionKind, PostmortemStatus, Section};
use crate::domain::rhythm::duration_text;
use crate::pages::action_items::{provide_last_step, ItemActions, ItemCard};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use std::collections::BTreeMap;

fn minutes_text(minutes: Option<i64>) -> String {
    minutes.map_or_else(|| "not recorded".to_owned(), duration_text)
}

/// What the writer has typed and not saved: survives live refetches.
#[derive(Clone, Copy)]
struct Edits {
    values: RwSignal<BTreeMap<String, String>>,
    previews: RwSignal<BTreeMap<String, String>>,
}

/// The public summary being written, owned by the page so that a live
/// refetch (which builds the document anew) keeps the text and the warnings.
#[derive(Clone, Copy)]
struct SummaryDraft {
    action: ServerAction<PublishPostmortemSummary>,
    text: RwSignal<String>,
}

/// The postmortem page.
#[component]
pub fn PostmortemPage() -> impl IntoView {
    let number = use_incident_number();
    let live = use_live();
    let changes = live.for_incident(number);
    let start = ServerAction::<StartPostmortem>::new();
    let save = ServerAction::<SavePostmortem>::new();
    let exclude = ServerAction::<ExcludeLine>::new();
    let add = ServerAction::<AddActionItem>::new();
    let step = ServerAction::<MoveActionItem>::new();
    provide_last_step(step);
    let review = ServerAction::<SendForReview>::new();
    let publish = ServerAction::<PublishPostmortem>::new();
    let preview = ServerAction::<PreviewMarkdown>::new();
    let draft = SummaryDraft {
        action: ServerAction::<PublishPostmortemSummary>::new(),
        text: RwSignal::new(String::new()),
    };
    Effect::new(move |_| {
        if let Some(Ok(PublishOutcome::Published { .. })) = draft.action.value().get() {
            draft.text.set(String::new());
        }
    });
    let edits = Edits {
        values: RwSignal::new(BTreeMap::new()),
        previews: RwSignal::new(BTreeMap::new()),
    };
    let previewing = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            edits.values.set(BTreeMap::new());
            edits.previews.set(BTreeMap::new());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(html)) = preview.value().get() {
            let section = previewing.get_untracked();
            edits.previews.update(|p| {
                p.insert(section, html);
            });
        }
    });
    let doc = Resource::new(
        move || {
            (
                number(),
                changes.get(),
                start.version().get()
                    + save.version().get()
                    + exclude.version().get()
                    + add.version().get()
                    + step.version().get()
                    + review.version().get()
                    + publish.version().get()
                    + draft.action.version().get(),
            )
        },
        |(number, _, _)| get_postmortem(number),
    );
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let add_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let step_error = Signal::derive(move || step.value().get().and_then(Result::err));
    let error = Signal::derive(move || {
        start
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| exclude.value().get().and_then(Result::err))
            .or_else(|| review.value().get().and_then(Result::err))
            .or_else(|| publish.value().get().and_then(Result::err))
    });
    let failing = Signal::derive(move || match publish.value().get() {
        Some(Ok(PublishPostmortemOutcome::NeedsOverride { failing })) => failing,
        _ => Vec::new(),
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Opening the postmortem…"</p> }>
            {move || Suspend::new(async move {
                match doc.await {
                    Ok(PostmortemScreen::NotStarted { number, title, resolved, can_start }) => {
                        view! {
                            <Title text=format!("Postmortem · {}", display_number(number)) />
                            <div class="postmortem">
                                <header class="pm-header">
                                    <div class="war-title">
                                        <a class="war-number" href=format!("/incidents/{number}")>{display_number(number)}</a>
                                        <h1>"Postmortem"</h1>
                                    </div>
                                    <p class="hint">{title}</p>
                                </header>
                                <section class="panel">
                                    {if !resolved {
                                        view! { <p class="empty">"The postmortem starts once the incident is resolved."</p> }.into_any()
                                    } else if can_start {
                                        view! {
                                            <p>"The draft is filled in from the incident: its milestones, decisions, status changes, hand-offs, updates and restore steps. You can leave any line out."</p>
                                            <ActionForm action=start>
                                                <input type="hidden" name="number" value=number />
                                                <button type="submit" class="button-primary">"Start the postmortem"</button>
                                            </ActionForm>
                                        }.into_any()
                                    } else {
                                        view! { <p class="empty">"Nobody has started this postmortem yet. The incident's commander or an admin starts it."</p> }.into_any()
                                    }}
                                    <FormMessage error />
                                </section>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(PostmortemScreen::Document(view)) => {
                        let view = *view;
                        view! {
                            <Title text=format!("Postmortem · {}", display_number(view.number)) />
                            <div class="postmortem" data-testid="postmortem">
                                <PmHeader view=view.clone() />
                                <FormMessage error />
                                <Facts view=view.clone() />
                                <div class="pm-grid">
                                    <div class="pm-main">
                                        <Document view=view.clone() save edits preview previewing save_error />
                                        <Timeline view=view.clone() exclude />
                                        <Items view=view.clone() add step add_error step_error />
                                    </div>
                                    <div class="pm-side">
                                        <Checklist view=view.clone() review publish failing draft />
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
fn PmHeader(view: PostmortemView) -> AnyView {
    let number = view.number;
    view! {
        <header class="pm-header">
            <div class="war-title">
                <a class="war-number" href=format!("/incidents/{number}")>{display_number(number)}</a>
                <h1>"Postmortem"</h1>
                <SeverityBadge severity=view.severity />
                <span class=format!("badge pm-status pm-{}", view.status.as_str()) data-testid="pm-status">
                    {view.status.label()}
                </span>
            </div>
            <p class="pm-title">{view.title.clone()}</p>
            <nav class="pm-links" aria-label="Postmortem">
                {view.can_write.then(|| view! {
                    <a href=format!("/incidents/{number}/postmortem/review")>"Review meeting"</a>
                })}
                <a href=format!("/incidents/{number}/postmortem/export.md") rel="external" download="">"Export Markdown"</a>
                <a href=format!("/incidents/{number}/postmortem/print") rel="external" target="_blank">"Printable page"</a>
            </nav>
        </header>
    }
    .into_any()
}

/// Duration, impact window and the derived response times.
#[component]
fn Facts(view: PostmortemView) -> AnyView {
    let window = view.impact_window();
    view! {
        <section class="panel pm-facts" aria-label="Derived figures">
            <dl>
                <div>
                    <dt>"Impact window"</dt>
                    <dd>
                        {match window {
                            Some((start, end)) => view! {
                                {minutes_text(Some((end - start).num_minutes()))}
                                <small>{format!("{} to {}", stamp(start), clock(end))}</small>
                            }.into_any(),
                            None => "still open".into_any(),
                        }}
                    </dd>
                </div>
                {view.times.iter().map(|t| view! {
                    <div>
                        <dt>{t.label.clone()}</dt>
                        <dd>{minutes_text(t.minutes)}</dd>
                    </div>
                }).collect_view()}
            </dl>
            <p class="hint">"Derived from the incident's milestones. Time to detect needs the time impact started (under customer impact)."</p>
        </section>
    }
    .into_any()
}

/// The written sections: rendered when read-only, a form with previews when editable.
#[component]
fn Document(
    view: PostmortemView,
    save: ServerAction<SavePostmortem>,
    edits: Edits,
    preview: ServerAction<PreviewMarkdown>,
    previewing: RwSignal<String>,
    save_error: Signal<Option<ApiError>>,
) -> AnyView {
    if !view.editable() {
        return view! {
            <section class="panel pm-doc" aria-label="Document">
                {view.sections.iter().map(|s| {
                    let extra = (s.section == Section::CustomerImpact).then(|| impact_numbers(&view));
                    view! {
                        <h2>{s.section.label()}</h2>
                        {extra}
                        {if s.text.trim().is_empty() {
                            view! { <p class="empty hint">"Not written."</p> }.into_any()
                        } else {
                            view! { <div class="markdown" inner_html=s.html.clone()></div> }.into_any()
                        }}
                    }
                }).collect_view()}
            </section>
        }
        .into_any();
    }
    let number = view.number;
    let version = view.version;
    let saved: BTreeMap<String, String> = view
        .sections
        .iter()
        .map(|s| (s.section.as_str().to_owned(), s.text.clone()))
        .chain([
            ("users_affected".to_owned(), view.users_affected.clone()),
            ("failed_requests".to_owned(), view.failed_requests.clone()),
            ("slo_budget_spent".to_owned(), view.slo_budget_spent.clone()),
            (
                "impact_started_at".to_owned(),
                view.impact_started_at
                    .map(|t| in_zone(|z| z.to_input(t)))
                    .unwrap_or_default(),
            ),
        ])
        .collect();
    let saved = StoredValue::new(saved);
    let value_of = move |field: &'static str| {
        move || {
            edits
                .values
                .with(|v| v.get(field).cloned())
                .unwrap_or_else(|| saved.with_value(|s| s.get(field).cloned().unwrap_or_default()))
        }
    };
    let set = move |field: &'static str| {
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            edits.values.update(|v| {
                v.insert(field.to_owned(), text);
            });
        }
    };
    let dirty = move || !edits.values.with(BTreeMap::is_empty);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut fields = saved.get_value();
        edits.values.with(|v| fields.extend(v.clone()));
        save.dispatch(SavePostmortem {
            number,
            version,
            fields,
        });
    };
    let small = move |field: &'static str, label: &'static str, placeholder: &'static str| {
        view! {
            <div class="field">
                <label for=format!("pm-{field}")>{label}</label>
                <input id=format!("pm-{field}") name=field maxlength="100" placeholder=placeholder
                    prop:value=value_of(field) on:input=set(field) />
                <FieldMessage error=save_error field=field />
            </div>
        }
    };
    let sections = view.sections.clone();
    view! {
        <section class="panel pm-doc" aria-label="Document">
            <form on:submit=submit class="pm-form">
                {sections.into_iter().map(|s| {
                    let field = s.section.as_str();
                    let id = format!("pm-{field}");
                    let saved_html = s.html.clone();
                    let shown = move || {
                        edits.previews.with(|p| p.get(field).cloned()).unwrap_or_else(|| saved_html.clone())
                    };
                    let extra = (s.section == Section::CustomerImpact).then(|| view! {
                        <div class="pm-numbers">
                            {small("users_affected", "Users affected", "about 4,000")}
                            {small("failed_requests", "Failed requests", "12,500")}
                            {small("slo_budget_spent", "SLO budget spent", "38 % of the month")}
                            <div class="field">
                                <label for="pm-impact_started_at">{move || in_zone(|z| format!("Impact started ({})", z.name))}</label>
                                <input id="pm-impact_started_at" type="datetime-local" name="impact_started_at"
                                    prop:value=value_of("impact_started_at") on:input=set("impact_started_at") />
                                <FieldMessage error=save_error field="impact_started_at" />
                            </div>
                        </div>
                    });
                    view! {
                        <div class="pm-section">
                            <label class="pm-section-label" for=id.clone()>{s.section.label()}</label>
                            <p class="hint">{s.section.hint()}</p>
                            {extra}
                            <textarea id=id name=field rows="4" prop:value=value_of(field) on:input=set(field)></textarea>
                            <FieldMessage error=save_error field=field />
                            <div class="pm-preview-bar">
                                <button type="button" class="button-quiet" on:click=move |_| {
                                    previewing.set(field.to_owned());
                                    preview.dispatch(PreviewMarkdown { text: value_of(field)() });
                                }>"Preview"</button>
                                <span class="hint">"Markdown: **bold**, - lists, [links](https://…)"</span>
                            </div>
                            <div class="markdown pm-preview" inner_html=shown></div>
                        </div>
                    }
                }).collect_view()}
                <FormMessage error=save_error />
                <div class="pm-save">
                    <button type="submit" class="button-primary" disabled=move || save.pending().get()>"Save"</button>
                    <span class="hint" role="status">{move || if dirty() { "Unsaved changes" } else { "All changes saved" }}</span>
                </div>
            </form>
        </section>
    }
    .into_any()
}

fn impact_numbers(view: &PostmortemView) -> AnyView {
    let rows: Vec<(&str, String)> = [
        ("Users affected", view.users_affected.clone()),
        ("Failed requests", view.failed_requests.clone()),
        ("SLO budget spent", view.slo_budget_spent.clone()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    view! {
        <ul class="pm-number-list">
            {rows.into_iter().map(|(label, value)| view! { <li><span class="hint">{label}": "</span>{value}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Timeline(view: PostmortemView, exclude: ServerAction<ExcludeLine>) -> AnyView {
    let number = view.number;
    let editable = view.editable();
    view! {
        <section class="panel" aria-labelledby="pm-timeline-heading">
            <h2 id="pm-timeline-heading">"Timeline"</h2>
            <p class="hint">"Drafted from the incident log. Lines you leave out stay on record but not in the document."</p>
            <ol class="pm-timeline" data-testid="pm-timeline">
                {view.lines.into_iter().map(|line| {
                    let excluded = line.excluded;
                    view! {
                        <li class:pm-excluded=excluded>
                            <time datetime=line.at.to_rfc3339()>{clock(line.at)}</time>
                            <span class="pm-line">{line.body.clone()}</span>
                            {editable.then(|| view! {
                                <ActionForm action=exclude attr:class="inline-form">
                                    <input type="hidden" name="number" value=number />
                                    <input type="hidden" name="line" value=line.id />
                                    <input type="hidden" name="excluded" value=(!excluded).to_string() />
                                    <button type="submit" class="button-quiet">{if excluded { "Put back" } else { "Leave out" }}</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

#[component]
fn Items(
    view: PostmortemView,
    add: ServerAction<AddActionItem>,
    step: ServerAction<MoveActionItem>,
    add_error: Signal<Option<ApiError>>,
    step_error: Signal<Option<ApiError>>,
) -> AnyView {
    let number = view.number;
    let people = view.people.clone();
    let can_write = view.can_write;
    view! {
        <section class="panel" aria-labelledby="pm-items-heading">
            <h2 id="pm-items-heading">"Action items"</h2>
            {if view.items.is_empty() {
                view! { <p class="empty hint">"No action items yet. Add one that prevents a repeat and one that detects it sooner."</p> }.into_any()
            } else {
                view! {
                    <ul class="items" data-testid="pm-items">
                        {view.items.into_iter().map(|item| {
                            let actions = can_write.then(|| view! { <ItemActions item=item.clone() step error=step_error /> });
                            view! { <ItemCard item=item show_incident=false>{actions}</ItemCard> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {can_write.then(|| view! {
                <details class="pm-add" open=true>
                    <summary>"Add an action item"</summary>
                    <ActionForm action=add attr:class="item-form">
                        <input type="hidden" name="number" value=number />
                        <div class="field">
                            <label for="item-title">"What will be done"</label>
                            <input id="item-title" name="title" maxlength="200" required />
                            <FieldMessage error=add_error field="title" />
                        </div>
                        <div class="item-form-row">
                            <div class="field">
                                <label for="item-kind">"Kind"</label>
                                <select id="item-kind" name="kind">
                                    {ActionKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                                </select>
                                <FieldMessage error=add_error field="kind" />
                            </div>
                            <div class="field">
                                <label for="item-owner">"Owner"</label>
                                <select id="item-owner" name="owner">
                                    <option value="">"Nobody yet"</option>
                                    {people.iter().map(|(id, name)| view! { <option value=*id>{name.clone()}</option> }).collect_view()}
                                </select>
                                <FieldMessage error=add_error field="owner" />
                            </div>
                            <div class="field">
                                <label for="item-due">"Due"</label>
                                <input id="item-due" name="due" type="date" />
                                <FieldMessage error=add_error field="due" />
                            </div>
                        </div>
                        <div class="field">
                            <label for="item-verification">"How we will know it worked"</label>
                            <input id="item-verification" name="verification" maxlength="500" placeholder="An alert fires in a drill; a test fails on the old code" />
                            <FieldMessage error=add_error field="verification" />
                        </div>
                        <label class="check"><input type="checkbox" name="top" value="on" />" Top item (at most five)"</label>
                        <FormMessage error=add_error />
                        <button type="submit" class="button-primary" disabled=move || add.pending().get()>"Add the item"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
    .into_any()
}

/// The pre-publish lint as a checklist, and the status steps.
#[component]
fn Checklist(
    view: PostmortemView,
    review: ServerAction<SendForReview>,
    publish: ServerAction<PublishPostmortem>,
    failing: Signal<Vec<crate::domain::postmortems::Check>>,
    draft: SummaryDraft,
) -> AnyView {
    let number = view.number;
    let version = view.version;
    let status = view.status;
    let steward = view.can_steward;
    let publish_now = move |confirm: bool| {
        publish.dispatch(PublishPostmortem {
            number,
            version,
            confirm,
        });
    };
    view! {
        <section class="panel pm-checklist" aria-labelledby="pm-check-heading">
            <h2 id="pm-check-heading">"Before publishing"</h2>
            <ul class="pm-checks" data-testid="pm-checks">
                {view.checks.iter().map(|c| view! {
                    <li class=if c.passed { "check-pass" } else { "check-fail" }>
                        <span class="check-mark" aria-hidden="true">{if c.passed { "✓" } else { "!" }}</span>
                        <span>
                            <strong>{c.rule.label()}</strong>
                            {(!c.passed).then(|| view! { <span class="check-detail">{c.detail.clone()}</span> })}
                        </span>
                    </li>
                }).collect_view()}
            </ul>
            {match status {
                PostmortemStatus::Published => view! {
                    <p class="pm-published">
                        {format!("Published by {} on {}.", view.published_by.clone().unwrap_or_default(), view.published_at.map(stamp).unwrap_or_default())}
                    </p>
                    {(!view.overridden.is_empty()).then(|| view! {
                        <p class="hint">{format!("Published past: {}.", view.overridden.join("; "))}</p>
                    })}
                    <PublicSummary number summaries=view.public_summaries.clone() steward draft />
                }.into_any(),
                _ if steward => view! {
                    <div class="pm-steps">
                        {if status == PostmortemStatus::Draft {
                            view! {
                                <ActionForm action=review attr:class="inline-form">
                                    <input type="hidden" name="number" value=number />
                                    <input type="hidden" name="in_review" value="true" />
                                    <button type="submit" class="button-secondary">"Send for review"</button>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! {
                                <ActionForm action=review attr:class="inline-form">
                                    <input type="hidden" name="number" value=number />
                                    <input type="hidden" name="in_review" value="false" />
                                    <button type="submit" class="button-quiet">"Back to draft"</button>
                                </ActionForm>
                            }.into_any()
                        }}
                        <button type="button" class="button-primary" on:click=move |_| publish_now(false)>"Publish"</button>
                    </div>
                    {move || {
                        let failing = failing.get();
                        (!failing.is_empty()).then(|| view! {
                            <div class="notice-warn" role="alert" data-testid="pm-override">
                                <p><strong>"Not published."</strong>" These checks fail:"</p>
                                <ul>{failing.iter().map(|c| view! { <li>{c.rule.label()}</li> }).collect_view()}</ul>
                                <p>"Fix them, or publish anyway; the override is recorded with the postmortem."</p>
                                <button type="button" class="button-danger" on:click=move |_| publish_now(true)>"Publish anyway"</button>
                            </div>
                        })
                    }}
                }.into_any(),
                _ => view! { <p class="hint">"The incident's commander or an admin sends it for review and publishes it."</p> }.into_any(),
            }}
        </section>
    }
    .into_any()
}

/// The customer-facing summary of a published postmortem: what the status
/// page says once it is published, and, for the IC or an admin, the form to
/// publish one (checked by the same guard as customer-facing updates).
#[component]
fn PublicSummary(
    number: i64,
    summaries: Vec<(DateTime<Utc>, String)>,
    steward: bool,
    draft: SummaryDraft,
) -> AnyView {
    let (publish, text) = (draft.action, draft.text);
    let warnings = move || match publish.value().get() {
        Some(Ok(PublishOutcome::NeedsConfirmation { warnings })) => warnings,
        _ => Vec::new(),
    };
    let error = Signal::derive(move || publish.value().get().and_then(Result::err));
    let send = move |confirm: bool| {
        publish.dispatch(PublishPostmortemSummary {
            number,
            text: text.get_untracked(),
            confirm,
        });
    };
    view! {
        <div class="pm-public" data-testid="pm-public-summary">
            <h3>"On the status page"</h3>
            {summaries.is_empty().then(|| view! { <p class="hint">"No public summary yet. Customers see the incident's updates only."</p> })}
            {summaries.into_iter().map(|(at, body)| view! {
                <blockquote class="pm-public-text">
                    <p class="hint">{format!("Published {}", stamp(at))}</p>
                    <p>{body}</p>
                </blockquote>
            }).collect_view()}
            {steward.then(|| view! {
                <label for="pm-public-text">"Summary for customers"</label>
                <textarea id="pm-public-text" rows="5" maxlength="4000"
                    placeholder="What happened, how it affected you, and what we are changing so it does not happen again."
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <FieldMessage error field="text" />
                <FormMessage error />
                {move || {
                    let warnings = warnings();
                    (!warnings.is_empty()).then(|| view! {
                        <div class="notice-warn" role="alert">
                            <p><strong>"Not published."</strong>" Customers would read:"</p>
                            <ul>{warnings.iter().map(|w| view! { <li>{w.message.clone()}</li> }).collect_view()}</ul>
                            <button type="button" class="button-danger" on:click=move |_| send(true)>"Publish anyway"</button>
                        </div>
                    })
                }}
                <button type="button" class="button-primary" on:click=move |_| send(false)>"Publish on the status page"</button>
            })}
        </div>
    }
    .into_any()
}

/// One step of the review meeting: a timeline line, then each action item.
#[derive(Clone)]
enum Stop {
    Line(usize),
    Item(usize),
    Wrap,
}

/// The review meeting: one presenter screen walking the timeline, then the
/// action items (confirming each owner and due date), then who attended.
#[component]
pub fn PostmortemReviewPage() -> impl IntoView {
    let number = use_incident_number();
    let live = use_live();
    let changes = live.for_incident(number);
    let confirm = ServerAction::<ConfirmActionItem>::new();
    let edit = ServerAction::<ReassignActionItem>::new();
    let meeting = ServerAction::<RecordMeeting>::new();
    let at = RwSignal::new(0usize);
    let doc = Resource::new(
        move || {
            (
                number(),
                changes.get(),
                confirm.version().get() + edit.version().get() + meeting.version().get(),
            )
        },
        |(number, _, _)| get_postmortem(number),
    );
    let error = Signal::derive(move || {
        confirm
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| meeting.value().get().and_then(Result::err))
    });
    let edit_error = Signal::derive(move || edit.value().get().and_then(Result::err));
    let meeting_error = Signal::derive(move || meeting.value().get().and_then(Result::err));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Opening the review…"</p> }>
            {move || Suspend::new(async move {
                let view = match doc.await {
                    Ok(PostmortemScreen::Document(view)) => *view,
                    Ok(PostmortemScreen::NotStarted { .. }) => {
                        return view! { <p class="notice">"Start the postmortem before reviewing it."</p> }.into_any();
                    }
                    Err(e) => return view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                };
                let lines: Vec<_> = view.lines.iter().filter(|l| !l.excluded).cloned().collect();
                let stops: Vec<Stop> = (0..lines.len())
                    .map(Stop::Line)
                    .chain((0..view.items.len()).map(Stop::Item))
                    .chain([Stop::Wrap])
                    .collect();
                let total = stops.len();
                let lines = StoredValue::new(lines);
                let items = StoredValue::new(view.items.clone());
                let stops = StoredValue::new(stops);
                let people = StoredValue::new(view.people.clone());
                let n = view.number;
                let attendees = StoredValue::new(view.attendees.clone());
                let meeting_at = view.meeting_at;
                let current = move || at.get().min(total - 1);
                view! {
                    <Title text=format!("Review · {}", display_number(n)) />
                    <div class="review" data-testid="review">
                        <header class="pm-header">
                            <div class="war-title">
                                <a class="war-number" href=format!("/incidents/{n}/postmortem")>{display_number(n)}</a>
                                <h1>"Review meeting"</h1>
                            </div>
                            <p class="hint" role="status">{move || format!("Step {} of {}", current() + 1, total)}</p>
                        </header>
                        <FormMessage error />
                        <section class="panel review-stage">
                            {move || match stops.with_value(|s| s[current()].clone()) {
                                Stop::Line(i) => {
                                    let line = lines.with_value(|l| l[i].clone());
                                    view! {
                                        <p class="review-kicker">{format!("Timeline · {} of {}", i + 1, lines.with_value(Vec::len))}</p>
                                        <p class="review-time">{stamp(line.at)}</p>
                                        <p class="review-text">{line.body}</p>
                                    }.into_any()
                                }
                                Stop::Item(i) => {
                                    let item = items.with_value(|l| l[i].clone());
                                    let confirmed = item.confirmed_at.is_some();
                                    view! {
                                        <p class="review-kicker">{format!("Action item · {} of {}", i + 1, items.with_value(Vec::len))}</p>
                                        <p class="review-text">{item.title.clone()}</p>
                                        <dl class="review-facts">
                                            <div><dt>"Kind"</dt><dd>{item.kind.label()}</dd></div>
                                            <div><dt>"Owner"</dt><dd>{item.owner_name.clone().unwrap_or_else(|| "nobody yet".to_owned())}</dd></div>
                                            <div><dt>"Due"</dt><dd>{item.due.map(|d| d.to_string()).unwrap_or_else(|| "no date yet".to_owned())}</dd></div>
                                            <div><dt>"How we will verify"</dt><dd>{item.verification.clone()}</dd></div>
                                        </dl>
                                        {if confirmed {
                                            view! { <p class="review-confirmed">"✓ Owner and due date confirmed"</p> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=confirm attr:class="inline-form">
                                                    <input type="hidden" name="item" value=item.id />
                                                    <input type="hidden" name="version" value=item.version />
                                                    <button type="submit" class="button-primary">"Confirm owner and due date"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                        <details class="review-change">
                                            <summary>"Change owner or due date"</summary>
                                            <ActionForm action=edit attr:class="item-form">
                                                <input type="hidden" name="item" value=item.id />
                                                <input type="hidden" name="version" value=item.version />
                                                {item.top.then(|| view! { <input type="hidden" name="top" value="on" /> })}
                                                <div class="item-form-row">
                                                    <div class="field">
                                                        <label for="review-owner">"Owner"</label>
                                                        <select id="review-owner" name="owner">
                                                            <option value="">"Nobody yet"</option>
                                                            {people.with_value(|p| p.iter().map(|(id, name)| view! {
                                                                <option value=*id selected=item.owner_id == Some(*id)>{name.clone()}</option>
                                                            }).collect_view())}
                                                        </select>
                                                        <FieldMessage error=edit_error field="owner" />
                                                    </div>
                                                    <div class="field">
                                                        <label for="review-due">"Due"</label>
                                                        <input id="review-due" name="due" type="date" value=item.due.map(|d| d.to_string()).unwrap_or_default() />
                                                        <FieldMessage error=edit_error field="due" />
                                                    </div>
                                                </div>
                                                <FormMessage error=edit_error />
                                                <button type="submit" class="button-secondary">"Save"</button>
                                            </ActionForm>
                                        </details>
                                    }.into_any()
                                }
                                Stop::Wrap => view! {
                                    <p class="review-kicker">"Wrap up"</p>
                                    <p class="review-text">"Who attended?"</p>
                                    <ActionForm action=meeting attr:class="item-form">
                                        <input type="hidden" name="number" value=n />
                                        <div class="field">
                                            <label for="meeting-at">{move || in_zone(|z| format!("Held at ({})", z.name))}</label>
                                            <input id="meeting-at" name="held_at" type="datetime-local" value=in_zone(|z| z.to_input(Utc::now())) />
                                            <FieldMessage error=meeting_error field="held_at" />
                                        </div>
                                        <div class="field">
                                            <label for="meeting-attendees">"Attendees"</label>
                                            <input id="meeting-attendees" name="attendees" maxlength="1000" value=attendees.get_value() placeholder="Ivy, Otto, Ada" />
                                            <FieldMessage error=meeting_error field="attendees" />
                                        </div>
                                        <button type="submit" class="button-primary">"Record the meeting"</button>
                                    </ActionForm>
                                    {meeting_at.map(|t| view! { <p class="review-confirmed">{format!("✓ Recorded: {} with {}", stamp(t), attendees.get_value())}</p> })}
                                }.into_any(),
                            }}
                        </section>
                        <div class="review-nav">
                            <button type="button" class="button-secondary" disabled=move || { current() == 0 }
                                on:click=move |_| at.update(|a| *a = a.saturating_sub(1))>"← Previous"</button>
                            <button type="button" class="button-primary" disabled=move || { current() + 1 >= total }
                                on:click=move |_| at.update(|a| *a = (*a + 1).min(total - 1))>"Next →"</button>
                        </div>
                    </div>
                }
                    .into_any()
            })}
        </Transition>
    }
}
