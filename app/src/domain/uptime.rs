//! Uptime per component and UTC day, derived from the recorded history of the
//! component's status and the maintenance windows that touched it. Time under
//! maintenance is shown apart and counts neither for nor against uptime.

use super::status::ComponentStatus;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// From `at` on, the component was `status` (until the next change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub status: ComponentStatus,
}

/// One UTC day of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayUptime {
    pub date: NaiveDate,
    /// The worst status it had outside maintenance (`UnderMaintenance` when
    /// maintenance was all there was); `None` before it existed.
    pub worst: Option<ComponentStatus>,
    /// Milliseconds fully operational, outside maintenance.
    pub operational_ms: i64,
    /// Milliseconds its status was known, outside maintenance.
    pub observed_ms: i64,
    /// Milliseconds under maintenance (a window, or a status set to it).
    pub maintenance_ms: i64,
}

impl DayUptime {
    /// Fully operational share of the observed time, in hundredths of a
    /// percent, rounded down (a day with any downtime never shows 100 %).
    pub fn basis_points(&self) -> Option<i64> {
        basis_points(self.operational_ms, self.observed_ms)
    }
}

fn basis_points(operational: i64, observed: i64) -> Option<i64> {
    (observed > 0).then(|| operational * 10_000 / observed)
}

/// The share over several days, as [`DayUptime::basis_points`].
pub fn overall_basis_points(days: &[DayUptime]) -> Option<i64> {
    let operational = days.iter().map(|d| d.operational_ms).sum();
    let observed = days.iter().map(|d| d.observed_ms).sum();
    basis_points(operational, observed)
}

/// "99.95 %" from basis points; "no data" without.
pub fn percent_label(basis_points: Option<i64>) -> String {
    match basis_points {
        Some(bp) => format!("{}.{:02} %", bp / 100, bp % 100),
        None => "no data".to_owned(),
    }
}

