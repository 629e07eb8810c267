//! Postmortems: action items and their states, the lint run before
//! publishing, the response times derived from milestones (never typed),
//! recurrence risk, and the figures the insights page draws.

use super::incidents::bounded_text;
use super::updates::mentions_person;
use super::users::FieldError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What an action item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionKind {
    Prevention,
    Detection,
    Mitigation,
    Process,
}

impl ActionKind {
    pub const ALL: [ActionKind; 4] = [
        ActionKind::Prevention,
        ActionKind::Detection,
        ActionKind::Mitigation,
        ActionKind::Process,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Prevention => "prevention",
            ActionKind::Detection => "detection",
            ActionKind::Mitigation => "mitigation",
            ActionKind::Process => "process",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionKind::Prevention => "Prevention",
            ActionKind::Detection => "Detection",
            ActionKind::Mitigation => "Mitigation",
            ActionKind::Process => "Process",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Where an action item stands. Verified is the end: the fix was shown to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Verified,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] = [
        ActionStatus::Open,
        ActionStatus::InProgress,
        ActionStatus::Done,
        ActionStatus::Verified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Verified => "verified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "Open",
            ActionStatus::InProgress => "In progress",
            ActionStatus::Done => "Done",
            ActionStatus::Verified => "Verified",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Forward one step at a time, or back while not verified.
    pub fn can_move_to(self, next: ActionStatus) -> bool {
        use ActionStatus::*;
        matches!(
            (self, next),
            (Open, InProgress)
                | (InProgress, Done)
                | (Done, Verified)
                | (InProgress, Open)
                | (Done, InProgress)
        )
    }

    /// Still owed work (not done, not verified).
    pub fn is_outstanding(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

/// Where a postmortem document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PostmortemStatus {
    Draft,
    InReview,
    Published,
}

impl PostmortemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PostmortemStatus::Draft => "draft",
            PostmortemStatus::InReview => "in_review",
            PostmortemStatus::Published => "published",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PostmortemStatus::Draft => "Draft",
            PostmortemStatus::InReview => "In review",
            PostmortemStatus::Published => "Published",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Draft, Self::InReview, Self::Published]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// Whether the document's text may still change.
    pub fn is_editable(self) -> bool {
        self != PostmortemStatus::Published
    }
}

/// The written sections of a postmortem, in document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Section {
    Summary,
    CustomerImpact,
    RootCauses,
    FactorsTechnical,
    FactorsProcess,
    DetectionResponse,
    WentWell,
    GotLucky,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Summary,
        Section::CustomerImpact,
        Section::RootCauses,
        Section::FactorsTechnical,
        Section::FactorsProcess,
        Section::DetectionResponse,
        Section::WentWell,
        Section::GotLucky,
    ];

    /// The column and form field name.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Summary => "summary",
            Section::CustomerImpact => "customer_impact",
            Section::RootCauses => "root_causes",
            Section::FactorsTechnical => "factors_technical",
            Section::FactorsProcess => "factors_process",
            Section::DetectionResponse => "detection_response",
            Section::WentWell => "went_well",
            Section::GotLucky => "got_lucky",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Summary => "Summary",
            Section::CustomerImpact => "Customer impact",
            Section::RootCauses => "Root causes",
            Section::FactorsTechnical => "Contributing factors: technical",
            Section::FactorsProcess => "Contributing factors: process",
            Section::DetectionResponse => "Detection and response",
            Section::WentWell => "What went well",
            Section::GotLucky => "Where we got lucky",
        }
    }

    /// A prompt for the writer.
    pub fn hint(self) -> &'static str {
        match self {
            Section::Summary => "What happened, in three sentences a newcomer understands.",
            Section::CustomerImpact => "What customers saw, for how long, and how many.",
            Section::RootCauses => {
                "The conditions in systems and processes that made this possible."
            }
            Section::FactorsTechnical => "Technical conditions that made it worse or longer.",
            Section::FactorsProcess => "Process gaps: alerts, runbooks, hand-offs, reviews.",
            Section::DetectionResponse => "What slowed detection, what slowed recovery.",
            Section::WentWell => "What to keep doing.",
            Section::GotLucky => "What saved us this time that we cannot count on.",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// The longest a section may be.
pub const MAX_SECTION_CHARS: usize = 20_000;

/// A due date as YYYY-MM-DD, or none yet.
pub fn parse_due(raw: &str) -> Result<Option<NaiveDate>, FieldError> {
    match raw.trim() {
        "" => Ok(None),
        raw => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .filter(|d| plausible_date(*d))
            .map(Some)
            .ok_or_else(|| {
                FieldError::new("due", "Give the due date as YYYY-MM-DD, from 2000 to 2199.")
            }),
    }
}

/// Dates people type (due dates, report periods) stay within 2000-2199: a
/// year like +262142 is a typo or an attack, and breaks calendars and sums.
pub fn plausible_date(date: NaiveDate) -> bool {
    (2000..2200).contains(&date.year())
}

/// An action item's fields as typed, checked at their fields.
pub struct ItemInput<'a> {
    pub title: &'a str,
    pub kind: &'a str,
    pub due: &'a str,
    pub verification: &'a str,
}

