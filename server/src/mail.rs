//! Sends subscription mail from the outbox over SMTP, beside the server like
//! the webhook sender: publishing never waits on a mail server, failures are
//! retried with backoff, and each mail keeps one Message-ID across retries.
//! Every mail after the confirmation carries RFC 8058 one-click unsubscribe.

use app::domain::subscriptions::{self, Links, Mail};
use app::domain::webhooks::retry_delay_seconds;
use app::live::Events;
use app::store::subscriptions::{
    claim_due, queue_reminders, record_attempt, DueMail, MailAttempt, MailContent,
};
use app::store::{Db, StoreError};
use chrono::{DateTime, Duration, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How often the worker looks for due mail and reminders when nothing happens.
const POLL: std::time::Duration = std::time::Duration::from_secs(5);
/// How long one SMTP conversation may take.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
/// Reminders go out this long before a window starts.
pub const REMIND_AHEAD: Duration = Duration::hours(1);

/// Sends due subscription mail.
#[derive(Clone)]
pub struct Mailer {
    db: Db,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    base_url: String,
    page_title: String,
}

impl Mailer {
    /// A sender through the server `smtp_url` names (TLS as the URL says).
    pub fn new(
        db: Db,
        smtp_url: &str,
        from: Mailbox,
        base_url: &str,
        page_title: &str,
    ) -> Result<Self, lettre::transport::smtp::Error> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)?
            .timeout(Some(ATTEMPT_TIMEOUT))
            .build();
        Ok(Mailer {
            db,
            transport,
            from,
            base_url: base_url.trim_end_matches('/').to_owned(),
            page_title: page_title.to_owned(),
        })
    }

    /// What one queued mail says.
    pub fn compose(&self, due: &DueMail) -> Mail {
        let links = Links {
            base_url: &self.base_url,
            token: &due.token,
        };
        let title = &self.page_title;
        match &due.content {
            MailContent::Confirm { confirm_token } => {
                subscriptions::confirmation(title, &self.base_url, confirm_token)
            }
            MailContent::Already => subscriptions::already_subscribed(title, &links),
            MailContent::Update(update) => subscriptions::update(
                title,
                &update.title,
                &update.public_status,
                &update.body,
                update.published_at,
                update.next_update_at,
                &links,
            ),
            MailContent::Maintenance {
                title: name,
                description,
                window,
                reminder,
            } => subscriptions::maintenance(title, name, description, *window, *reminder, &links),
        }
    }

    /// The message as it goes out: plain text, its own Message-ID, and the
    /// unsubscribe headers on everything but the confirmation.
    pub fn message(&self, due: &DueMail) -> Result<Message, String> {
        let mail = self.compose(due);
        let to: Mailbox = due
            .email
            .parse()
            .map_err(|_| "the stored address is not one mail can go to".to_owned())?;
        let host = self.from.email.domain().to_owned();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!("<subscription-mail-{}@{host}>", due.id)))
            .header(ContentType::TEXT_PLAIN);
        if !matches!(due.content, MailContent::Confirm { .. }) {
            let links = Links {
                base_url: &self.base_url,
                token: &due.token,
            };
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{}>", links.unsubscribe()),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        builder
            .body(mail.text)
            .map_err(|e| format!("the mail could not be built: {e}"))
    }

    /// Queues due reminders, then sends every mail due at `now` once; returns
    /// how many were tried.
    pub async fn send_due(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        queue_reminders(&self.db, now, REMIND_AHEAD).await?;
        let due = claim_due(&self.db, now, now + Duration::minutes(2), 20).await?;
        let count = due.len();
        for mail in due {
            self.send(&mail).await?;
        }
        Ok(count)
    }

    async fn send(&self, due: &DueMail) -> Result<(), StoreError> {
        let now = Utc::now();
        let message = match self.message(due) {
            Ok(message) => message,
            Err(error) => {
                let attempt = MailAttempt::Failed { error: &error };
                return record_attempt(&self.db, due.id, attempt, now).await;
            }
        };
        let error = match self.transport.send(message).await {
            Ok(_) => return record_attempt(&self.db, due.id, MailAttempt::Sent, now).await,
            Err(e) if e.is_permanent() => {
                // The server refused this mail for good (a mailbox that does not exist).
                let error = format!("the mail server refused it: {e}");
                tracing::warn!(mail = due.id, %error, "subscription mail failed");
                return record_attempt(
                    &self.db,
                    due.id,
                    MailAttempt::Failed { error: &error },
                    now,
                )
                .await;
            }
            Err(e) if e.is_timeout() => "the mail server did not answer in time".to_owned(),
            Err(e) => format!("could not hand the mail over: {e}"),
        };
        tracing::warn!(mail = due.id, %error, "subscription mail will be retried");
        let attempt = match retry_delay_seconds(due.attempts + 1) {
            Some(delay) => MailAttempt::Retry {
                error: &error,
                at: now + Duration::seconds(delay),
            },
            None => MailAttempt::Failed { error: &error },
        };
        record_attempt(&self.db, due.id, attempt, now).await
    }

    /// Runs forever: after every announced change, and every few seconds for
    /// retries and reminders.
    pub fn spawn(self, events: Events) {
        tokio::spawn(async move {
            let mut changes = events.subscribe();
            loop {
                if let Err(e) = self.send_due(Utc::now()).await {
                    tracing::error!(error = %e, "mail worker: cannot read the outbox");
                }
                tokio::select! {
                    _ = changes.recv() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
    }
}
