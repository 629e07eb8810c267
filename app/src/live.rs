//! Live change events: the store's committed writes, fanned out to connected browsers.
//!
//! Changes enter through the change log (`store::changes`), so every replica
//! on one PostgreSQL hears every change, in the same order.

use crate::store::changes::{self, Logged};
use crate::store::Db;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};

/// Something that must hear every change before any subscriber does (a cache
/// dropping what the change made stale).
pub type Hook = Arc<dyn Fn(&Logged) + Send + Sync>;

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
    /// The account of user `id` changed (a session ended, password, role,
    /// access): never sent to browsers; caches drop what they kept of them
    /// and that person's event streams check their session at once.
    Account(i64),
    /// The alert inbox changed (a new alert group, one resolved, attached or
    /// dismissed): pages showing the inbox refetch.
    Alerts,
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

    /// The text sent to browsers ("incident:12"); `None` for what only the
    /// server needs to hear.
    pub fn wire(&self) -> Option<String> {
        match self {
            Change::Incident(number) | Change::Restricted(number) => {
                Some(format!("incident:{number}"))
            }
            Change::Status => Some("status".to_owned()),
            Change::Alerts => Some("alerts".to_owned()),
            Change::Account(_) => None,
        }
    }

    /// The incident this change is about, if any.
    pub fn incident_number(&self) -> Option<i64> {
        match self {
            Change::Incident(number) | Change::Restricted(number) => Some(*number),
            Change::Status | Change::Account(_) | Change::Alerts => None,
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
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<Logged>,
    /// Counts every change, so caches can tell they are stale without listening.
    generation: Arc<AtomicU64>,
    /// Counts the changes the public status page can show.
    public_generation: Arc<AtomicU64>,
    /// The last sequence handed out.
    seen: Arc<watch::Sender<i64>>,
    /// The last sequence handed out per incident number, for incidents that
    /// changed since this process started.
    incidents: Arc<Mutex<HashMap<i64, i64>>>,
    /// Run on every change before subscribers hear of it.
    hooks: Arc<Mutex<Vec<Hook>>>,
    /// Whether a follower runs (writers wait for it to hand out their changes).
    following: Arc<AtomicBool>,
    /// Wakes the follower right after a commit in this process.
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("seen", &self.seen())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

/// How long a writer waits for the follower to hand out its change before
/// answering anyway (the follower is reading the log at that moment, or the
/// database is struggling).
const HANDED_OUT_WITHIN: Duration = Duration::from_secs(2);

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
            seen: Arc::new(watch::Sender::new(0)),
            incidents: Arc::default(),
            hooks: Arc::default(),
            following: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Runs `hook` on every change from now on, before subscribers hear of it.
    pub fn on_change(&self, hook: Hook) {
        self.hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    /// Hands one logged change to every subscriber. Only the follower (and
    /// tests) call this: changes enter through the change log.
    pub fn publish(&self, logged: Logged) {
        if let Some(number) = logged.change.incident_number() {
            let mut incidents = self
                .incidents
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let last = incidents.entry(number).or_insert(logged.seq);
            *last = (*last).max(logged.seq);
        }
        let hooks = self
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for hook in hooks {
            hook(&logged);
        }
        self.generation.fetch_add(1, Ordering::Release);
        if logged.change.is_public() {
            self.public_generation.fetch_add(1, Ordering::Release);
        }
        self.seen.send_if_modified(|seen| {
            let newer = logged.seq > *seen;
            *seen = (*seen).max(logged.seq);
            newer
        });
        let _ = self.sender.send(logged);
    }

    /// Tells the follower that this process just committed a change whose
    /// last entry is `last`, and waits until it has handed that out: caches
    /// here no longer serve what the change replaced, and this process's
    /// streams have it, before the writer answers.
    pub async fn committed(&self, last: i64) {
        self.wake.notify_one();
        if !self.following.load(Ordering::Acquire) {
            return;
        }
        let mut seen = self.seen.subscribe();
        let handed_out = seen.wait_for(|seen| *seen >= last);
        if tokio::time::timeout(HANDED_OUT_WITHIN, handed_out)
            .await
            .is_err()
        {
            tracing::warn!(
                last,
                "change log: the follower has not handed out a change yet"
            );
        }
    }

    /// Whether a follower hands out the change log here: only then may
    /// caches keep what they read until a change says otherwise.
    pub fn is_following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    /// The last sequence handed out about incident `number`, when it changed
    /// since this process started.
    pub fn last_of_incident(&self, number: i64) -> Option<i64> {
        self.incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&number)
            .copied()
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
        *self.seen.borrow()
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
        self.following.store(true, Ordering::Release);
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
        self.seen.send_if_modified(|seen| {
            let newer = last > *seen;
            *seen = (*seen).max(last);
            newer
        });
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
