//! A person's time zone, as pages need it: the offsets in force over the
//! years incidents happen in, so the browser shows local times without a
//! copy of the time zone database. The server builds the rules from the
//! database (`lookup`, ssr only); both sides format with the same code, so
//! a page hydrates with exactly the text the server sent.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

/// The longest zone name accepted (the database's longest is 32).
pub const MAX_NAME: usize = 64;

/// The offset from UTC in force from `from` (Unix seconds) until the next span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span(pub i64, pub i32, pub String);

/// One zone's offsets, oldest first. The first span also covers everything
/// before it and the last everything after: rules are built from 2010 to
/// three years ahead, which covers every incident and maintenance window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRules {
    /// The IANA name ("Europe/Berlin"), or "UTC".
    pub name: String,
    pub spans: Vec<Span>,
}

impl Default for ZoneRules {
    fn default() -> Self {
        ZoneRules::utc()
    }
}

impl ZoneRules {
    pub fn utc() -> Self {
        ZoneRules {
            name: "UTC".to_owned(),
            spans: vec![Span(i64::MIN, 0, "UTC".to_owned())],
        }
    }

    /// The rules as pages carry them: the name, then one `from offset
    /// abbreviation` per span, separated by `;` ("Europe/Berlin;_ 3600
    /// CET;1774746000 7200 CEST"; `_` is the start of time). Read back by
    /// [`ZoneRules::from_text`]: a few lines instead of a JSON decoder in
    /// the browser's bundle.
    pub fn to_text(&self) -> String {
        let mut text = self.name.clone();
        for Span(from, offset, abbrev) in &self.spans {
            text.push(';');
            if *from == i64::MIN {
                text.push('_');
            } else {
                text.push_str(&from.to_string());
            }
            text.push(' ');
            text.push_str(&offset.to_string());
            text.push(' ');
            text.push_str(abbrev);
        }
        text
    }

    /// Reads [`ZoneRules::to_text`]; `None` for anything else.
    pub fn from_text(text: &str) -> Option<ZoneRules> {
        let mut parts = text.split(';');
        let name = parts
            .next()
            .filter(|n| !n.is_empty() && n.len() <= MAX_NAME)?;
        let spans = parts
            .map(|span| {
                let mut fields = span.splitn(3, ' ');
                let from = match fields.next()? {
                    "_" => i64::MIN,
                    from => from.parse().ok()?,
                };
                let offset = fields.next()?.parse().ok()?;
                Some(Span(from, offset, fields.next()?.to_owned()))
            })
            .collect::<Option<Vec<Span>>>()?;
        let ordered = spans.windows(2).all(|w| w[0].0 < w[1].0);
        (!spans.is_empty() && ordered).then(|| ZoneRules {
            name: name.to_owned(),
            spans,
        })
    }

    pub fn is_utc(&self) -> bool {
        self.spans.iter().all(|s| s.1 == 0)
    }

    fn span(&self, at: DateTime<Utc>) -> Option<&Span> {
        let second = at.timestamp();
        let next = self.spans.partition_point(|s| s.0 <= second);
        self.spans.get(next.saturating_sub(1))
    }

