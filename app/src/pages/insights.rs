//! Insights for a chosen period: incidents by severity, response times,
//! update punctuality and how action items stand, as SVG bars with the numbers beside them.

use crate::api::postmortems::{get_insights, InsightsView, TimeRow};
use crate::components::FieldMessage;
use crate::domain::rhythm::duration_text;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Horizontal bars, each labelled with its value; drawn on the server as SVG.
#[component]
fn Bars(title: &'static str, rows: Vec<(String, f64, String)>) -> impl IntoView {
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1.0);
    let height = rows.len() * 30 + 6;
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 340 {height}") role="img" aria-label=title preserveAspectRatio="xMinYMin meet">
                {rows.into_iter().enumerate().map(|(i, (label, value, text))| {
                    let y = i * 30 + 4;
                    let width = (value / max * 120.0).max(if value > 0.0 { 2.0 } else { 0.0 });
                    view! {
                        <text x="0" y=y + 17 class="chart-label">{label}</text>
                        <rect x="130" y=y width=format!("{width:.1}") height="22" rx="3" class="chart-bar"></rect>
                        <text x=format!("{:.1}", 136.0 + width) y=y + 17 class="chart-value">{text}</text>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

fn minutes(m: Option<i64>) -> String {
    m.map_or_else(|| "—".to_owned(), duration_text)
}

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let period = move || {
        let q = query.read();
        (
            q.get("from").unwrap_or_default(),
            q.get("to").unwrap_or_default(),
        )
    };
    let insights = Resource::new(period, |(from, to)| get_insights(from, to));
    view! {
        <Title text="Insights" />
        <h1>"Insights"</h1>
        <Transition fallback=|| view! { <p class="loading">"Counting…"</p> }>
            {move || Suspend::new(async move {
                let result = insights.await;
                let error = Signal::derive({
                    let e = result.as_ref().err().cloned();
                    move || e.clone()
                });
                let (from, to) = match &result {
                    Ok(v) => (v.from.to_string(), v.to.to_string()),
                    Err(_) => period(),
                };
                view! {
                    <form class="panel tracker-filters" method="get" action="/insights">
                        <div class="field">
                            <label for="i-from">"From"</label>
                            <input id="i-from" name="from" type="date" value=from />
                            <FieldMessage error field="from" />
                        </div>
                        <div class="field">
                            <label for="i-to">"To"</label>
                            <input id="i-to" name="to" type="date" value=to />
                            <FieldMessage error field="to" />
                        </div>
                        <button type="submit" class="button-secondary">"Show"</button>
                    </form>
                    {match result {
                        Ok(view) => charts(view),
                        Err(e) if e.for_form().is_some() => view! { <p class="notice notice-error">{e.to_string()}</p> }.into_any(),
                        Err(_) => ().into_any(),
                    }}
                }
                    .into_any()
            })}
        </Transition>
    }
}

fn charts(view: InsightsView) -> AnyView {
    let total: usize = view.by_severity.iter().map(|s| s.1).sum();
    let severity_rows = view
        .by_severity
        .iter()
        .map(|(s, n)| (s.label().to_owned(), *n as f64, n.to_string()))
        .collect();
    let time_rows = |pick: fn(&TimeRow) -> Option<i64>| {
        view.times
            .iter()
            .map(|t| {
                (
                    t.label.replace("Time to ", "To "),
                    pick(t).unwrap_or(0) as f64,
                    minutes(pick(t)),
                )
            })
            .collect::<Vec<_>>()
    };
    let median_rows = time_rows(|t| t.median);
    let p90_rows = time_rows(|t| t.p90);
    let items = view.items;
    let outstanding = view.items_total - items.finished;
    let item_rows = vec![
        (
            "Finished".to_owned(),
            items.finished as f64,
            items.finished.to_string(),
        ),
        (
            "Finished on time".to_owned(),
            items.on_time as f64,
            items.on_time.to_string(),
        ),
        (
            "Verified".to_owned(),
            items.verified as f64,
            items.verified.to_string(),
        ),
        (
            "Outstanding".to_owned(),
            outstanding as f64,
            outstanding.to_string(),
        ),
        (
            "Overdue".to_owned(),
            items.overdue as f64,
            items.overdue.to_string(),
        ),
    ];
    let punctual = view.punctuality.map(|p| (p * 100.0).round());
    view! {
        <p class="hint" data-testid="insights-period">
            {format!("Incidents declared {} to {}: {total}.", view.from, view.to)}
        </p>
        <div class="insights">
            <section class="panel">
                <Bars title="Incidents by severity" rows=severity_rows />
            </section>
            <section class="panel">
                <Bars title="Median response times" rows=median_rows />
                <Bars title="90th percentile" rows=p90_rows />
                <p class="hint">
                    {format!(
                        "Incidents counted: {}.",
                        view.times.iter().map(|t| format!("{} {}", t.label.replace("Time to ", "").to_lowercase(), t.count)).collect::<Vec<_>>().join(" · ")
                    )}
                </p>
            </section>
            <section class="panel">
                <h2>"Update punctuality"</h2>
                <p class="big-figure" data-testid="punctuality">
                    {match punctual {
                        Some(p) => format!("{p:.0} %"),
                        None => "—".to_owned(),
                    }}
                </p>
                <p class="hint">
                    {format!("Share of {} follow-up stakeholder update(s) published by the time the previous one promised.", view.updates_counted)}
                </p>
            </section>
            <section class="panel">
                <Bars title="Action items" rows=item_rows />
                <p class="hint">{format!("{} item(s) from this period's incidents.", view.items_total)}</p>
            </section>
        </div>
    }
    .into_any()
}
