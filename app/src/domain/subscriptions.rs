//! E-mail subscriptions to the public status page: which addresses are taken,
//! how often one may sign up, and what each mail says. Every mail carries the
//! links to manage the subscription and to leave it in one click.

use super::status::public_status_label;
use super::throttle::ThrottlePolicy;
use super::users::{Email, FieldError};
use chrono::{DateTime, Duration, Utc};

/// Sign-ups per address: a retyped form or a lost mail, not a mail bomb.
pub const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    max_failures: 3,
    window: Duration::hours(1),
};

/// Sign-ups per client: an office behind one address still gets room.
pub const PER_CLIENT: ThrottlePolicy = ThrottlePolicy {
    max_failures: 20,
    window: Duration::hours(1),
};

/// Domains of throwaway mailboxes: a subscription there is gone before the
/// next incident, and they are what sign-up floods use.
const DISPOSABLE: [&str; 12] = [
    "mailinator.com",
    "guerrillamail.com",
    "guerrillamail.net",
    "sharklasers.com",
    "10minutemail.com",
    "temp-mail.org",
    "tempmail.com",
    "yopmail.com",
    "trashmail.com",
    "getnada.com",
    "dispostable.com",
    "maildrop.cc",
];

/// An address mail can be sent to: a plain `local@domain` with nothing that
/// would change the meaning of a mail header, on a domain that is not a
/// throwaway mailbox service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberEmail(String);

impl SubscriberEmail {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let email = Email::parse(field, raw)?;
        let text = email.as_str();
        let (local, domain) = text.split_once('@').unwrap_or_default();
        let local_ok = local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let domain_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !local_ok || !domain_ok {
            return Err(FieldError::new(
                field,
                "Enter a plain address like name@example.com (no spaces, quotes or brackets).",
            ));
        }
        if DISPOSABLE
            .iter()
            .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
        {
            return Err(FieldError::new(
                field,
                "That looks like a throwaway mailbox. Use an address you will still read during the next incident.",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
}

/// The links every mail ends with.
pub struct Links<'a> {
    /// This instance's public address, without a trailing slash.
    pub base_url: &'a str,
    /// The subscriber's own capability; mails never carry anyone else's.
    pub token: &'a str,
}

impl Links<'_> {
    pub fn manage(&self) -> String {
        format!("{}/status/subscription?token={}", self.base_url, self.token)
    }

    pub fn unsubscribe(&self) -> String {
        format!("{}/status/unsubscribe?token={}", self.base_url, self.token)
    }

    fn footer(&self) -> String {
        format!(
            "\n\n--\nYou get this because you subscribed to {}/status.\nChoose what you follow: {}\nUnsubscribe: {}\n",
            self.base_url,
            self.manage(),
            self.unsubscribe()
        )
    }
}

/// "14:05 UTC, 26 Nov 2026": every time in a mail names its zone.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%H:%M UTC, %-d %b %Y").to_string()
}

/// The first mail: nothing else is sent until its link is followed.
pub fn confirmation(page_title: &str, base_url: &str, confirm_token: &str) -> Mail {
    Mail {
        subject: format!("Confirm your subscription to {page_title}"),
        text: format!(
            "Someone, probably you, asked to get {page_title} updates at this address.\n\n\
             Confirm here: {base_url}/status/subscription/confirm?token={confirm_token}\n\n\
             If it was not you, ignore this mail: nothing more will be sent.\n"
        ),
    }
}

/// For a sign-up with an address that is already subscribed: the way in,
/// without saying so to whoever filled in the form.
pub fn already_subscribed(page_title: &str, links: &Links<'_>) -> Mail {
    Mail {
        subject: format!("Your subscription to {page_title}"),
        text: format!(
            "This address already gets {page_title} updates; someone asked to subscribe it again.{}",
            links.footer()
        ),
    }
}

