//! The process's one listener on the notification channels (conversations and support
//! tickets from their projections, admin notifications from `stream::notifications`), shared
//! by every connected client through a broadcast channel.

use projections::conversations::{ConversationChange, CHANNEL};
use projections::tickets::{TicketChange, TICKET_CHANNEL};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::notifications::{Raised, CHANNEL as NOTIFICATION_CHANNEL};
use tokio::sync::{broadcast, OnceCell};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// How many signals a slow client may fall behind before it is told to resync.
const BUFFER: usize = 4096;

/// What a client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// A conversation changed.
    Change(ConversationChange),
    /// A support ticket changed.
    Ticket(TicketChange),
    /// An admin notification was raised.
    Notification(Raised),
    /// Changes may have been missed: reload what is shown.
    Resync,
}

/// Conversation and ticket changes, from the database's notifications. Cheap to clone; the listener
/// starts with the first subscriber, so processes nobody streams from hold no connection.
#[derive(Clone)]
pub struct Changes {
    pool: PgPool,
    sender: Arc<OnceCell<broadcast::Sender<Signal>>>,
    /// Cancelled when the server shuts down: open streams end so it can finish.
    closing: CancellationToken,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("listening", &self.sender.initialized())
            .field("closing", &self.closing.is_cancelled())
            .finish()
    }
}

impl Changes {
    /// Changes announced in the database behind `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            sender: Arc::default(),
            closing: CancellationToken::new(),
        }
    }

    /// Ends every open stream (and each opened later at once): the server is shutting down,
    /// and a graceful shutdown waits for the responses in flight, which a stream never ends
    /// by itself. Clients reconnect to another instance, or to this one once restarted.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Resolves once [`Changes::close`] was called.
    pub fn closed(&self) -> WaitForCancellationFutureOwned {
        self.closing.clone().cancelled_owned()
    }

    /// A receiver of every change from now on. Returns once the listener listens, so a
    /// change committed after this returns is never missed.
    pub async fn subscribe(&self) -> Result<broadcast::Receiver<Signal>, sqlx::Error> {
        let sender = self
            .sender
            .get_or_try_init(|| async {
                let mut listener = PgListener::connect_with(&self.pool).await?;
                listener
                    .listen_all([CHANNEL, TICKET_CHANNEL, NOTIFICATION_CHANNEL])
                    .await?;
                let (sender, _) = broadcast::channel(BUFFER);
                tokio::spawn(relay(self.pool.clone(), listener, sender.clone()));
                Ok::<_, sqlx::Error>(sender)
            })
            .await?;
        Ok(sender.subscribe())
    }
}

/// Forwards notifications until the pool is closed, reconnecting after failures.
#[tracing::instrument(name = "relaying conversation changes to stream clients", skip_all)]
async fn relay(pool: PgPool, mut listener: PgListener, sender: broadcast::Sender<Signal>) {
    // The listener's connection is its own: without this it would outlive the pool and keep
    // the database open.
    let closed = pool.close_event();
    tokio::pin!(closed);
    loop {
        let received = tokio::select! {
            biased;
            _ = &mut closed => return,
            received = listener.try_recv() => received,
        };
        match received {
            Ok(Some(n)) if n.channel() == TICKET_CHANNEL => {
                match serde_json::from_str::<TicketChange>(n.payload()) {
                    Ok(change) => drop(sender.send(Signal::Ticket(change))),
                    Err(e) => tracing::warn!(error = %e, "an unreadable ticket change"),
                }
            }
            Ok(Some(n)) if n.channel() == NOTIFICATION_CHANNEL => {
                match serde_json::from_str::<Raised>(n.payload()) {
                    Ok(raised) => drop(sender.send(Signal::Notification(raised))),
                    Err(e) => tracing::warn!(error = %e, "an unreadable admin notification"),
                }
            }
            Ok(Some(n)) => match serde_json::from_str::<ConversationChange>(n.payload()) {
                // No receiver right now is fine: nobody is watching.
                Ok(change) => drop(sender.send(Signal::Change(change))),
                Err(e) => tracing::warn!(error = %e, "an unreadable conversation change"),
            },
            // The connection was lost and will be re-established on the next call;
            // whatever was announced meanwhile is gone.
            Ok(None) => drop(sender.send(Signal::Resync)),
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                tracing::warn!(error = %e, "listening for conversation changes failed; retrying");
                drop(sender.send(Signal::Resync));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