    /// The wall-clock time here at `at`.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        let offset = self.span(at).map_or(0, |s| s.1);
        at.naive_utc() + chrono::Duration::seconds(i64::from(offset))
    }

    /// How `at` is labelled here: the zone's abbreviation ("CET", "EDT"),
    /// or the offset where the zone has no letters ("UTC+5:45").
    pub fn label(&self, at: DateTime<Utc>) -> String {
        match self.span(at) {
            Some(Span(_, _, abbrev))
                if abbrev.chars().all(|c| c.is_ascii_alphabetic()) && !abbrev.is_empty() =>
            {
                abbrev.clone()
            }
            Some(Span(_, offset, _)) => offset_label(*offset),
            None => "UTC".to_owned(),
        }
    }

    /// "14:05 CET".
    pub fn clock(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!(
            "{:02}:{:02} {}",
            local.hour(),
            local.minute(),
            self.label(at)
        )
    }

    /// "14:05:09", for lists whose heading names the zone.
    pub fn clock_seconds(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!(
            "{:02}:{:02}:{:02}",
            local.hour(),
            local.minute(),
            local.second()
        )
    }

    /// "2026-12-04 14:05 CET".
    pub fn stamp(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!("{} {}", local.date(), self.clock(at))
    }

    /// The instant a wall-clock time here names. A time the clocks skipped
    /// (spring forward) is read with the offset before the change; a time
    /// they passed twice (fall back) is the earlier instant.
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut offsets: Vec<i32> = self.spans.iter().map(|s| s.1).collect();
        offsets.sort_unstable();
        offsets.dedup();
        // A larger offset gives an earlier instant, so the first fit is the earlier one.
        let fits = offsets.iter().rev().find_map(|&offset| {
            let at = (local - chrono::Duration::seconds(i64::from(offset))).and_utc();
            (self.span(at).map_or(0, |s| s.1) == offset).then_some(at)
        });
        fits.unwrap_or_else(|| {
            let guess = local.and_utc();
            let before = self
                .span(guess - chrono::Duration::days(1))
                .map_or(0, |s| s.1);
            (local - chrono::Duration::seconds(i64::from(before))).and_utc()
        })
    }

    /// Reads what a `datetime-local` field sends ("2026-11-26T22:00", seconds
    /// optional) as a wall-clock time here.
    pub fn from_input(&self, raw: &str) -> Option<DateTime<Utc>> {
        let raw = raw.trim();
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
            .ok()
            .map(|local| self.to_utc(local))
    }

    /// The value a `datetime-local` field shows for `at` here.
    pub fn to_input(&self, at: DateTime<Utc>) -> String {
        let local = self.local(at);
        format!("{}T{:02}:{:02}", local.date(), local.hour(), local.minute())
    }

    /// The zone as a heading names it: "Europe/Berlin (CET)", or "UTC".
    pub fn describe(&self, at: DateTime<Utc>) -> String {
        let label = self.label(at);
        if self.name == label {
            label
        } else {
            format!("{} ({label})", self.name)
        }
    }
}

/// "UTC+5:45", "UTC-3", "UTC".
fn offset_label(offset: i32) -> String {
    if offset == 0 {
        return "UTC".to_owned();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    match minutes % 60 {
        0 => format!("UTC{sign}{}", minutes / 60),
        m => format!("UTC{sign}{}:{m:02}", minutes / 60),
    }
}

/// Old names that browsers still report (ICU keeps them), and the names the
/// zones go by now. The old names are read, shown as the new, never listed.
const RENAMED: [(&str, &str); 19] = [
    ("Africa/Asmera", "Africa/Asmara"),
    ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Catamarca", "America/Argentina/Catamarca"),
    ("America/Coral_Harbour", "America/Atikokan"),
    ("America/Cordoba", "America/Argentina/Cordoba"),
    ("America/Godthab", "America/Nuuk"),
    ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Jujuy", "America/Argentina/Jujuy"),
    ("America/Louisville", "America/Kentucky/Louisville"),
    ("America/Mendoza", "America/Argentina/Mendoza"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Asia/Katmandu", "Asia/Kathmandu"),
    ("Asia/Rangoon", "Asia/Yangon"),
    ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
    ("Atlantic/Faeroe", "Atlantic/Faroe"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("Pacific/Enderbury", "Pacific/Kanton"),
    ("Pacific/Ponape", "Pacific/Pohnpei"),
    ("Pacific/Truk", "Pacific/Chuuk"),
];

/// The name a zone goes by now ("Asia/Katmandu" -> "Asia/Kathmandu").
pub fn current_name(name: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| new)
}

/// Why a zone name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Choose a time zone from the list (such as Europe/Berlin or America/New_York).")]
pub struct UnknownZone;

#[cfg(feature = "ssr")]
mod database {
    use super::{current_name, Span, UnknownZone, ZoneRules, MAX_NAME, RENAMED};
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    /// 2010-01-01T00:00:00Z: the first year whose rules are sent.
    const FIRST_SECOND: i64 = 1_262_304_000;
    /// Rules reach this far ahead of now.
    const AHEAD_SECONDS: i64 = 3 * 366 * 86_400;

    /// The rules of `name` ("UTC" or an IANA name from [`names`]).
    pub fn lookup(name: &str) -> Result<ZoneRules, UnknownZone> {
        let name = current_name(name.trim());
        if name.is_empty() || name.len() > MAX_NAME || !is_offered(name) {
            return Err(UnknownZone);
        }
        if name == "UTC" {
            return Ok(ZoneRules::utc());
        }
        // Every signed-in page asks: the rules are built once a day per zone
        // (a few hundred zones at most, each a few kilobytes).
        let today = jiff::Timestamp::now().as_second().div_euclid(86_400);
        let kept = KEPT.get_or_init(Default::default);
        if let Ok(kept) = kept.lock() {
            if let Some((day, rules)) = kept.get(name) {
                if *day == today {
                    return Ok(rules.clone());
                }
            }
        }
        let rules = build(name)?;
        if let Ok(mut kept) = kept.lock() {
            kept.insert(name.to_owned(), (today, rules.clone()));
        }
        Ok(rules)
    }

    /// Rules built today, by zone name.
    static KEPT: OnceLock<Mutex<HashMap<String, (i64, ZoneRules)>>> = OnceLock::new();

    fn build(name: &str) -> Result<ZoneRules, UnknownZone> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| UnknownZone)?;
        let first = jiff::Timestamp::from_second(FIRST_SECOND).map_err(|_| UnknownZone)?;
        let last = jiff::Timestamp::now()
            .as_second()
            .saturating_add(AHEAD_SECONDS);
        let info = zone.to_offset_info(first);
        let mut spans = vec![Span(
            i64::MIN,
            info.offset().seconds(),
            info.abbreviation().to_owned(),
        )];
        for change in zone.following(first) {
            let from = change.timestamp().as_second();
            if from > last {
                break;
            }
            spans.push(Span(
                from,
                change.offset().seconds(),
                change.abbreviation().to_owned(),
            ));
        }
        Ok(ZoneRules {
            name: name.to_owned(),
            spans,
        })
    }

    /// The regions people live in; the database's aliases and "Etc/…" zones
    /// (whose signs read backwards) are left out of the list.
    const REGIONS: [&str; 9] = [
        "Africa/",
        "America/",
        "Antarctica/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    ];

    fn is_offered(name: &str) -> bool {
        name == "UTC" || REGIONS.iter().any(|r| name.starts_with(r))
    }

    /// Every zone a person may choose, sorted, "UTC" first.
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_owned())
            .filter(|n| n != "UTC" && is_offered(n))
            .filter(|n| !RENAMED.iter().any(|(old, _)| old == n))
            .collect();
        names.sort();
        names.dedup();
        names.insert(0, "UTC".to_owned());
        names
    }
}

