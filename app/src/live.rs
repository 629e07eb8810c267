//! Live change events: the store's committed writes, fanned out to connected browsers.
//!
//! One small interface, so a PostgreSQL LISTEN/NOTIFY source can replace the
//! in-process channel when several replicas share a database.

use tokio::sync::broadcast;

/// What changed, by id only; browsers refetch through the server functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Something in incident number `n` (or the incident list) changed.
    Incident(i64),
}

impl Change {
    /// The text sent to browsers: "incident:12".
    pub fn wire(&self) -> String {
        match self {
            Change::Incident(number) => format!("incident:{number}"),
        }
    }
}

/// The in-process event source.
#[derive(Clone, Debug)]
pub struct Events {
    sender: broadcast::Sender<Change>,
}

impl Events {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Events { sender }
    }

    /// Announces a committed change. Nobody listening is fine.
    pub fn publish(&self, change: Change) {
        let _ = self.sender.send(change);
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
