//! Live change events: the store's committed writes, fanned out to connected browsers.
//!
//! One small interface, so a PostgreSQL LISTEN/NOTIFY source can replace the
//! in-process channel when several replicas share a database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

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

/// The in-process event source.
#[derive(Clone, Debug)]
pub struct Events {
    sender: broadcast::Sender<Change>,
    /// Counts every change, so caches can tell they are stale without listening.
    generation: Arc<AtomicU64>,
    /// Counts the changes the public status page can show.
    public_generation: Arc<AtomicU64>,
}

impl Events {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Events {
            sender,
            generation: Arc::new(AtomicU64::new(0)),
            public_generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Announces a committed change. Nobody listening is fine.
    pub fn publish(&self, change: Change) {
        self.generation.fetch_add(1, Ordering::Release);
        if change.is_public() {
            self.public_generation.fetch_add(1, Ordering::Release);
        }
        let _ = self.sender.send(change);
    }

    /// How many changes the public could see were announced so far.
    pub fn public_generation(&self) -> u64 {
        self.public_generation.load(Ordering::Acquire)
    }

    /// How many changes were announced so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}
