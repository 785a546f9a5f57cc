//! Nothing acknowledged is lost: the real verifier binary takes a burst of
//! concurrent signed submissions, is killed with SIGKILL in the middle, and is
//! started again on the same database (SQLite or PostgreSQL, as the suite runs). Every submission it acknowledged is
//! there and its evidence bundle verifies; nothing is duplicated or half-written.

use recordpass_request::api::Submitted;
use recordpass_tests::{
    LOAD_LIMITS, TestDatabase, config_toml,
    process::{VerifierProcess, verifier_bin},
    smtp::SmtpServer,
    user::{Target, VirtualUser},
    write_keyring,
};
use recordpass_verifier::{
    Store,
    evidence::{Exporter, to_pretty_json, verify_bundle},
    seal::SealKey,
};
use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::client::ana_request;

/// Concurrent requesters in the burst.
const USERS: usize = 8;
/// Acknowledgements to wait for before the kill.
const KILL_AFTER: usize = 3 * USERS;

async fn start(config: &Path, log: PathBuf) -> VerifierProcess {
    let (bin, config) = (verifier_bin(), config.to_owned());
    tokio::task::spawn_blocking(move || VerifierProcess::start(&bin, &config, &log))
        .await
        .expect("join")
        .map(|(verifier, _)| verifier)
        .expect("verifier starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_submission_survives_kill_9() {
    let dir = tempfile::tempdir().expect("dir");
    let database = TestDatabase::from_env();
    let database_url = database.create(dir.path()).await;
    let keyring = write_keyring(dir.path());
    let smtp = Arc::new(SmtpServer::start().await);
    let config_text = config_toml(
        &database_url,
        &keyring,
        &dir.path().join("no-widget"),
        "smtp",
        smtp.addr.port(),
        LOAD_LIMITS,
    );
    let config_path = dir.path().join("crash.toml");
    std::fs::write(&config_path, &config_text).expect("config");
    let mut verifier = start(&config_path, dir.path().join("first.log")).await;

    let target = Arc::new(Target::external(verifier.base_url.clone(), smtp.clone()));
    let mut users = Vec::new();
    for _ in 0..USERS {
        let user = VirtualUser::register(target.clone(), "ana@example.org", ana_request()).await;
        users.push(user.expect("registered"));
    }
    // The burst: each user signs back to back until the verifier is gone.
    let acked: Arc<Mutex<Vec<Submitted>>> = Arc::default();
    let mut tasks = Vec::new();
    for mut user in users {
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            while let Ok(submitted) = user.submit().await {
                acked.lock().expect("lock").push(submitted);
            }
        }));
    }
    while acked.lock().expect("lock").len() < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    verifier.kill_hard();
    for task in tasks {
        task.await.expect("user task");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= KILL_AFTER);

    // Started again on the same files, it recovers and serves.
    let verifier = start(&config_path, dir.path().join("second.log")).await;
    let ready = reqwest::get(format!("{}/readyz", verifier.base_url))
        .await
        .expect("readyz");
    assert!(ready.status().is_success());
    drop(verifier);

    let config: recordpass_verifier::Config = toml::from_str(&config_text).expect("config");
    let vault = config.encryption.vault().expect("keyring");
    let store = Store::open(&config.database_url, Arc::new(vault))
        .await
        .expect("database opens");
    if database == TestDatabase::Sqlite {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(store.pool())
            .await
            .expect("integrity check");
        assert_eq!(integrity, "ok");
    }
    let stored = store.submissions().await.expect("submissions");
    let numbers: HashSet<&str> = stored.iter().map(|s| s.request_number.as_str()).collect();
    let ceremonies: HashSet<&str> = stored.iter().map(|s| s.ceremony_id.as_str()).collect();
    eprintln!(
        "crash test: {} acknowledged before SIGKILL, {} stored",
        acked.len(),
        stored.len()
    );
    assert_eq!(numbers.len(), stored.len(), "no request number twice");
    assert_eq!(ceremonies.len(), stored.len(), "no ceremony stored twice");
    // At most one unacknowledged submission per user can have committed just
    // before the kill (its answer lost on the way back).
    assert!(
        stored.len() <= acked.len() + USERS,
        "{} stored, {} acknowledged",
        stored.len(),
        acked.len()
    );
    for a in &acked {
        let s = stored
            .iter()
            .find(|s| s.request_number == a.request_number)
            .unwrap_or_else(|| panic!("acknowledged {} is missing", a.request_number));
        assert_eq!(s.digest, a.digest.to_hex(), "{}", a.request_number);
    }

    // Every stored submission is whole: evidence, index entries, a bundle that verifies.
    let seal = SealKey::load(&config, &store).await.expect("seal key");
    let exporter = Exporter {
        rp_id: &config.relying_party.id,
        public_url: "http://localhost",
        seal: &seal,
        reader: recordpass_verifier::evidence::Reader::Him,
    };
    for s in &stored {
        let tokens: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM patient_name_tokens WHERE request_number = $1",
        )
        .bind(&s.request_number)
        .fetch_one(store.pool())
        .await
        .expect("tokens");
        assert!(tokens > 0, "{} has its index entries", s.request_number);
        let bundle = exporter
            .export(&store, &s.request_number, s.received_at)
            .await
            .expect("evidence present");
        let json = to_pretty_json(&bundle).expect("json");
        let report = verify_bundle(json.as_bytes(), Some(seal.public()));
        assert!(report.ok(), "{}: {report:?}", s.request_number);
    }
}
