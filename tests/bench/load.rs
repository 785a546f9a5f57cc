//! The verifier's load: virtual users each signing requests back to back, at a
//! given concurrency, for a given time; throughput and latency per run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::client::ana_request;
use crate::stats::{median, percentile_ms};
use recordpass_tests::user::{Error, Target, VirtualUser};

/// The email of the tests' sample request (`tests/api/client.rs`).
const SAMPLE_EMAIL: &str = "ana@example.org";

/// Registers `n` users (email code, passkey) who sign the tests' sample
/// request; untimed. One after the other: they share an address, so each
/// must read its own code before the next asks for one.
pub async fn register_users(target: &Arc<Target>, n: usize) -> Result<Vec<VirtualUser>, Error> {
    let mut users = Vec::with_capacity(n);
    for _ in 0..n {
        users.push(VirtualUser::register(target.clone(), SAMPLE_EMAIL, ana_request()).await?);
    }
    Ok(users)
}

/// One timed run at one concurrency.
pub struct Run {
    /// Signed submissions completed.
    pub completed: usize,
    /// Wall time from the first start to the last finish.
    pub elapsed: Duration,
    /// Each submission's start-to-finish latency.
    pub latencies: Vec<Duration>,
}

impl Run {
    /// Submissions per second.
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Each of `users` submits back to back until `duration` has passed (at least
/// once each); the users come back for the next run.
pub async fn run(
    users: Vec<VirtualUser>,
    duration: Duration,
) -> Result<(Vec<VirtualUser>, Run), Error> {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = users
        .into_iter()
        .map(|mut user| {
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let t = Instant::now();
                    user.submit().await?;
                    latencies.push(t.elapsed());
                    if Instant::now() >= deadline {
                        return Ok::<_, Error>((user, latencies));
                    }
                }
            })
        })
        .collect();
    let mut users = Vec::with_capacity(tasks.len());
    let mut latencies = Vec::new();
    for task in tasks {
        let (user, mut own) = task.await.map_err(|e| e.to_string())??;
        users.push(user);
        latencies.append(&mut own);
    }
    let elapsed = start.elapsed();
    let completed = latencies.len();
    Ok((
        users,
        Run {
            completed,
            elapsed,
            latencies,
        },
    ))
}

/// How a concurrency level is measured.
#[derive(Clone, Copy)]
pub struct Plan {
    /// Untimed run first (warms caches, the pool, the WAL).
    pub warmup: Duration,
    /// Timed runs; the report takes their medians.
    pub runs: usize,
    /// Length of each timed run.
    pub duration: Duration,
}

/// Runs `plan` at `concurrency` with the first `concurrency` of `users`:
/// median submissions/s, p50 and p99 (ms) over the runs, as JSON.
pub async fn level(
    users: &mut Vec<VirtualUser>,
    concurrency: usize,
    plan: Plan,
) -> Result<Value, Error> {
    let rest = users.split_off(concurrency.min(users.len()));
    let mut active = std::mem::take(users);
    if !plan.warmup.is_zero() {
        active = run(active, plan.warmup).await?.0;
    }
    let (mut rates, mut p50s, mut p99s, mut total) = (vec![], vec![], vec![], 0);
    for _ in 0..plan.runs {
        let (back, mut r) = run(active, plan.duration).await?;
        active = back;
        rates.push(r.per_second());
        p50s.push(percentile_ms(&mut r.latencies, 50.0));
        p99s.push(percentile_ms(&mut r.latencies, 99.0));
        total += r.completed;
    }
    *users = active;
    users.extend(rest);
    Ok(json!({
        "concurrency": concurrency,
        "runs": plan.runs,
        "submissions": total,
        "per_second": median(&rates),
        "p50_ms": median(&p50s),
        "p99_ms": median(&p99s),
        "per_second_runs": rates,
    }))
}
