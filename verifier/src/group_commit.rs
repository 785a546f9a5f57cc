//! Group commit: on SQLite, signature finishes that wait for the single
//! writer are stored together in one transaction, so a burst of signed
//! submissions costs one durable commit (one fsync) instead of one each.
//!
//! Each finish verifies its assertion first (in parallel, outside any lock),
//! then queues what it will store and waits for its turn to write. Whoever
//! gets the turn takes every queued finish and stores each under a savepoint
//! of one transaction: a finish that fails rolls back to its savepoint alone,
//! and the others are stored. Nobody is answered before the transaction
//! commits (`synchronous = FULL`), so a `201` still means durable; if the
//! commit fails, every finish in the batch gets an error and none is stored.
//! The batch runs on a task of its own, so a client that goes away cannot
//! cut it short; a finish whose client went away while it was queued is
//! stored by the next batch all the same (a retry then gets its answer). On PostgreSQL each finish has its own transaction (row locks
//! let them overlap, and its WAL writer already flushes concurrent commits
//! together).

use std::sync::Mutex;

use sqlx::Acquire as _;
use tokio::sync::oneshot;

use crate::{
    AppState, Error,
    signing::{self, Finish, Stored},
};

type Reply = oneshot::Sender<Result<Stored, Error>>;

/// Finishes waiting for the writer.
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Vec<(Finish, Reply)>>,
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
                    let run = tokio::spawn(async move {
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
    let outcome = signing::store(state, &mut tx, finish).await?;
    tx.commit().await?;
    state.metrics.submission_commit();
    outcome
}

/// Stores `finishes` in one transaction, one savepoint each; their outcomes
/// in order. When the transaction itself fails, every outcome is an error.
async fn store_batch(state: &AppState, finishes: Vec<Finish>) -> Vec<Result<Stored, Error>> {
    let n = finishes.len();
    match try_store_batch(state, finishes).await {
        Ok(outcomes) => outcomes,
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

async fn try_store_batch(
    state: &AppState,
    finishes: Vec<Finish>,
) -> Result<Vec<Result<Stored, Error>>, Error> {
    let mut tx = state.store.begin().await?;
    let mut outcomes = Vec::with_capacity(finishes.len());
    for finish in finishes {
        let mut savepoint = tx.begin().await?;
        match signing::store(state, &mut savepoint, finish).await {
            Ok(outcome) => {
                savepoint.commit().await?;
                outcomes.push(outcome);
            }
            Err(e) => {
                savepoint.rollback().await?;
                outcomes.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    state.metrics.submission_commit();
    Ok(outcomes)
}
