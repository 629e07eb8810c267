//! Small pieces shown wherever incidents appear: severity and status badges, times.

use crate::api::zones::Zone;
use crate::domain::incidents::{IncidentStatus, Severity};
use crate::domain::zones::ZoneRules;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use leptos::prelude::*;

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! {
        <span class=format!("badge badge-{}", severity.as_str()) data-testid="severity">
            {severity.label()}
        </span>
    }
}

#[component]
pub fn StatusBadge(status: IncidentStatus) -> impl IntoView {
    view! {
        <span class=format!("badge status-{}", status.as_str()) data-testid="status">
            {status.label()}
        </span>
    }
}

// Times are written by hand, not with chrono's `format`: its strftime
// machinery would otherwise ride in the war room's bundle for three patterns.
// They are shown in the reader's zone (`api::zones::Zone`), and reading it
// makes the view around them follow when the reader picks another.

/// Runs `show` with the zone this page shows times in (UTC outside the app).
pub fn in_zone<T>(show: impl FnOnce(&ZoneRules) -> T) -> T {
    match use_context::<Zone>() {
        Some(Zone(zone)) => zone.with(show),
        None => show(&ZoneRules::utc()),
    }
}

/// "14:05 CET", in the reader's zone.
pub fn clock(at: DateTime<Utc>) -> String {
    in_zone(|z| z.clock(at))
}

/// "14:05:09", in the reader's zone; the list's heading names it ([`ZoneNote`]).
pub fn clock_seconds(at: DateTime<Utc>) -> String {
    in_zone(|z| z.clock_seconds(at))
}

/// "2026-12-04 14:05 CET", in the reader's zone.
pub fn stamp(at: DateTime<Utc>) -> String {
    in_zone(|z| z.stamp(at))
}

/// "times in Europe/Berlin", beside the heading of a list of bare times.
#[component]
pub fn ZoneNote() -> impl IntoView {
    view! { <span class="zone-note">{move || format!("times in {}", in_zone(|z| z.name.clone()))}</span> }
}

/// "Fri 4 Dec".
pub fn day(on: NaiveDate) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {}",
        DAYS[on.weekday().num_days_from_monday() as usize],
        on.day(),
        MONTHS[on.month0() as usize]
    )
}

/// The current time, ticking every second in the browser (fixed on the server).
pub fn use_now() -> ReadSignal<DateTime<Utc>> {
    let (now, set_now) = signal(Utc::now());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_now.set(Utc::now()),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = set_now;
    now
}

/// The incident number in the current route (`/incidents/:number/...`); 0 when absent.
pub fn use_incident_number() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        params
            .read()
            .get("number")
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_times_match_chronos_patterns() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T07:05:09Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        assert_eq!(clock(at), at.format("%H:%M UTC").to_string());
        assert_eq!(clock_seconds(at), at.format("%H:%M:%S").to_string());
        assert_eq!(stamp(at), at.format("%Y-%m-%d %H:%M UTC").to_string());
        for offset in 0..14 {
            let on = at.date_naive() + chrono::Duration::days(offset * 29);
            assert_eq!(day(on), on.format("%a %-d %b").to_string());
        }
    }
}
