//! Group commit: on SQLite, signature finishes that wait for the single
//! writer are stored together in one transaction, so a burst of signed
//! submissions costs one durable commit (one fsync) instead of one each.
//!
//! Each finish verifies its assertion first (in parallel, outside any lock),
//! then queues what it will store and waits for its turn to write. Whoever
//! gets the turn takes every queued finish and stores them all in one
//! transaction, on a thread of its own ([`WriterThread`]). If one fails, that
//! transaction is rolled back and the batch stored again with a savepoint
//! each: the failing finish rolls back alone, and the others are stored.
//! Nobody is answered before the transaction commits (`synchronous = FULL`),
//! so a `201` still means durable; if the commit fails, every finish in the
//! batch gets an error and none is stored. The batch runs on a task of its
//! own, so a client that goes away cannot cut it short; a finish whose client
//! went away while it was queued is stored by the next batch all the same (a
//! retry then gets its answer). On PostgreSQL each finish has its own
//! transaction (row locks let them overlap, and its WAL writer already
//! flushes concurrent commits together).

use std::future::Future;
use std::sync::{Mutex, OnceLock};

use sqlx::Acquire as _;
use tokio::{runtime::Handle, sync::oneshot, task::JoinHandle};

use crate::{
    AppState, Error,
    signing::{self, Finish, Outcome, Stored},
};

type Reply = oneshot::Sender<Result<Stored, Error>>;

/// Finishes waiting for the writer.
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Vec<(Finish, Reply)>>,
    thread: WriterThread,
}

impl GroupCommit {
    /// Stores `finish` durably, together with the finishes waiting for the
    /// writer at the same time; answers once its transaction has committed.
    pub async fn store(&self, state: &AppState, finish: Finish) -> Result<Stored, Error> {
        let Some(writer) = state.store.writer() else {
            return store_alone(state, finish).await;
        };
        let (reply, mut answer) = oneshot::channel();
        self.queue().push((finish, reply));
        tokio::select! {
            biased;
            // An earlier batch took this finish along.
            answer = &mut answer => return answered(answer),
            turn = writer.lock_owned() => {
                let batch = std::mem::take(&mut *self.queue());
                if !batch.is_empty() {
                    let state = state.clone();
                    let run = self.thread.spawn(async move {
                        let (finishes, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                        let outcomes = store_batch(&state, finishes).await;
                        drop(turn);
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(outcome);
                        }
                    });
                    let _ = run.await;
                }
            }
        }
        answered(answer.await)
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<(Finish, Reply)>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The thread batches run on: a single-threaded runtime of its own. A batch
/// makes its statement round trips to the database one after another while
/// every other finish waits for the writer; on the shared runtime each of those
/// continuations would queue behind request work (signature verification,
/// JSON) on busy workers, stretching the one serial part of storing a
/// submission (measured: 1.3–1.4× the submissions/s at concurrency 16 and 64,
/// docs/benchmarks.md).
#[derive(Default)]
struct WriterThread {
    /// Started on first use; `None` if it could not be (the batches then run
    /// on the shared runtime). Dropping the sender stops the thread.
    runtime: OnceLock<Option<(Handle, oneshot::Sender<()>)>>,
}

impl WriterThread {
    fn spawn<F>(&self, batch: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.runtime.get_or_init(start_writer_thread) {
            Some((handle, _)) => handle.spawn(batch),
            None => tokio::spawn(batch),
        }
    }
}

fn start_writer_thread() -> Option<(Handle, oneshot::Sender<()>)> {
    let started = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| {
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name("recordpass-writer".into())
                // Runs the batches spawned on it until the sender goes away.
                .spawn(move || runtime.block_on(async { _ = stopped.await }))
                .map(|_| (handle, stop))
        });
    started
        .inspect_err(|e| tracing::warn!(error = %e, "group commit: no writer thread; batches share the runtime"))
        .ok()
}

fn answered(
    answer: Result<Result<Stored, Error>, oneshot::error::RecvError>,
) -> Result<Stored, Error> {
    answer.unwrap_or_else(|_| {
        Err(Error::Internal(
            "group commit: the batch ended without an answer".into(),
        ))
    })
}

/// One finish in its own transaction (PostgreSQL).
async fn store_alone(state: &AppState, finish: Finish) -> Result<Stored, Error> {
    let mut tx = state.store.begin().await?;
    let outcome = signing::store(state, &mut tx, &finish).await?;
    tx.commit().await?;
    state.metrics.submission_commit();
    finish.answer(outcome)
}

/// Stores `finishes` in one transaction; their answers in order. When the
/// transaction itself fails, every answer is an error.
async fn store_batch(state: &AppState, finishes: Vec<Finish>) -> Vec<Result<Stored, Error>> {
    let n = finishes.len();
    match try_store_batch(state, &finishes).await {
        Ok(outcomes) => finishes
            .into_iter()
            .zip(outcomes)
            .map(|(finish, outcome)| outcome.and_then(|o| finish.answer(o)))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, finishes = n, "group commit failed: nothing in it was stored");
            let mut outcomes: Vec<Result<Stored, Error>> = (1..n)
                .map(|_| Err(Error::Internal(format!("group commit: {e}"))))
                .collect();
            outcomes.insert(0, Err(e));
            outcomes
        }
    }
}