/// Sorted, non-overlapping copies of `windows` (start, end), empty ones dropped.
fn merged(windows: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut sorted: Vec<_> = windows.iter().copied().filter(|(s, e)| s < e).collect();
    sorted.sort();
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (start, end) in sorted {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// Milliseconds of `[start, end)` covered by the merged `windows`.
fn covered(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> i64 {
    windows
        .iter()
        .map(|(s, e)| {
            let from = start.max(*s);
            let to = end.min(*e);
            (to - from).num_milliseconds().max(0)
        })
        .sum()
}

/// The last `days` UTC days up to and including `now`'s, oldest first.
/// `changes` may come in any order; only the time up to `now` counts.
pub fn daily(
    changes: &[StatusChange],
    maintenances: &[(DateTime<Utc>, DateTime<Utc>)],
    days: u32,
    now: DateTime<Utc>,
) -> Vec<DayUptime> {
    let mut changes = changes.to_vec();
    changes.sort_by_key(|c| c.at);
    let windows = merged(maintenances);
    let today = now.date_naive();
    (0..i64::from(days))
        .rev()
        .map(|back| {
            let date = today - Duration::days(back);
            let day_start = date.and_time(chrono::NaiveTime::MIN).and_utc();
            let day_end = (day_start + Duration::days(1)).min(now);
            day(date, day_start, day_end, &changes, &windows)
        })
        .collect()
}

fn day(
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    changes: &[StatusChange],
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> DayUptime {
    let mut out = DayUptime {
        date,
        worst: None,
        operational_ms: 0,
        observed_ms: 0,
        maintenance_ms: 0,
    };
    let mut worst = ComponentStatus::Operational;
    for (i, change) in changes.iter().enumerate() {
        let until = changes.get(i + 1).map_or(end, |next| next.at);
        let from = change.at.max(start);
        let to = until.min(end);
        if from >= to {
            continue;
        }
        let length = (to - from).num_milliseconds();
        if change.status == ComponentStatus::UnderMaintenance {
            out.maintenance_ms += length;
            continue;
        }
        let in_window = covered(from, to, windows);
        out.maintenance_ms += in_window;
        let counted = length - in_window;
        if counted <= 0 {
            continue;
        }
        out.observed_ms += counted;
        if change.status == ComponentStatus::Operational {
            out.operational_ms += counted;
        } else {
            worst = worst.worst(change.status);
        }
    }
    out.worst = if out.observed_ms > 0 {
        Some(worst)
    } else if out.maintenance_ms > 0 {
        Some(ComponentStatus::UnderMaintenance)
    } else {
        None
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;

    const HOUR: i64 = 3_600_000;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn change(text: &str, status: ComponentStatus) -> StatusChange {
        StatusChange {
            at: at(text),
            status,
        }
    }

    #[test]
    fn a_day_without_trouble_is_one_hundred_percent_and_days_before_the_component_have_no_data() {
        let changes = [change("2026-12-01T12:00:00Z", Operational)];
        let days = daily(&changes, &[], 3, at("2026-12-02T18:00:00Z"));
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].date.to_string(), "2026-11-30");
        assert_eq!(days[0].worst, None);
        assert_eq!(days[0].basis_points(), None);
        assert_eq!(
            days[1].basis_points(),
            Some(10_000),
            "half a day, all of it up"
        );
        assert_eq!(days[1].observed_ms, 12 * HOUR);
        assert_eq!(days[2].observed_ms, 18 * HOUR, "today counts until now");
        assert_eq!(days[2].worst, Some(Operational));
    }

    #[test]
    fn an_outage_across_midnight_and_a_month_end_is_split_between_the_days() {
        let changes = [
            change("2026-11-01T00:00:00Z", Operational),
            change("2026-11-30T23:00:00Z", MajorOutage),
            change("2026-12-01T02:00:00Z", DegradedPerformance),
            change("2026-12-01T03:00:00Z", Operational),
        ];
        let days = daily(&changes, &[], 2, at("2026-12-01T23:59:59Z"));
        let nov30 = days[0];
        assert_eq!(nov30.date.to_string(), "2026-11-30");
        assert_eq!(nov30.worst, Some(MajorOutage));
        assert_eq!(nov30.operational_ms, 23 * HOUR);
        assert_eq!(
            nov30.basis_points(),
            Some(9583),
            "23 of 24 hours, rounded down"
        );
        let dec1 = days[1];
        assert_eq!(
            dec1.worst,
            Some(MajorOutage),
            "the worst of the day, not the last"
        );
        assert_eq!(dec1.observed_ms - dec1.operational_ms, 3 * HOUR);
    }

    #[test]
    fn maintenance_is_shown_apart_and_counts_neither_way() {
        let changes = [
            change("2026-11-01T00:00:00Z", Operational),
            // Down during the window only: planned work, not downtime.
            change("2026-12-01T10:00:00Z", MajorOutage),
            change("2026-12-01T11:00:00Z", Operational),
        ];
        let window = [(at("2026-12-01T10:00:00Z"), at("2026-12-01T11:00:00Z"))];
        let days = daily(&changes, &window, 1, at("2026-12-01T23:59:59Z"));
        let dec1 = days[0];
        assert_eq!(dec1.maintenance_ms, HOUR);
        assert_eq!(dec1.worst, Some(Operational));
        assert_eq!(dec1.basis_points(), Some(10_000));

        // A status set to maintenance by hand is maintenance too.
        let by_hand = [
            change("2026-11-01T00:00:00Z", Operational),
            change("2026-12-01T00:00:00Z", UnderMaintenance),
        ];
        let days = daily(&by_hand, &[], 1, at("2026-12-01T12:00:00Z"));
        assert_eq!(days[0].worst, Some(UnderMaintenance));
        assert_eq!(days[0].basis_points(), None);
        assert_eq!(days[0].maintenance_ms, 12 * HOUR);
    }

    #[test]
    fn overlapping_windows_are_not_counted_twice() {
        let changes = [change("2026-11-01T00:00:00Z", Operational)];
        let windows = [
            (at("2026-12-01T10:00:00Z"), at("2026-12-01T12:00:00Z")),
            (at("2026-12-01T11:00:00Z"), at("2026-12-01T13:00:00Z")),
        ];
        let days = daily(&changes, &windows, 1, at("2026-12-01T23:59:59Z"));
        assert_eq!(days[0].maintenance_ms, 3 * HOUR);
    }

    #[test]
    fn the_overall_share_weighs_days_by_their_observed_time() {
        let changes = [
            change("2026-11-29T00:00:00Z", Operational),
            change("2026-11-30T00:00:00Z", PartialOutage),
            change("2026-11-30T12:00:00Z", Operational),
        ];
        let days = daily(&changes, &[], 3, at("2026-12-02T00:00:00Z"));
        assert_eq!(
            overall_basis_points(&days),
            Some(7500),
            "12 of 48 hours down"
        );
        assert_eq!(percent_label(overall_basis_points(&days)), "75.00 %");
        assert_eq!(percent_label(Some(9995)), "99.95 %");
        assert_eq!(percent_label(None), "no data");
    }

    #[test]
    fn changes_given_out_of_order_read_the_same() {
        let mut changes = vec![
            change("2026-12-01T00:00:00Z", Operational),
            change("2026-12-01T06:00:00Z", PartialOutage),
            change("2026-12-01T12:00:00Z", Operational),
        ];
        let now = at("2026-12-01T23:59:59Z");
        let sorted = daily(&changes, &[], 1, now);
        changes.reverse();
        assert_eq!(daily(&changes, &[], 1, now), sorted);
    }
}
