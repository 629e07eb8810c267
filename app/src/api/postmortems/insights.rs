//! Insights across incidents and the private calendar link.

use super::*;

/// Median and p90 of one response time over a period, in minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRow {
    pub label: String,
    pub median: Option<i64>,
    pub p90: Option<i64>,
    /// How many incidents had both milestones.
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightsView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_severity: Vec<(Severity, usize)>,
    pub times: Vec<TimeRow>,
    /// Share of follow-up updates published by their due time, with the counts.
    pub punctuality: Option<f64>,
    pub updates_counted: usize,
    pub items: ItemFigures,
    pub items_total: usize,
}

/// Insights for incidents declared from `from` to `to` (inclusive, YYYY-MM-DD;
/// empty: the last 90 days).
#[server(endpoint = "get_insights")]
pub async fn get_insights(from: String, to: String) -> Result<InsightsView, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let today = Utc::now().date_naive();
        let date = |field: &'static str, raw: &str, default: NaiveDate| match raw.trim() {
            "" => Ok(default),
            raw => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .filter(|d| rules::plausible_date(*d))
                .ok_or_else(|| {
                    ApiError::invalid(field, "Give a date from 2000 to 2199 as YYYY-MM-DD.")
                }),
        };
        let to = date("to", &to, today)?;
        let from = date("from", &from, to - chrono::Duration::days(90))?;
        if from > to {
            return Err(ApiError::invalid(
                "from",
                "The period starts before it ends.",
            ));
        }
        let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
        let end = (to + chrono::Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let hidden = store::leadership::hidden_from(&state.db, &user).await?;
        let data = store::postmortems::insight_data(&state.db, start, end, &hidden).await?;
        let by_severity = Severity::ALL
            .into_iter()
            .map(|s| (s, data.incidents.iter().filter(|i| i.severity == s).count()))
            .collect();
        let all_times: Vec<rules::ResponseTimes> = data
            .incidents
            .iter()
            .map(|i| response_times(&i.milestones))
            .collect();
        let row = |label: &str, pick: fn(&rules::ResponseTimes) -> Option<chrono::Duration>| {
            let values: Vec<chrono::Duration> = all_times.iter().filter_map(pick).collect();
            let (median, p90) = rules::median_and_p90(&values);
            TimeRow {
                label: label.to_owned(),
                median: median.map(|d| d.num_minutes()),
                p90: p90.map(|d| d.num_minutes()),
                count: values.len(),
            }
        };
        let times = vec![
            row("Time to roles assigned", |t| t.to_roles),
            row("Time to first update", |t| t.to_first_update),
            row("Time to mitigate", |t| t.to_mitigate),
            row("Time to resolve", |t| t.to_resolve),
        ];
        let items: Vec<(rules::ActionItem, Option<NaiveDate>)> = data
            .items
            .iter()
            .map(|i| (i.rules(), i.finished_on))
            .collect();
        Ok(InsightsView {
            from,
            to,
            by_severity,
            times,
            punctuality: rules::punctuality(&data.updates),
            updates_counted: data.updates.len(),
            items: rules::item_figures(&items, today),
            items_total: items.len(),
        })
    })
    .await
}

/// The path of the caller's private calendar feed; `reset` makes a new one
/// so an old, shared link stops working.
#[server(endpoint = "get_calendar_link")]
pub async fn get_calendar_link(reset: bool) -> Result<String, ApiError> {
    respond(async move {
        let state = state()?;
        let user = require_writer(&state).await?;
        let fresh = || {
            use rand::Rng;
            let bytes: [u8; 24] = rand::rngs::OsRng.gen();
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let now = Utc::now();
        if reset {
            store::postmortems::reset_calendar_token(&state.db, user.id, fresh(), now).await?;
        }
        let token = store::postmortems::calendar_token(&state.db, user.id, fresh(), now).await?;
        Ok(format!("/calendar/{token}.ics"))
    })
    .await
}
