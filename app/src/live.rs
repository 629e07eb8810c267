//! Live change events: the store's committed writes, fanned out to connected browsers.
//!
//! Changes enter through the change log (`store::changes`), so every replica
//! on one PostgreSQL hears every change, in the same order.

use crate::store::changes::{self, Logged};
use crate::store::Db;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// What changed, by id only; browsers refetch through the server functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Something in incident number `n` (or the incident list) changed.
    Incident(i64),
    /// Something in restricted incident number `n` changed: only the people
    /// who may see it are told.
    Restricted(i64),
    /// The public status page changed (components, maintenance windows).
    Status,
}

impl Change {
    /// A change of incident `number`, restricted or not.
    pub fn incident(number: i64, restricted: bool) -> Self {
        if restricted {
            Change::Restricted(number)
        } else {
            Change::Incident(number)
        }
    }

    /// The text sent to browsers: "incident:12".
    pub fn wire(&self) -> String {
        match self {
            Change::Incident(number) | Change::Restricted(number) => format!("incident:{number}"),
            Change::Status => "status".to_owned(),
        }
    }

    /// Whether the public status page may have changed. Internal changes of an
    /// incident never show there; customer updates announce [`Change::Status`].
    pub fn is_public(&self) -> bool {
        matches!(self, Change::Status)
    }
}

/// Live changes in this process, in log order: the change-log follower
/// ([`Events::follow`]) reads what committed, on this replica or any other,
/// and hands it to every subscriber.
#[derive(Clone, Debug)]
pub struct Events {
    sender: broadcast::Sender<Logged>,
    /// Counts every change, so caches can tell they are stale without listening.
    generation: Arc<AtomicU64>,
    /// Counts the changes the public status page can show.
    public_generation: Arc<AtomicU64>,
    /// The last sequence handed out.
    seen: Arc<AtomicI64>,
    /// Wakes the follower right after a commit in this process.
    wake: Arc<Notify>,
}

/// How often the follower reads the log even when nothing woke it: the safety
/// net for a notification lost while the listener was away.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// Entries read from the log per query.
const BATCH: i64 = 500;

impl Events {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Events {
            sender,
            generation: Arc::new(AtomicU64::new(0)),
            public_generation: Arc::new(AtomicU64::new(0)),
            seen: Arc::new(AtomicI64::new(0)),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Hands one logged change to every subscriber. Only the follower (and
    /// tests) call this: changes enter through the change log.
    pub fn publish(&self, logged: Logged) {
        self.generation.fetch_add(1, Ordering::Release);
        if logged.change.is_public() {
            self.public_generation.fetch_add(1, Ordering::Release);
        }
        self.seen.fetch_max(logged.seq, Ordering::AcqRel);
        let _ = self.sender.send(logged);
    }

    /// Tells the follower that this process just committed a change.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// How many changes the public could see were announced so far.
    pub fn public_generation(&self) -> u64 {
        self.public_generation.load(Ordering::Acquire)
    }

    /// How many changes were announced so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The last sequence handed to subscribers.
    pub fn seen(&self) -> i64 {
        self.seen.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Logged> {
        self.sender.subscribe()
    }

    /// Follows the change log from its current end, in the background, for
    /// as long as the process runs. On PostgreSQL one dedicated connection
    /// (to `listen_url`, or like the pool's), never from the pool, LISTENs for
    /// other replicas' commits; after every (re)connect the log is read from the last
    /// sequence seen, so nothing committed while it was away is lost.
    pub fn follow(&self, db: Db, listen_url: Option<String>) -> tokio::task::JoinHandle<()> {
        let events = self.clone();
        tokio::spawn(async move { events.run_follower(db, listen_url).await })
    }

    async fn run_follower(self, db: Db, listen_url: Option<String>) {
        let mut last = loop {
            match changes::head(&db).await {
                Ok(head) => break head,
                Err(e) => {
                    tracing::warn!(error = %e, "change log: cannot read its end; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        self.seen.fetch_max(last, Ordering::AcqRel);
        let mut listener: Option<PgListener> = None;
        let mut retry_at = tokio::time::Instant::now();
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let connect_now = matches!(db, Db::Postgres(_))
                && listener.is_none()
                && tokio::time::Instant::now() >= retry_at;
            if connect_now {
                match listen(&db, listen_url.as_deref()).await {
                    Ok(connected) => {
                        tracing::debug!("change log: listening for other replicas");
                        listener = connected;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change log: cannot listen; polling until it can");
                        retry_at = tokio::time::Instant::now() + Duration::from_secs(2);
                    }
                }
                // Connected or not, read what may have been missed meanwhile.
            } else {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = poll.tick() => {}
                    lost = next_notification(&mut listener) => {
                        if lost {
                            tracing::warn!("change log: listener connection lost; reconnecting");
                            listener = None;
                        }
                    }
                }
            }
            last = self.catch_up(&db, last).await;
        }
    }

    /// Hands out everything after `last`; answers the new last sequence.
    async fn catch_up(&self, db: &Db, mut last: i64) -> i64 {
        loop {
            match changes::after(db, last, BATCH).await {
                Ok(batch) => {
                    let full = batch.len() as i64 == BATCH;
                    for logged in batch {
                        last = logged.seq;
                        self.publish(logged);
                    }
                    if !full {
                        return last;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change log: cannot read; will retry");
                    return last;
                }
            }
        }
    }
}

/// The name the listener connection shows in `pg_stat_activity`.
pub const LISTENER_NAME: &str = "calmroom-listener";

/// A dedicated LISTEN connection on PostgreSQL (never one of the pool's): to
/// `url`, or with the pool's own settings. `None` for SQLite.
async fn listen(db: &Db, url: Option<&str>) -> Result<Option<PgListener>, sqlx::Error> {
    let Db::Postgres(pool) = db else {
        return Ok(None);
    };
    let options = match url {
        Some(url) => PgConnectOptions::from_str(url)?,
        None => (*pool.connect_options()).clone(),
    };
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.application_name(LISTENER_NAME))
        .await?;
    let mut listener = PgListener::connect_with(&own).await?;
    listener.listen(changes::CHANNEL).await?;
    Ok(Some(listener))
}

/// Waits for the next notification; answers true when the connection was lost.
/// Without a listener it waits forever (the poll and local wakes still run).
async fn next_notification(listener: &mut Option<PgListener>) -> bool {
    match listener {
        Some(listener) => !matches!(listener.try_recv().await, Ok(Some(_))),
        None => std::future::pending().await,
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}