/// A checked action item draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    pub title: String,
    pub kind: ActionKind,
    pub due: Option<NaiveDate>,
    pub verification: String,
}

/// Checks an action item: a title, a known kind, a due date as YYYY-MM-DD
/// (or none yet), and how we will know it worked.
pub fn parse_item(input: &ItemInput<'_>) -> Result<ItemDraft, FieldError> {
    let title = bounded_text("title", input.title, 200, Some("Say what will be done."))?;
    let kind = ActionKind::parse(input.kind.trim()).ok_or_else(|| {
        FieldError::new(
            "kind",
            "Choose prevention, detection, mitigation or process.",
        )
    })?;
    let due = parse_due(input.due)?;
    let verification = bounded_text(
        "verification",
        input.verification,
        500,
        Some("Say how we will know it worked (a test, an alert firing, a drill)."),
    )?;
    Ok(ItemDraft {
        title,
        kind,
        due,
        verification,
    })
}

/// The most items a postmortem marks as top.
pub const MAX_TOP_ITEMS: usize = 5;

/// An action item as the lint and the tracker see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub title: String,
    pub kind: ActionKind,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub verification: String,
    pub status: ActionStatus,
    pub top: bool,
}

impl ActionItem {
    /// Past its due date and still owed at `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.is_outstanding() && self.due.is_some_and(|due| due < today)
    }
}

/// One line of the pre-publish checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub rule: LintRule,
    pub passed: bool,
    /// What is wrong, in words a reviewer acts on (empty when passed).
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LintRule {
    HasPrevention,
    HasDetection,
    ItemsComplete,
    TopItemsLimited,
    CustomerImpactFilled,
    Blameless,
}

impl LintRule {
    pub fn label(self) -> &'static str {
        match self {
            LintRule::HasPrevention => "At least one prevention item",
            LintRule::HasDetection => "At least one detection item",
            LintRule::ItemsComplete => {
                "Every item has an owner, a due date and a verification method"
            }
            LintRule::TopItemsLimited => "No more than five top items",
            LintRule::CustomerImpactFilled => "Customer impact is filled in",
            LintRule::Blameless => "Root causes name systems, not people",
        }
    }
}

/// What the lint reads.
pub struct LintInput<'a> {
    pub items: &'a [ActionItem],
    pub customer_impact: &'a str,
    pub root_causes: &'a str,
    /// Display names of our users.
    pub people: &'a [String],
}

/// Runs every check; publishing past a failed one needs a recorded override.
pub fn lint(input: &LintInput<'_>) -> Vec<Check> {
    let has = |kind: ActionKind| input.items.iter().any(|i| i.kind == kind);
    let incomplete: Vec<&str> = input
        .items
        .iter()
        .filter(|i| i.owner.is_none() || i.due.is_none() || i.verification.trim().is_empty())
        .map(|i| i.title.as_str())
        .collect();
    let top = input.items.iter().filter(|i| i.top).count();
    let named: Vec<&str> = input
        .people
        .iter()
        .map(|p| p.trim())
        .filter(|p| mentions_person(input.root_causes, p))
        .collect();
    let check = |rule, passed: bool, detail: String| Check {
        rule,
        passed,
        detail: if passed { String::new() } else { detail },
    };
    vec![
        check(
            LintRule::HasPrevention,
            has(ActionKind::Prevention),
            "Add an item that stops this from happening again.".to_owned(),
        ),
        check(
            LintRule::HasDetection,
            has(ActionKind::Detection),
            "Add an item that would have caught this sooner.".to_owned(),
        ),
        check(
            LintRule::ItemsComplete,
            incomplete.is_empty(),
            format!("Incomplete: {}.", incomplete.join("; ")),
        ),
        check(
            LintRule::TopItemsLimited,
            top <= MAX_TOP_ITEMS,
            format!("{top} items are marked top; keep it to {MAX_TOP_ITEMS}."),
        ),
        check(
            LintRule::CustomerImpactFilled,
            !input.customer_impact.trim().is_empty(),
            "Say what customers saw, and how many.".to_owned(),
        ),
        check(
            LintRule::Blameless,
            named.is_empty(),
            format!(
                "The root causes name {}; describe the system or process that let it happen.",
                named.join(", ")
            ),
        ),
    ]
}

