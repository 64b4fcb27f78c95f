//! One handle for every background part: ask it to stop, then wait for it.

use std::future::Future;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running background part; [`Handle::stop`] asks it to stop after the work in hand and
/// waits until it has.
#[derive(Debug)]
pub struct Handle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The part's side of a [`Handle`]: tells it whether, and when, it was asked to stop.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once a stop is asked for (or the handle is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Handle {
    /// Runs `part` on the runtime; it should return soon after its [`Stop`] is requested.
    pub fn spawn<F, Fut>(part: F) -> Self
    where
        F: FnOnce(Stop) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(part(Stop(stopped)));
        Self { stop, task }
    }

    /// Asks the part to stop and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