#[cfg(feature = "ssr")]
pub use database::{lookup, names};

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .expect("time")
    }

    fn berlin() -> ZoneRules {
        // The 2026 changes: CEST from 29 March 01:00 UTC, CET from 25 October 01:00 UTC.
        ZoneRules {
            name: "Europe/Berlin".to_owned(),
            spans: vec![
                Span(i64::MIN, 3600, "CET".to_owned()),
                Span(1_774_746_000, 7200, "CEST".to_owned()),
                Span(1_792_890_000, 3600, "CET".to_owned()),
            ],
        }
    }

    #[test]
    fn rules_travel_as_text_and_come_back_the_same() {
        for zone in [ZoneRules::utc(), berlin()] {
            assert_eq!(ZoneRules::from_text(&zone.to_text()), Some(zone));
        }
        assert_eq!(
            berlin().to_text(),
            "Europe/Berlin;_ 3600 CET;1774746000 7200 CEST;1792890000 3600 CET"
        );
        for bad in [
            "",
            "UTC",
            "UTC;",
            "UTC;_ 0",
            "UTC;x 0 UTC",
            "UTC;_ 3600 CET;_ 0 UTC",
            "UTC;10 0 UTC;5 0 UTC",
            "{\"name\":\"UTC\"}",
        ] {
            assert_eq!(ZoneRules::from_text(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn utc_reads_as_it_always_did() {
        let t = at("2026-12-04T07:05:09Z");
        assert_eq!(ZoneRules::utc().clock(t), "07:05 UTC");
        assert_eq!(ZoneRules::utc().clock_seconds(t), "07:05:09");
        assert_eq!(ZoneRules::utc().stamp(t), "2026-12-04 07:05 UTC");
        assert_eq!(ZoneRules::utc().describe(t), "UTC");
    }

    #[test]
    fn a_time_takes_the_offset_in_force_at_that_instant() {
        let zone = berlin();
        assert_eq!(zone.clock(at("2026-01-10T12:00:00Z")), "13:00 CET");
        assert_eq!(zone.clock(at("2026-03-29T00:59:59Z")), "01:59 CET");
        assert_eq!(zone.clock(at("2026-03-29T01:00:00Z")), "03:00 CEST");
        assert_eq!(zone.clock(at("2026-10-25T00:59:00Z")), "02:59 CEST");
        assert_eq!(zone.clock(at("2026-10-25T01:00:00Z")), "02:00 CET");
    }

    #[test]
    fn the_local_date_can_differ_from_the_utc_date() {
        assert_eq!(
            berlin().stamp(at("2026-12-31T23:30:00Z")),
            "2027-01-01 00:30 CET"
        );
    }

    #[test]
    fn zones_without_letters_are_labelled_by_offset() {
        let kathmandu = ZoneRules {
            name: "Asia/Kathmandu".to_owned(),
            spans: vec![Span(i64::MIN, 20_700, "+0545".to_owned())],
        };
        let t = at("2026-12-04T07:05:00Z");
        assert_eq!(kathmandu.clock(t), "12:50 UTC+5:45");
        assert_eq!(kathmandu.describe(t), "Asia/Kathmandu (UTC+5:45)");
        assert_eq!(offset_label(-3 * 3600), "UTC-3");
        assert_eq!(offset_label(-(9 * 3600 + 30 * 60)), "UTC-9:30");
    }

    #[test]
    fn typed_times_are_read_in_the_zone_and_written_back_the_same() {
        let zone = berlin();
        assert_eq!(
            zone.from_input("2026-01-10T13:00"),
            Some(at("2026-01-10T12:00:00Z"))
        );
        assert_eq!(
            zone.from_input("2026-07-10T13:00:30"),
            Some(at("2026-07-10T11:00:30Z"))
        );
        assert_eq!(
            zone.to_input(at("2026-07-10T11:00:00Z")),
            "2026-07-10T13:00"
        );
        // 02:30 on 29 March never happened in Berlin: read as CET, it is 03:30 CEST.
        assert_eq!(
            zone.from_input("2026-03-29T02:30"),
            Some(at("2026-03-29T01:30:00Z"))
        );
        // 02:30 on 25 October happened twice: the first, in CEST.
        assert_eq!(
            zone.from_input("2026-10-25T02:30"),
            Some(at("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            ZoneRules::utc().from_input("2026-10-25T02:30"),
            Some(at("2026-10-25T02:30:00Z"))
        );
        assert_eq!(zone.from_input("yesterday"), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn rules_from_the_database_agree_with_it_at_every_change() {
        let zone = lookup("America/New_York").expect("known zone");
        assert!(zone.spans.len() > 30, "{} spans", zone.spans.len());
        assert_eq!(zone.clock(at("2025-03-09T06:59:00Z")), "01:59 EST");
        assert_eq!(zone.clock(at("2025-03-09T07:00:00Z")), "03:00 EDT");
        assert_eq!(zone.clock(at("2012-07-01T12:00:00Z")), "08:00 EDT");
        let kathmandu = lookup("Asia/Kathmandu").expect("known zone");
        assert_eq!(
            kathmandu.clock(at("2026-12-04T07:05:00Z")),
            "12:50 UTC+5:45"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn only_listed_zones_are_accepted() {
        assert_eq!(lookup("UTC"), Ok(ZoneRules::utc()));
        for bad in [
            "",
            "Mars/Olympus",
            "Etc/GMT+5",
            "posixrules",
            "../../etc/passwd",
            &"A".repeat(65),
        ] {
            assert_eq!(lookup(bad), Err(UnknownZone), "{bad:?}");
        }
        let names = names();
        assert_eq!(names[0], "UTC");
        assert!(names.iter().any(|n| n == "Europe/Berlin"));
        assert!(names.iter().all(|n| lookup(n).is_ok()));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn old_names_a_browser_reports_are_read_as_the_current_ones_and_never_listed() {
        assert_eq!(
            lookup("Asia/Katmandu").map(|z| z.name),
            Ok("Asia/Kathmandu".to_owned())
        );
        assert_eq!(
            lookup("Asia/Calcutta").map(|z| z.name),
            Ok("Asia/Kolkata".to_owned())
        );
        let names = names();
        for (old, new) in RENAMED {
            assert!(!names.iter().any(|n| n == old), "{old} is listed");
            assert!(names.iter().any(|n| n == new), "{new} is not listed");
        }
    }
}