/// The milestones response times are derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Milestones {
    /// When customers were first affected, if someone gave it.
    pub impact_started: Option<DateTime<Utc>>,
    pub declared: Option<DateTime<Utc>>,
    pub roles_assigned: Option<DateTime<Utc>>,
    pub first_update: Option<DateTime<Utc>>,
    pub mitigated: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
}

/// Response times, each from the start of impact (or the declaration when
/// no impact start is known; time to detect needs the impact start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponseTimes {
    pub to_detect: Option<Duration>,
    pub to_roles: Option<Duration>,
    pub to_first_update: Option<Duration>,
    pub to_mitigate: Option<Duration>,
    pub to_resolve: Option<Duration>,
}

/// Derives the response times; a milestone before its start counts as zero.
pub fn response_times(m: &Milestones) -> ResponseTimes {
    let start = m.impact_started.or(m.declared);
    let since =
        |end: Option<DateTime<Utc>>| start.zip(end).map(|(s, e)| (e - s).max(Duration::zero()));
    ResponseTimes {
        to_detect: m
            .impact_started
            .zip(m.declared)
            .map(|(s, e)| (e - s).max(Duration::zero())),
        to_roles: since(m.roles_assigned),
        to_first_update: since(m.first_update),
        to_mitigate: since(m.mitigated),
        to_resolve: since(m.resolved),
    }
}

/// An incident carries recurrence risk until all its prevention items are verified
/// (and it has at least one).
pub fn at_recurrence_risk(items: &[ActionItem]) -> bool {
    let prevention: Vec<&ActionItem> = items
        .iter()
        .filter(|i| i.kind == ActionKind::Prevention)
        .collect();
    prevention.is_empty()
        || prevention
            .iter()
            .any(|i| i.status != ActionStatus::Verified)
}

/// The value at `p` (0 to 1) of sorted `values`, by the nearest-rank method.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
}

/// Median and p90 of some durations.
pub fn median_and_p90(values: &[Duration]) -> (Option<Duration>, Option<Duration>) {
    let mut sorted = values.to_vec();
    sorted.sort();
    (percentile(&sorted, 0.5), percentile(&sorted, 0.9))
}

/// Share of updates published no later than they were due (`None` without data).
pub fn punctuality(updates: &[(DateTime<Utc>, DateTime<Utc>)]) -> Option<f64> {
    if updates.is_empty() {
        return None;
    }
    let on_time = updates.iter().filter(|(due, at)| at <= due).count();
    Some(on_time as f64 / updates.len() as f64)
}

/// How a period's action items stand at `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemFigures {
    /// Done or verified; `on_time` of them by their due date.
    pub finished: usize,
    pub on_time: usize,
    pub overdue: usize,
    pub verified: usize,
}