/// A customer-facing update.
pub fn update(
    page_title: &str,
    title: &str,
    status: &str,
    body: &str,
    published_at: DateTime<Utc>,
    next_update_at: Option<DateTime<Utc>>,
    links: &Links<'_>,
) -> Mail {
    let label = public_status_label(status);
    let next = next_update_at
        .map(|at| format!("\nNext update by {}.", stamp(at)))
        .unwrap_or_default();
    Mail {
        subject: format!("[{page_title}] {label}: {title}"),
        text: format!(
            "{title}\n{label} · {}\n\n{body}\n{next}\nFull history: {}/status{}",
            stamp(published_at),
            links.base_url,
            links.footer()
        ),
    }
}

/// A maintenance window: its notice when scheduled, or the reminder before it.
pub fn maintenance(
    page_title: &str,
    title: &str,
    description: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
    reminder: bool,
    links: &Links<'_>,
) -> Mail {
    let lead = if reminder {
        "Starting soon"
    } else {
        "Scheduled maintenance"
    };
    Mail {
        subject: format!("[{page_title}] {lead}: {title}"),
        text: format!(
            "{title}\n{lead}: from {} to {}.\n\n{description}\n{}",
            stamp(window.0),
            stamp(window.1),
            links.footer()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_address_is_kept_in_lower_case() {
        let email = SubscriberEmail::parse("email", "  Dana.Ops+status@Example.COM ");
        assert_eq!(
            email.map(|e| e.0),
            Ok("dana.ops+status@example.com".to_owned())
        );
    }

    #[test]
    fn addresses_that_could_bend_a_mail_header_are_refused() {
        for bad in [
            "a@b",
            "dana@example.com, eve@example.com",
            "\"dana\"@example.com",
            "dana@exa_mple.com",
            "dana@-example.com",
            "<dana@example.com>",
            "da..na@example.com",
            "dana@example.com\r\nBcc: eve@example.com",
        ] {
            let refused = SubscriberEmail::parse("email", bad);
            assert!(refused.is_err(), "{bad:?} was accepted");
            assert_eq!(refused.err().map(|e| e.field), Some("email"));
        }
    }

    #[test]
    fn a_throwaway_mailbox_gets_a_clear_message() {
        let refused = SubscriberEmail::parse("email", "x@mailinator.com");
        assert!(refused.is_err_and(|e| e.message.contains("throwaway")));
        assert!(SubscriberEmail::parse("email", "x@eu.mailinator.com").is_err());
        assert!(SubscriberEmail::parse("email", "x@notmailinator.com").is_ok());
    }

    #[test]
    fn every_mail_after_the_confirmation_carries_the_manage_and_unsubscribe_links() {
        let links = Links {
            base_url: "https://status.example.com",
            token: "t0k",
        };
        let at = DateTime::parse_from_rfc3339("2026-11-26T14:05:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let mails = [
            update(
                "Acme status",
                "Card payments failing",
                "investigating",
                "Some payments fail.",
                at,
                Some(at + Duration::minutes(30)),
                &links,
            ),
            maintenance("Acme status", "DB upgrade", "", (at, at), false, &links),
            maintenance("Acme status", "DB upgrade", "", (at, at), true, &links),
            already_subscribed("Acme status", &links),
        ];
        for mail in &mails {
            assert!(mail
                .text
                .contains("https://status.example.com/status/unsubscribe?token=t0k"));
            assert!(mail
                .text
                .contains("https://status.example.com/status/subscription?token=t0k"));
        }
        assert_eq!(
            mails[0].subject,
            "[Acme status] Investigating: Card payments failing"
        );
        assert!(mails[0].text.contains("14:05 UTC, 26 Nov 2026"));
        assert!(mails[0]
            .text
            .contains("Next update by 14:35 UTC, 26 Nov 2026."));
        assert!(mails[2].subject.contains("Starting soon"));
        let confirm = confirmation("Acme status", "https://status.example.com", "c0nfirm");
        assert!(confirm
            .text
            .contains("https://status.example.com/status/subscription/confirm?token=c0nfirm"));
        assert!(
            !confirm.text.contains("unsubscribe"),
            "nothing to leave yet"
        );
    }
}
