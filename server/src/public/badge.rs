//! A small SVG badge per component for READMEs and wikis: its name, and its
//! uptime over the history window in the colour of its status now.

use super::page::esc;
use app::domain::status::ComponentStatus;
use app::domain::uptime::{overall_basis_points, percent_label, DayUptime};
use app::store::status::Component;

/// Rough width of `text` at 11 px in a sans-serif face.
fn width(text: &str) -> usize {
    text.chars().count() * 7 + 12
}

fn colour(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "#2f7d4f",
        ComponentStatus::DegradedPerformance => "#a86b00",
        ComponentStatus::PartialOutage => "#c2410c",
        ComponentStatus::MajorOutage => "#b42318",
        ComponentStatus::UnderMaintenance => "#2563a6",
    }
}

/// The badge: "<name> | 99.95 %" (or the status when it is not operational).
pub fn svg(component: &Component, days: &[DayUptime]) -> String {
    let label: String = component.name.chars().take(40).collect();
    let value = if component.status == ComponentStatus::Operational {
        percent_label(overall_basis_points(days))
    } else {
        component.status.label().to_lowercase()
    };
    let (left, right) = (width(&label), width(&value));
    let total = left + right;
    let title = format!("{label}: {value} ({} days uptime)", days.len());
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" aria-label=\"{title}\">\
         <title>{title}</title>\
         <rect width=\"{left}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{left}\" width=\"{right}\" height=\"20\" fill=\"{fill}\"/>\
         <g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\" text-anchor=\"middle\">\
         <text x=\"{lx}\" y=\"14\">{label}</text><text x=\"{rx}\" y=\"14\">{value}</text></g></svg>",
        title = esc(&title),
        label = esc(&label),
        value = esc(&value),
        fill = colour(component.status),
        lx = left / 2,
        rx = left + right / 2,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str, status: ComponentStatus) -> Component {
        Component {
            id: 1,
            name: name.to_owned(),
            group_name: String::new(),
            description: String::new(),
            position: 1,
            status,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn day(operational: i64, observed: i64) -> DayUptime {
        DayUptime {
            date: chrono::NaiveDate::MIN,
            worst: Some(ComponentStatus::Operational),
            operational_ms: operational,
            observed_ms: observed,
            maintenance_ms: 0,
        }
    }

    #[test]
    fn an_operational_badge_shows_the_uptime_and_a_troubled_one_its_status() {
        let days = [day(86_400, 86_400), day(86_000, 86_400)];
        let up = svg(
            &component("Payments API", ComponentStatus::Operational),
            &days,
        );
        assert!(up.contains(">99.76 %<"), "{up}");
        assert!(up.contains("#2f7d4f"));
        let down = svg(
            &component("Payments API", ComponentStatus::MajorOutage),
            &days,
        );
        assert!(down.contains(">major outage<"), "{down}");
        assert!(down.contains("#b42318"));
    }

    #[test]
    fn a_component_name_cannot_break_out_of_the_svg() {
        let badge = svg(
            &component(
                "<script>alert(1)</script> & \"x\"",
                ComponentStatus::Operational,
            ),
            &[],
        );
        assert!(!badge.contains("<script>"));
        assert!(badge.contains("&lt;script&gt;"));
        assert!(badge.contains(">no data<"));
    }
}
