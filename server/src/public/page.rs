//! The public status page as one small HTML document: no script, inline style,
//! readable on a phone. Everything shown comes from customer-facing updates.

use super::PublicSettings;
use app::domain::status::{public_status_label, ComponentStatus, Impact, MaintenanceState};
use app::domain::uptime::{overall_basis_points, percent_label, DayUptime};
use app::domain::zones::ZoneRules;
use app::store::status::{Maintenance, PublicIncident, PublicSnapshot, HISTORY_DAYS};
use chrono::{DateTime, Utc};
use std::fmt::Write;

/// Escapes text for HTML element content and quoted attributes.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "4 Dec 2026, 14:05 UTC" in `zone`, with the instant in `datetime`.
fn when(at: DateTime<Utc>, zone: &ZoneRules) -> String {
    format!(
        "<time datetime=\"{}\">{}, {}</time>",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        zone.local(at).format("%-d %b %Y"),
        zone.clock(at)
    )
}

/// Update text with its line breaks kept.
fn body(text: &str) -> String {
    esc(text).replace('\n', "<br>")
}

pub(crate) const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2933;background:#f6f7f9}\
main{max-width:46rem;margin:0 auto;padding:1.25rem 1rem 3rem}h1{font-size:1.5rem;margin:.5rem 0 1rem}\
h2{font-size:1.1rem;margin:2rem 0 .6rem}h3{font-size:1rem;margin:0 0 .3rem}\
.overall{border-radius:8px;padding:1rem 1.1rem;color:#fff;font-weight:600;font-size:1.15rem}\
.overall p{margin:0}.overall .asof{font-weight:400;font-size:.85rem;opacity:.9}\
.ind-none{background:#2f7d4f}.ind-minor{background:#a86b00}.ind-major{background:#c2410c}.ind-critical{background:#b42318}.ind-maintenance{background:#2563a6}\
.card{background:#fff;border:1px solid #e1e5ea;border-radius:8px;padding:1rem 1.1rem;margin:.75rem 0}\
.card ol{list-style:none;margin:.5rem 0 0;padding:0}.card li{border-top:1px solid #eef0f3;padding:.6rem 0}\
.card li:first-child{border-top:0}.meta{color:#5b6673;font-size:.88rem}.st{font-size:.9rem;white-space:nowrap}\
.components{list-style:none;margin:0;padding:0;background:#fff;border:1px solid #e1e5ea;border-radius:8px}\
.components li{display:flex;justify-content:space-between;gap:1rem;padding:.65rem 1rem;border-top:1px solid #eef0f3}\
.components li:first-child{border-top:0}.components .group{background:#f6f7f9;font-weight:600}\
.s-operational{color:#2f7d4f}.s-degraded_performance{color:#a86b00}.s-partial_outage{color:#c2410c}\
.s-major_outage{color:#b42318;font-weight:600}.s-under_maintenance{color:#2563a6}\
.uptime{display:flex;flex-direction:column;gap:.25rem;padding-top:0!important;border-top:0!important}\
.bars{display:flex;gap:1px;height:1.6rem}.bars span{flex:1;border-radius:1px;background:#d5dae0}\
.bars .d-operational{background:#2f7d4f}.bars .d-degraded_performance{background:#d4a017}.bars .d-partial_outage{background:#c2410c}\
.bars .d-major_outage{background:#b42318}.bars .d-under_maintenance{background:#2563a6}\
.axis{display:flex;justify-content:space-between;gap:.5rem;color:#5b6673;font-size:.78rem;white-space:nowrap}.narrow{display:none}\
@media (max-width:40rem){.bars span:nth-child(-n+60){display:none}.wide{display:none}.narrow{display:inline}}\
.subscribe form,.card form{display:flex;flex-direction:column;gap:.6rem}.subscribe h2{margin-top:0}\
label[for=subscribe-email],label[for=tz]{font-weight:600}legend{padding:0 .3rem;color:#5b6673;font-size:.92rem}\
input[type=email],input[type=text],select{font:inherit;background:inherit;color:inherit;padding:.5rem .6rem;border:1px solid #b8c0c8;border-radius:6px;max-width:24rem}\
fieldset{border:1px solid #e1e5ea;border-radius:6px;padding:.4rem .8rem}fieldset label{display:block;font-weight:400}\
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:0;background:#1d4ed8;color:#fff;cursor:pointer;align-self:flex-start}\
button.quiet{background:#e5e8eb;color:#1f2933}.error{color:#b42318;font-weight:600}.notice{color:#2f7d4f;font-weight:600}\
details summary{cursor:pointer}footer{margin-top:2.5rem;color:#5b6673;font-size:.88rem}a{color:#1d4ed8}\
@media (prefers-color-scheme:dark){body{background:#111418;color:#e5e8eb}.card,.components{background:#1a1e23;border-color:#2c323a}\
.card li,.components li{border-color:#2c323a}.bars span{background:#3a414a}.axis{color:#9aa4ae}.components .group{background:#15191d}.meta,footer{color:#9aa4ae}a{color:#8ab4f8}}";

/// One bar per UTC day, oldest first, each saying its figures in a tooltip;
/// a phone shows the last 30.
fn uptime_bars(days: &[DayUptime]) -> String {
    let mut out = String::with_capacity(days.len() * 96 + 256);
    let overall = percent_label(overall_basis_points(days));
    let _ = write!(
        out,
        "<li class=\"uptime\"><div class=\"bars\" role=\"img\" aria-label=\"{overall} fully operational over {} days\">",
        days.len()
    );
    for d in days {
        let class = d.worst.map_or("none", ComponentStatus::as_str);
        let mut title = format!("{}: ", d.date.format("%-d %b %Y"));
        match d.worst {
            None => title.push_str("no data"),
            Some(worst) => {
                if d.observed_ms > 0 {
                    let _ = write!(title, "{} operational", percent_label(d.basis_points()));
                    if worst != ComponentStatus::Operational {
                        let _ = write!(title, " · worst: {}", worst.label());
                    }
                }
                if d.maintenance_ms > 0 {
                    if d.observed_ms > 0 {
                        title.push_str(" · ");
                    }
                    let _ = write!(title, "{} min maintenance", d.maintenance_ms / 60_000);
                }
            }
        }
        let _ = write!(
            out,
            "<span class=\"d-{class}\" title=\"{}\"></span>",
            esc(&title)
        );
    }
    let _ = write!(
        out,
        "</div><div class=\"axis\"><span><span class=\"wide\">{} days ago</span><span class=\"narrow\">30 days ago</span></span>\
         <span>{overall} uptime, {} days</span><span>Today</span></div></li>",
        days.len(),
        days.len()
    );
    out
}

fn incident_card(incident: &PublicIncident, open: bool, zone: &ZoneRules) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<article class=\"card\" id=\"incident-{}\"><h3>{}</h3><p class=\"meta\">{} · {} impact</p>",
        incident.number,
        esc(&incident.name),
        public_status_label(&incident.status),
        Impact::of(incident.severity).as_str()
    );
    if !open {
        out.push_str("<details><summary>Updates</summary>");
    }
    out.push_str("<ol>");
    for u in &incident.updates {
        let _ = write!(
            out,
            "<li id=\"update-{}\"><strong>{}</strong> <span class=\"meta\">{}</span><br>{}</li>",
            u.id,
            public_status_label(&u.status),
            when(u.at, zone),
            body(&u.body)
        );
    }
    out.push_str("</ol>");
    if !open {
        out.push_str("</details>");
    }
    out.push_str("</article>");
    out
}

fn maintenance_card(m: &Maintenance, state: MaintenanceState, zone: &ZoneRules) -> String {
    format!(
        "<article class=\"card\" id=\"maintenance-{}\"><h3>{}</h3><p class=\"meta\">{} · {} to {}</p>{}</article>",
        m.id,
        esc(&m.title),
        public_status_label(state.as_str()),
        when(m.starts_at, zone),
        when(m.ends_at, zone),
        if m.description.is_empty() { String::new() } else { format!("<p>{}</p>", body(&m.description)) }
    )
}

/// A small page in the status page's style (the subscription screens).
pub(super) fn document(page_title: &str, heading: &str, inner: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"same-origin\">\
         <title>{heading} · {title}</title><style>{STYLE}</style></head><body><main>\
         <p class=\"meta\"><a href=\"/status\">{title}</a></p><h1>{heading}</h1>{inner}</main></body></html>",
        title = esc(page_title),
        heading = esc(heading),
    )
}

/// The sign-up form: an address, and the components to follow (none ticked:
/// everything). `error` is shown at the address field.
pub(super) fn subscribe_form(
    components: &[(i64, String)],
    email: &str,
    error: Option<&str>,
) -> String {
    let mut out = String::from(
        "<section class=\"card subscribe\" id=\"subscribe\"><h2>Get updates by e-mail</h2>\
         <form method=\"post\" action=\"/status/subscribe\">\
         <label for=\"subscribe-email\">E-mail address</label>",
    );
    let _ = write!(
        out,
        "<input id=\"subscribe-email\" name=\"email\" type=\"email\" required maxlength=\"254\" \
         autocomplete=\"email\" value=\"{}\"{}>",
        esc(email),
        if error.is_some() {
            " aria-invalid=\"true\" aria-describedby=\"subscribe-error\""
        } else {
            ""
        }
    );
    if let Some(error) = error {
        let _ = write!(
            out,
            "<p class=\"error\" id=\"subscribe-error\">{}</p>",
            esc(error)
        );
    }
    if !components.is_empty() {
        out.push_str("<fieldset><legend>Components (leave all unticked for everything)</legend>");
        for (id, name) in components {
            let _ = write!(
                out,
                "<label><input type=\"checkbox\" name=\"component\" value=\"{id}\"> {}</label>",
                esc(name)
            );
        }
        out.push_str("</fieldset>");
    }
    out.push_str(
        "<button type=\"submit\">Subscribe</button>\
         <p class=\"meta\">We send a confirmation first; nothing else arrives until you follow its link. Every mail has a one-click unsubscribe.</p>\
         </form></section>",
    );
    out
}

/// The status page with its times in `zone` (UTC unless the reader chose).
pub fn render(snapshot: &PublicSnapshot, settings: &PublicSettings, zone: &ZoneRules) -> String {
    let now = snapshot.taken_at;
    let indicator = snapshot.indicator();
    let title = esc(&settings.title);
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <link rel=\"alternate\" type=\"application/atom+xml\" title=\"{title} history (Atom)\" href=\"/status/history.atom\">\
         <link rel=\"alternate\" type=\"application/rss+xml\" title=\"{title} history (RSS)\" href=\"/status/history.rss\">\
         <style>{STYLE}</style></head><body><main><h1>{title}</h1>\
         <section class=\"overall ind-{}\" data-testid=\"overall\"><p>{}</p><p class=\"asof\">As of {}</p></section>",
        indicator.as_str(),
        indicator.description(),
        when(now, zone)
    );

    let active: Vec<&PublicIncident> = snapshot
        .incidents
        .iter()
        .filter(|i| i.is_unresolved())
        .collect();
    if !active.is_empty() {
        out.push_str("<h2>Current incidents</h2>");
        for incident in active {
            out.push_str(&incident_card(incident, true, zone));
        }
    }
    let running: Vec<&Maintenance> = snapshot
        .maintenances
        .iter()
        .filter(|m| m.state(now) != MaintenanceState::Completed)
        .collect();
    if !running.is_empty() {
        out.push_str("<h2>Maintenance</h2>");
        for m in running {
            out.push_str(&maintenance_card(m, m.state(now), zone));
        }
    }

    if !snapshot.components.is_empty() {
        out.push_str("<h2>Components</h2><ul class=\"components\">");
        let mut group = "";
        for c in &snapshot.components {
            if c.group_name != group && !c.group_name.is_empty() {
                let _ = write!(out, "<li class=\"group\">{}</li>", esc(&c.group_name));
            }
            group = &c.group_name;
            let _ = write!(
                out,
                "<li><span>{}</span><span class=\"st s-{}\">{}</span></li>",
                esc(&c.name),
                c.status.as_str(),
                c.status.label()
            );
            out.push_str(&uptime_bars(snapshot.uptime_of(c.id)));
        }
        out.push_str("</ul>");
    }

    let _ = write!(out, "<h2>Past {HISTORY_DAYS} days</h2>");
    let past: Vec<&PublicIncident> = snapshot
        .incidents
        .iter()
        .filter(|i| !i.is_unresolved())
        .collect();
    if past.is_empty() {
        out.push_str("<p class=\"meta\">No incidents in this period.</p>");
    }
    for incident in past {
        out.push_str(&incident_card(incident, false, zone));
    }
    for m in snapshot
        .maintenances
        .iter()
        .filter(|m| m.state(now) == MaintenanceState::Completed)
    {
        out.push_str(&maintenance_card(m, MaintenanceState::Completed, zone));
    }
    if settings.subscriptions {
        let components: Vec<(i64, String)> = snapshot
            .components
            .iter()
            .map(|c| (c.id, c.name.clone()))
            .collect();
        out.push_str(&subscribe_form(&components, "", None));
    }
    let zone_note = if zone.is_utc() && zone.name == "UTC" {
        "Times are in UTC. <a href=\"/status/zone\">Show them in your time zone</a>".to_owned()
    } else {
        format!(
            "Times are in {}. <a href=\"/status\">Back to UTC</a> · <a href=\"/status/zone\">Another zone</a>",
            esc(&zone.describe(now))
        )
    };
    let _ = write!(
        out,
        "<footer><p data-testid=\"zone\">{zone_note}</p><p>Follow this page: <a href=\"/status/history.atom\">Atom</a> · \
         <a href=\"/status/history.rss\">RSS</a> · <a href=\"/api/v2/summary.json\">JSON</a></p></footer>\
         </main></body></html>",
    );
    out
}

/// The script-free zone picker: a plain form that asks for `/status?tz=…`.
pub(super) fn zone_picker(page_title: &str, names: &[String]) -> String {
    let mut inner = String::from(
        "<section class=\"card\"><form method=\"get\" action=\"/status\">\
         <label for=\"tz\">Time zone</label><select id=\"tz\" name=\"tz\">",
    );
    for name in names {
        let _ = write!(
            inner,
            "<option value=\"{}\">{}</option>",
            esc(name),
            esc(&name.replace('_', " "))
        );
    }
    inner.push_str(
        "</select><button type=\"submit\">Show the status page in this zone</button>\
         <p class=\"meta\">Nothing is stored: the zone is part of the page's address, so you can bookmark it.</p>\
         </form></section>",
    );
    document(page_title, "Show times in your zone", &inner)
}
