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
    /// The public status page changed (components, maintenance windows).
    Status,
}

impl Change {
    /// The text sent to browsers: "incident:12".
    pub fn wire(&self) -> String {
        match self {
            Change::Incident(number) => format!("incident:{number}"),
            Change::Status => "status".to_owned(),
        }
    }
}

/// The in-process event source.
#[derive(Clone, Debug)]
pub struct Events {
    sender: broadcast::Sender<Change>,
    /// Counts every change, so caches can tell they are stale without listening.
    generation: Arc<AtomicU64>,
}

impl Events {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Events {
            sender,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Announces a committed change. Nobody listening is fine.
    pub fn publish(&self, change: Change) {
        self.generation.fetch_add(1, Ordering::Release);
        let _ = self.sender.send(change);
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
