//! Group commit: writes that arrive while earlier ones are in flight go to the database
//! together, in one statement.
//!
//! Under concurrent load (webhooks from many customers at once) each command would
//! otherwise write alone: a statement, a transaction and a WAL flush each. When nothing
//! else is in flight a write goes at once, alone and from the caller's own task: grouping
//! then adds neither a wait nor a hand-over to another task.

mod events;
mod keyed;

pub(crate) use events::{insert_events, EventAppends, APPEND};
pub(crate) use keyed::KeyedAppends;

use sqlx::PgPool;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, Mutex};

/// Writers taking turns on one queue: a group is written while the next one gathers.
const WRITERS: usize = 4;
/// The most writes in one statement.
const MOST_PER_GROUP: usize = 256;

/// A write's answer; a failed statement fails every write of its group.
pub(crate) type Answer<T> = Result<T, Arc<sqlx::Error>>;

/// One kind of write that can be grouped.
pub(crate) trait GroupWrite: Send + Sync + 'static {
    /// Its name in the group-size metric.
    const NAME: &'static str;
    /// One write.
    type Item: Send + 'static;
    /// Its answer.
    type Output: Send + 'static;
    /// Writes `items` in one go; one answer per item, in order.
    fn write(
        pool: &PgPool,
        items: Vec<Self::Item>,
    ) -> impl Future<Output = Vec<Answer<Self::Output>>> + Send;
}

struct Request<W: GroupWrite> {
    item: W::Item,
    reply: oneshot::Sender<Answer<W::Output>>,
}

/// The group committer of one kind of write; its writers start on first use and end when
/// it is dropped.
pub(crate) struct Grouper<W: GroupWrite> {
    pool: PgPool,
    queue: OnceLock<mpsc::UnboundedSender<Request<W>>>,
    in_flight: Arc<AtomicUsize>,
}

/// Counts a write in flight until dropped (also when its caller gives up waiting).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<W: GroupWrite> Grouper<W> {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self {
            pool,
            queue: OnceLock::new(),
            in_flight: Arc::default(),
        }
    }

    fn queue(&self) -> &mpsc::UnboundedSender<Request<W>> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..WRITERS {
                tokio::spawn(write_groups::<W>(self.pool.clone(), rx.clone()));
            }
            tx
        })
    }

    /// Writes `item` with the others in flight.
    pub(crate) async fn write(&self, item: W::Item) -> Answer<W::Output> {
        let alone = self.in_flight.fetch_add(1, Ordering::AcqRel) == 0;
        let _counted = InFlight(self.in_flight.clone());
        if alone {
            group_size::<W>(1);
            return W::write(&self.pool, vec![item])
                .await
                .pop()
                .unwrap_or_else(|| Err(Arc::new(sqlx::Error::RowNotFound)));
        }
        let (reply, answer) = oneshot::channel();
        if self.queue().send(Request { item, reply }).is_err() {
            return Err(Arc::new(sqlx::Error::PoolClosed));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(Arc::new(sqlx::Error::PoolClosed)))
    }
}

async fn write_groups<W: GroupWrite>(
    pool: PgPool,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Request<W>>>>,
) {
    loop {
        let mut group = Vec::new();
        {
            let mut rx = queue.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            group.push(first);
            while group.len() < MOST_PER_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
        }
        group_size::<W>(group.len());
        let (items, replies): (Vec<_>, Vec<_>) =
            group.into_iter().map(|r| (r.item, r.reply)).unzip();
        let answers = W::write(&pool, items).await;
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}

/// Records how many writes went in one statement: how well grouping pays under the load.
fn group_size<W: GroupWrite>(n: usize) {
    ::metrics::histogram!("atende_append_group_size", "write" => W::NAME).record(n as f64);
}
