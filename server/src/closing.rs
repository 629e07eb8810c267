//! Shutting down: open event streams end so browsers reconnect (to another
//! replica, or to this one once it is back), and the process exits even if a
//! request is still running after a grace period.

use std::future::{Future, IntoFuture};
use std::time::Duration;
use tokio::sync::watch;

/// How long requests still running at shutdown may take to finish.
pub const GRACE: Duration = Duration::from_secs(10);

/// Whether the server is shutting down. Cloned into whatever must stop then.
#[derive(Clone, Debug)]
pub struct Closing(watch::Sender<bool>);

impl Default for Closing {
    fn default() -> Self {
        Self(watch::Sender::new(false))
    }
}

impl Closing {
    /// Starts shutting down. Idempotent.
    pub fn close(&self) {
        self.0.send_replace(true);
    }

    /// A receiver whose `wait_for(|c| *c)` resolves once shutdown starts.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }

    /// Resolves once shutdown has started (or no sender is left).
    pub fn when_closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut watch = self.watch();
        async move {
            let _ = watch.wait_for(|closing| *closing).await;
        }
    }
}

/// Runs `server` (an `axum::serve(…)` with
/// `.with_graceful_shutdown(closing.when_closed())`) until it has finished
/// after shutdown began, or until `grace` has passed since then.
pub async fn serve<S>(server: S, closing: Closing, grace: Duration) -> std::io::Result<()>
where
    S: IntoFuture<Output = std::io::Result<()>>,
{
    let deadline = async {
        closing.when_closed().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server.into_future() => served,
        () = deadline => {
            tracing::warn!("requests still running {grace:?} after shutdown began; stopping anyway");
            Ok(())
        }
    }
}
