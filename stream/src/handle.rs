//! One handle for every background part (stream runners, the relay, job runners, timers):
//! ask it to stop, then wait for it.

use crate::runner::ConsumerStatus;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running background part; [`Handle::stop`] asks it to stop after the work in hand and
/// waits until it has. A stream consumer's handle also shows its live status.
#[derive(Debug)]
pub struct Handle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    status: Option<Arc<Mutex<ConsumerStatus>>>,
}

/// The part's side of a [`Handle`]: tells it whether, and when, it was asked to stop. A
/// dropped handle counts as a stop.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once a stop is asked for.
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Sleeps for `d`; true when a stop was asked for meanwhile (the sleep ends early).
    pub async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => self.requested(),
            _ = self.wait() => true,
        }
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
        Self {
            stop,
            task,
            status: None,
        }
    }

    /// The handle showing `status`, which the part keeps current.
    pub fn with_status(mut self, status: Arc<Mutex<ConsumerStatus>>) -> Self {
        self.status = Some(status);
        self
    }

    /// A copy of the part's current status (the default for a part without one).
    pub fn status(&self) -> ConsumerStatus {
        self.status
            .as_ref()
            .and_then(|s| s.lock().ok().map(|s| s.clone()))
            .unwrap_or_default()
    }

    /// A shared view of the status, for health reporting; none for a part without one.
    pub fn status_view(&self) -> Option<Arc<Mutex<ConsumerStatus>>> {
        self.status.clone()
    }

    /// Asks the part to stop and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Asks the part to stop after the work in hand, without waiting: a process stopping
    /// many parts asks them all at once, so their work in hand finishes side by side.
    pub fn request_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// [`Handle::stop`], waiting at most `grace`: a part still busy then is aborted (its
    /// open transaction rolls back, so its checkpoint stays before the unfinished batch and
    /// the next start applies it again). True when it stopped by itself.
    pub async fn stop_within(mut self, grace: Duration) -> bool {
        let _ = self.stop.send(true);
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(_) => true,
            Err(_) => {
                self.task.abort();
                let _ = self.task.await;
                false
            }
        }
    }
}
