//! When repeated failed sign-ins stop being answered: per account and per client address.

use chrono::{DateTime, Duration, Utc};

/// How many failures a key may collect inside a sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: i64,
    pub window: Duration,
}

/// Failures per account: enough for typos, too few for guessing.
pub const PER_ACCOUNT: ThrottlePolicy = ThrottlePolicy {
    max_failures: 5,
    window: Duration::minutes(15),
};

/// Failures per client address: an office behind one address gets more room.
pub const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    max_failures: 20,
    window: Duration::minutes(15),
};

/// The failures recorded for one key inside the policy window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentFailures {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    Allow,
    /// Refuse until the oldest failure in the window ages out.
    Wait {
        retry_after: Duration,
    },
}

impl ThrottlePolicy {
    /// The start of the window that counts at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    pub fn decide(&self, recent: RecentFailures, now: DateTime<Utc>) -> ThrottleDecision {
        if recent.count < self.max_failures {
            return ThrottleDecision::Allow;
        }
        let oldest = recent.oldest.unwrap_or(now);
        let retry_after = (oldest + self.window - now).max(Duration::seconds(1));
        ThrottleDecision::Wait { retry_after }
    }
}

/// "Try again in 3 minutes." Rounded up so the advice is never too early.
pub fn retry_message(retry_after: Duration) -> String {
    let seconds = retry_after.num_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    if minutes <= 1 {
        "Too many failed sign-ins. Try again in a minute.".to_owned()
    } else {
        format!("Too many failed sign-ins. Try again in {minutes} minutes.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 14, minute, second)
            .single()
            .expect("valid time")
    }

    #[test]
    fn four_failures_on_an_account_still_allow_a_fifth_try() {
        let recent = RecentFailures {
            count: 4,
            oldest: Some(at(0, 0)),
        };
        assert_eq!(
            PER_ACCOUNT.decide(recent, at(1, 0)),
            ThrottleDecision::Allow
        );
    }

    #[test]
    fn five_failures_on_an_account_wait_until_the_oldest_ages_out() {
        let recent = RecentFailures {
            count: 5,
            oldest: Some(at(0, 0)),
        };
        assert_eq!(
            PER_ACCOUNT.decide(recent, at(5, 0)),
            ThrottleDecision::Wait {
                retry_after: Duration::minutes(10)
            }
        );
    }

    #[test]
    fn the_wait_is_never_zero() {
        let recent = RecentFailures {
            count: 5,
            oldest: Some(at(0, 0)),
        };
        assert_eq!(
            PER_ACCOUNT.decide(recent, at(15, 0)),
            ThrottleDecision::Wait {
                retry_after: Duration::seconds(1)
            }
        );
    }

    #[test]
    fn an_address_gets_more_room_than_an_account() {
        let recent = RecentFailures {
            count: 5,
            oldest: Some(at(0, 0)),
        };
        assert_eq!(
            PER_ADDRESS.decide(recent, at(1, 0)),
            ThrottleDecision::Allow
        );
    }

    #[test]
    fn the_message_rounds_minutes_up() {
        assert_eq!(
            retry_message(Duration::seconds(61)),
            "Too many failed sign-ins. Try again in 2 minutes."
        );
        assert_eq!(
            retry_message(Duration::seconds(10)),
            "Too many failed sign-ins. Try again in a minute."
        );
    }
}
