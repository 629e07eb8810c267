//! Small pieces shown wherever incidents appear: severity and status badges, times.

use crate::domain::incidents::{IncidentStatus, Severity};
use chrono::{DateTime, Utc};
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

/// "14:05 UTC".
pub fn clock(at: DateTime<Utc>) -> String {
    at.format("%H:%M UTC").to_string()
}

/// "14:05:09".
pub fn clock_seconds(at: DateTime<Utc>) -> String {
    at.format("%H:%M:%S").to_string()
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
