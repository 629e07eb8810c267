//! War-room views built once per change of an incident and shared by every
//! watcher: when a note reaches a thousand open war rooms, the first refetch
//! builds the view and the others wait for it, then each gets the same
//! [`Shared`] room (serialized once) beside the flags of what its person may do.

use super::incidents::Room;
use super::shared::Shared;
use super::ApiError;
use crate::store::incidents::Window;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::OnceCell;

/// How many views (incident x window) are kept; the least recently used goes.
const KEPT: usize = 64;

/// The shared war-room views of one server, by incident number and window.
pub type RoomCache = Versioned<(i64, Window), Shared<Room>>;

#[derive(Debug, Clone)]
struct Slot<T> {
    /// The last change-log sequence of what the value shows, when it was asked for.
    version: Option<i64>,
    used: Instant,
    value: Arc<OnceCell<T>>,
}

/// Values kept per key and version, each built once however many ask at once.
/// Every server keeps its own (a replica hears every change through the log).
#[derive(Debug)]
pub struct Versioned<K, T> {
    slots: Mutex<HashMap<K, Slot<T>>>,
}

impl<K, T> Default for Versioned<K, T> {
    fn default() -> Self {
        Versioned {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Copy, T: Clone> Versioned<K, T> {
    /// The value for `key` at `version` (the last change-log sequence of what
    /// it shows, read before building so a change during the build is not
    /// hidden), built by `build` at most once per version however many ask.
    /// A failed build is not kept.
    pub async fn get<F, Fut>(&self, key: K, version: Option<i64>, build: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let cell = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let slot = slots.entry(key).or_insert_with(|| Slot {
                version,
                used: now,
                value: Arc::default(),
            });
            // Versions only grow; an older reader (a replica that has not yet
            // seen the change) must not replace a newer view.
            if slot.version < version {
                slot.version = version;
                slot.value = Arc::default();
            }
            slot.used = now;
            let stale = slot.version > version;
            let cell = slot.value.clone();
            if slots.len() > KEPT {
                if let Some(oldest) = slots
                    .iter()
                    .min_by_key(|(_, slot)| slot.used)
                    .map(|(key, _)| *key)
                {
                    slots.remove(&oldest);
                }
            }
            (!stale).then_some(cell)
        };
        match cell {
            Some(cell) => cell.get_or_try_init(build).await.cloned(),
            None => build().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn build(n: &AtomicUsize, value: &'static str) -> Result<String, ApiError> {
        n.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok(value.to_owned())
    }

    #[tokio::test]
    async fn a_crowd_asking_at_once_builds_once_per_version() {
        let cache: Arc<Versioned<i64, String>> = Arc::default();
        let builds = Arc::new(AtomicUsize::new(0));
        let mut crowd = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (cache, builds) = (cache.clone(), builds.clone());
            crowd.spawn(async move { cache.get(1, Some(5), || build(&builds, "v5")).await });
        }
        while let Some(answer) = crowd.join_next().await {
            assert_eq!(answer.expect("joined").as_deref(), Ok("v5"));
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        // A change: the next ask builds the new version.
        let newer = cache.get(1, Some(6), || build(&builds, "v6")).await;
        assert_eq!(newer.as_deref(), Ok("v6"));
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        // A reader that has not seen the change yet gets a fresh build and
        // leaves the newer value in place.
        let older = cache.get(1, Some(5), || build(&builds, "old")).await;
        assert_eq!(older.as_deref(), Ok("old"));
        let again = cache.get(1, Some(6), || build(&builds, "unused")).await;
        assert_eq!(again.as_deref(), Ok("v6"));
    }

    #[tokio::test]
    async fn a_failed_build_is_not_kept() {
        let cache: Versioned<i64, String> = Versioned::default();
        let failed = cache
            .get(1, Some(1), || async { Err(ApiError::NotFound) })
            .await;
        assert_eq!(failed, Err(ApiError::NotFound));
        let builds = AtomicUsize::new(0);
        let later = cache.get(1, Some(1), || build(&builds, "ok")).await;
        assert_eq!(later.as_deref(), Ok("ok"));
    }

    #[tokio::test]
    async fn the_least_recently_used_goes_past_the_limit() {
        let cache: Versioned<usize, String> = Versioned::default();
        let builds = AtomicUsize::new(0);
        for key in 0..=KEPT {
            cache.get(key, None, || build(&builds, "x")).await.ok();
        }
        let kept = cache.slots.lock().map(|s| s.len()).unwrap_or_default();
        assert_eq!(kept, KEPT);
    }
}