/// Counts items: finished (and on time, by when they were finished), overdue, verified.
pub fn item_figures(items: &[(ActionItem, Option<NaiveDate>)], today: NaiveDate) -> ItemFigures {
    let mut figures = ItemFigures::default();
    for (item, finished_on) in items {
        if !item.status.is_outstanding() {
            figures.finished += 1;
            if let (Some(due), Some(on)) = (item.due, finished_on) {
                if *on <= due {
                    figures.on_time += 1;
                }
            }
        }
        if item.is_overdue(today) {
            figures.overdue += 1;
        }
        if item.status == ActionStatus::Verified {
            figures.verified += 1;
        }
    }
    figures
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(kind: ActionKind) -> ActionItem {
        ActionItem {
            title: format!("{} item", kind.label()),
            kind,
            owner: Some("Grace".to_owned()),
            due: NaiveDate::from_ymd_opt(2026, 12, 10),
            verification: "Alert fires in a game day".to_owned(),
            status: ActionStatus::Open,
            top: false,
        }
    }

    fn failed(checks: &[Check]) -> Vec<LintRule> {
        checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.rule)
            .collect()
    }

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0)
            .single()
            .expect("valid")
            + Duration::minutes(minute)
    }

    #[test]
    fn a_complete_postmortem_passes_every_check() {
        let items = [item(ActionKind::Prevention), item(ActionKind::Detection)];
        let checks = lint(&LintInput {
            items: &items,
            customer_impact: "1,200 checkouts failed over 40 minutes",
            root_causes: "The disk alert threshold was above the volume size.",
            people: &["Grace Hopper".to_owned()],
        });
        assert_eq!(failed(&checks), vec![]);
        assert_eq!(checks.len(), 6);
    }

    #[test]
    fn a_missing_detection_item_fails_its_check_only() {
        let items = [item(ActionKind::Prevention)];
        let checks = lint(&LintInput {
            items: &items,
            customer_impact: "Some checkouts failed",
            root_causes: "",
            people: &[],
        });
        assert_eq!(failed(&checks), vec![LintRule::HasDetection]);
    }

    #[test]
    fn incomplete_items_too_many_top_items_and_empty_impact_are_named() {
        let mut items: Vec<ActionItem> = (0..6)
            .map(|_| ActionItem {
                top: true,
                ..item(ActionKind::Process)
            })
            .collect();
        items[0].owner = None;
        items[0].title = "Write a runbook".to_owned();
        let checks = lint(&LintInput {
            items: &items,
            customer_impact: "  ",
            root_causes: "",
            people: &[],
        });
        let rules = failed(&checks);
        assert!(rules.contains(&LintRule::ItemsComplete));
        assert!(rules.contains(&LintRule::TopItemsLimited));
        assert!(rules.contains(&LintRule::CustomerImpactFilled));
        let incomplete = checks
            .iter()
            .find(|c| c.rule == LintRule::ItemsComplete)
            .expect("check");
        assert!(incomplete.detail.contains("Write a runbook"));
    }

    #[test]
    fn naming_a_person_in_the_root_causes_is_flagged() {
        let items = [item(ActionKind::Prevention), item(ActionKind::Detection)];
        let checks = lint(&LintInput {
            items: &items,
            customer_impact: "Checkouts failed",
            root_causes: "Grace ran the migration without a dry run.",
            people: &["Grace Hopper".to_owned(), "Alan Turing".to_owned()],
        });
        let blame = checks
            .iter()
            .find(|c| c.rule == LintRule::Blameless)
            .expect("check");
        assert!(!blame.passed);
        assert!(blame.detail.contains("Grace Hopper"));
        assert!(!blame.detail.contains("Alan"));
    }

    #[test]
    fn response_times_count_from_impact_start_or_else_the_declaration() {
        let with_impact = response_times(&Milestones {
            impact_started: Some(at(-10)),
            declared: Some(at(0)),
            roles_assigned: Some(at(4)),
            first_update: Some(at(12)),
            mitigated: Some(at(35)),
            resolved: Some(at(90)),
        });
        assert_eq!(with_impact.to_detect, Some(Duration::minutes(10)));
        assert_eq!(with_impact.to_roles, Some(Duration::minutes(14)));
        assert_eq!(with_impact.to_mitigate, Some(Duration::minutes(45)));
        assert_eq!(with_impact.to_resolve, Some(Duration::minutes(100)));

        let without = response_times(&Milestones {
            declared: Some(at(0)),
            first_update: Some(at(12)),
            ..Milestones::default()
        });
        assert_eq!(without.to_detect, None);
        assert_eq!(without.to_first_update, Some(Duration::minutes(12)));
        assert_eq!(without.to_mitigate, None);
    }

    #[test]
    fn recurrence_risk_clears_only_when_every_prevention_item_is_verified() {
        let mut items = vec![
            item(ActionKind::Prevention),
            item(ActionKind::Prevention),
            item(ActionKind::Detection),
        ];
        assert!(at_recurrence_risk(&items));
        items[0].status = ActionStatus::Verified;
        assert!(at_recurrence_risk(&items));
        items[1].status = ActionStatus::Verified;
        assert!(
            !at_recurrence_risk(&items),
            "detection items do not hold the risk"
        );
        assert!(
            at_recurrence_risk(&[item(ActionKind::Detection)]),
            "no prevention item at all"
        );
    }

    #[test]
    fn status_moves_one_step_forward_and_verified_is_final() {
        use ActionStatus::*;
        assert!(Open.can_move_to(InProgress));
        assert!(Done.can_move_to(Verified));
        assert!(!Open.can_move_to(Verified));
        assert!(!Verified.can_move_to(Done));
        assert!(Done.can_move_to(InProgress));
    }

    #[test]
    fn median_and_p90_use_the_nearest_rank() {
        let minutes: Vec<Duration> = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]
            .iter()
            .map(|m| Duration::minutes(*m))
            .collect();
        assert_eq!(
            median_and_p90(&minutes),
            (Some(Duration::minutes(5)), Some(Duration::minutes(9)))
        );
        assert_eq!(median_and_p90(&[]), (None, None));
        assert_eq!(
            median_and_p90(&[Duration::minutes(3)]),
            (Some(Duration::minutes(3)), Some(Duration::minutes(3)))
        );
    }

    #[test]
    fn punctuality_is_the_share_published_by_their_due_time() {
        let updates = [
            (at(15), at(14)),
            (at(30), at(30)),
            (at(45), at(47)),
            (at(60), at(59)),
        ];
        assert_eq!(punctuality(&updates), Some(0.75));
        assert_eq!(punctuality(&[]), None);
    }

    #[test]
    fn item_figures_count_on_time_overdue_and_verified() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 15).expect("date");
        let due = NaiveDate::from_ymd_opt(2026, 12, 10);
        let open_late = item(ActionKind::Process);
        let done_on_time = ActionItem {
            status: ActionStatus::Done,
            ..item(ActionKind::Process)
        };
        let verified_late = ActionItem {
            status: ActionStatus::Verified,
            ..item(ActionKind::Prevention)
        };
        let figures = item_figures(
            &[
                (open_late, None),
                (done_on_time, due),
                (verified_late, NaiveDate::from_ymd_opt(2026, 12, 12)),
            ],
            today,
        );
        assert_eq!(
            figures,
            ItemFigures {
                finished: 2,
                on_time: 1,
                overdue: 1,
                verified: 1
            }
        );
    }

    #[test]
    fn an_item_without_a_verification_method_is_refused_at_that_field() {
        let err = parse_item(&ItemInput {
            title: "Alert on checkout error rate",
            kind: "detection",
            due: "2026-12-10",
            verification: "  ",
        })
        .expect_err("refused");
        assert_eq!(err.field, "verification");
    }

    #[test]
    fn an_item_due_date_must_be_a_calendar_date() {
        let input = |due| ItemInput {
            title: "Add a canary stage",
            kind: "prevention",
            due,
            verification: "A bad deploy stops at the canary in a drill",
        };
        assert_eq!(
            parse_item(&input("10/12/2026")).expect_err("refused").field,
            "due"
        );
        assert_eq!(
            parse_item(&input("2026-02-30")).expect_err("refused").field,
            "due"
        );
        let ok = parse_item(&input("2026-12-10")).expect("accepted");
        assert_eq!(ok.due, NaiveDate::from_ymd_opt(2026, 12, 10));
        assert_eq!(ok.kind, ActionKind::Prevention);
        assert_eq!(parse_item(&input("")).expect("no date yet").due, None);
    }

    #[test]
    fn an_unknown_kind_is_refused_at_the_kind_field() {
        let err = parse_item(&ItemInput {
            title: "Rename the dashboard",
            kind: "cosmetic",
            due: "",
            verification: "Looked at it",
        })
        .expect_err("refused");
        assert_eq!(err.field, "kind");
    }

    #[test]
    fn only_unpublished_postmortems_can_be_edited() {
        assert!(PostmortemStatus::Draft.is_editable());
        assert!(PostmortemStatus::InReview.is_editable());
        assert!(!PostmortemStatus::Published.is_editable());
        for s in Section::ALL {
            assert_eq!(Section::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_due_date_far_outside_this_era_is_refused_at_its_field() {
        for raw in ["+262142-12-31", "9999-01-01", "1970-01-01"] {
            let err = parse_due(raw).expect_err(raw);
            assert_eq!(err.field, "due", "{raw}");
        }
        assert!(parse_due("2027-03-01").expect("plausible").is_some());
    }
}