/// Usually every finish of a batch stores cleanly, so the batch is stored
/// without savepoints (two statement round trips fewer per finish on the
/// serial path). If one fails, that transaction is rolled back and the batch
/// is stored again with a savepoint each, so the failing finish fails alone.
async fn try_store_batch(
    state: &AppState,
    finishes: &[Finish],
) -> Result<Vec<Result<Outcome, Error>>, Error> {
    match store_all(state, finishes, Savepoints::No).await? {
        Some(outcomes) => Ok(outcomes),
        None => store_all(state, finishes, Savepoints::Each)
            .await?
            .ok_or_else(|| Error::Internal("group commit: a savepoint did not isolate".into())),
    }
}

#[derive(Clone, Copy)]
enum Savepoints {
    /// None: the first failure rolls everything back.
    No,
    /// One per finish: a failure rolls back that finish alone.
    Each,
}

/// Stores every finish in one transaction and commits it; `None` (nothing
/// stored) if a finish fails without savepoints.
async fn store_all(
    state: &AppState,
    finishes: &[Finish],
    savepoints: Savepoints,
) -> Result<Option<Vec<Result<Outcome, Error>>>, Error> {
    let mut tx = state.store.begin().await?;
    let mut outcomes = Vec::with_capacity(finishes.len());
    for finish in finishes {
        let outcome = match savepoints {
            Savepoints::No => match signing::store(state, &mut tx, finish).await {
                Ok(outcome) => Ok(outcome),
                Err(e) => {
                    tracing::debug!(error = %e, "group commit: a finish failed; storing the batch again with savepoints");
                    tx.rollback().await?;
                    return Ok(None);
                }
            },
            Savepoints::Each => {
                let mut savepoint = tx.begin().await?;
                let outcome = signing::store(state, &mut savepoint, finish).await;
                match outcome {
                    Ok(_) => savepoint.commit().await?,
                    Err(_) => savepoint.rollback().await?,
                }
                outcome
            }
        };
        outcomes.push(outcome);
    }
    tx.commit().await?;
    state.metrics.submission_commit();
    Ok(Some(outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Sends on drop: tells the test when the writer's runtime let go of a task.
    struct Dropped(std::sync::mpsc::Sender<()>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[tokio::test]
    async fn batches_run_on_the_writer_thread_which_stops_with_its_group_commit() {
        let writer = WriterThread::default();
        let name = writer
            .spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .expect("runs");
        assert_eq!(name.as_deref(), Some("recordpass-writer"));

        // A task that never ends is dropped when the thread's runtime stops.
        let (tx, rx) = std::sync::mpsc::channel();
        let guard = Dropped(tx);
        drop(writer.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        assert!(rx.try_recv().is_err(), "still running");
        drop(writer);
        let stopped = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(5)));
        assert!(
            stopped.await.expect("joins").is_ok(),
            "the writer thread stopped"
        );
    }
}
