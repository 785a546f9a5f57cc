//! Encryption at rest: personal data never reaches the database (the SQLite
//! file, or a `pg_dump` of PostgreSQL) in clear,
//! the queue still finds patients by name (blind index), and `rotate-key`
//! re-seals everything under a new key, resuming after an interruption, and
//! proves it finished (`--check`, the final pass).

use recordpass_tests::{TestVerifier, postgres, verifier_cli};
use recordpass_verifier::{
    Store,
    evidence::{Exporter, to_pretty_json, verify_bundle},
    rekey,
    vault::{Field, Vault},
};
use sqlx::Row as _;
use std::sync::Arc;

use crate::{client::Requester, evidence::run};

const USER_AGENT: &str = "Mozilla/5.0 (AtRestTest) SoftPasskey/0.6";

/// Signs Ana's request `times` times with one passkey; returns the request numbers.
async fn sign(verifier: &TestVerifier, times: usize) -> Vec<String> {
    let mut ana = Requester::new(verifier).with_user_agent(USER_AGENT);
    ana.register_and_sign(times).await
}

/// Everything the database holds as stored bytes: the SQLite file and its
/// write-ahead log, or a `pg_dump` of the PostgreSQL database.
pub(crate) fn raw_database(verifier: &TestVerifier) -> Vec<u8> {
    let url = &verifier.config.database_url;
    match url.strip_prefix("sqlite://") {
        Some(path) => {
            let mut bytes = std::fs::read(path).expect("database file");
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            bytes
        }
        None => postgres::cluster().dump(url),
    }
}

/// Every sealed value in the columns holding personal data.
async fn sealed_values(verifier: &TestVerifier) -> Vec<String> {
    let mut values = Vec::new();
    for (table, column) in [
        ("submissions", "document"),
        ("submission_evidence", "client_ip"),
        ("submission_evidence", "user_agent"),
        ("requesters", "email"),
    ] {
        let sql = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL");
        let rows = sqlx::query(&sql)
            .fetch_all(verifier.store.pool())
            .await
            .expect("select");
        assert!(!rows.is_empty(), "{table}.{column} has rows");
        values.extend(rows.iter().map(|r| r.get::<String, _>(0)));
    }
    values
}

#[tokio::test]
async fn personal_data_never_reaches_the_database_file_in_clear() {
    let verifier = TestVerifier::start().await;
    let numbers = sign(&verifier, 1).await;

    let bytes = raw_database(&verifier);
    assert!(
        bytes
            .windows(b"patient_name_tokens".len())
            .any(|w| w == b"patient_name_tokens"),
        "read the database"
    );
    for secret in [
        "Ana María Pérez",
        "Pérez",
        "ana@example.org",
        "1984-03-07",
        "AtRestTest",
        "127.0.0.1",
    ] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret:?} is in the database file in clear"
        );
    }
    for value in sealed_values(&verifier).await {
        assert!(value.starts_with("rp1:test-1:"), "{value}");
    }
    // Read back through the store, the data is intact.
    let stored = verifier
        .store
        .submission(&numbers[0])
        .await
        .expect("read")
        .expect("stored");
    assert!(stored.document.contains("Ana María Pérez"));
    let evidence = verifier
        .store
        .signing_evidence(&numbers[0])
        .await
        .expect("read")
        .expect("evidence");
    assert_eq!(evidence.user_agent.as_deref(), Some(USER_AGENT));
    // The blind index finds her by whole words, in any case, with or without accents.
    for query in ["perez", "PÉREZ ana", "maría"] {
        let hits = verifier
            .store
            .search_patient_name(query)
            .await
            .expect("search");
        assert!(hits.contains(&numbers[0]), "{query}");
    }
    for query in ["pere", "ana smith", "luis"] {
        let hits = verifier
            .store
            .search_patient_name(query)
            .await
            .expect("search");
        assert!(hits.is_empty(), "{query}: {hits:?}");
    }
}

/// Appends a new key `id` to the test keyring (it becomes the active one);
/// returns its keyring line.
fn add_key(verifier: &TestVerifier, id: &str) -> String {
    let keyring = verifier
        .config
        .encryption
        .key_file
        .clone()
        .expect("the test keyring file");
    let old = std::fs::read_to_string(&keyring).expect("keyring");
    let (ok, out) = run(verifier_cli().args(["new-key", "--id", id]));
    assert!(ok, "{out}");
    let line = out.trim().to_owned();
    std::fs::write(&keyring, format!("{old}{line}\n")).expect("add key");
    line
}

#[tokio::test]
async fn rotate_key_reseals_everything_and_resumes_after_an_interruption() {
    let verifier = TestVerifier::start().await;
    let numbers = sign(&verifier, 3).await;
    let new_line = add_key(&verifier, "test-2");
    let rotate = |extra: &[&str]| {
        let mut cmd = verifier_cli();
        cmd.arg("--config")
            .arg(&verifier.config_path)
            .arg("rotate-key")
            .args(extra);
        run(&mut cmd)
    };

    // An interrupted run: one batch of one value.
    let (ok, out) = rotate(&["--batch-size", "1", "--max-batches", "1"]);
    assert!(ok, "{out}");
    assert!(out.contains("stopped early"), "{out}");
    let values = sealed_values(&verifier).await;
    let moved = values
        .iter()
        .filter(|v| v.starts_with("rp1:test-2:"))
        .count();
    assert_eq!(moved, 1, "{values:?}");

    // Run again: it finishes the job.
    let (ok, out) = rotate(&["--batch-size", "2"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("done: every stored value is sealed with key test-2"),
        "{out}"
    );
    assert!(out.contains("submissions.document: 2 re-sealed"), "{out}");
    for value in sealed_values(&verifier).await {
        assert!(value.starts_with("rp1:test-2:"), "{value}");
    }
    let (ok, out) = rotate(&[]);
    assert!(
        ok && out.contains("submissions.document: 0 re-sealed"),
        "{out}"
    );

    // The old key can now go: everything opens, verifies and is found with the new one alone.
    let vault = Vault::parse(&new_line, None).expect("new keyring");
    let store = Store::open(&verifier.config.database_url, Arc::new(vault))
        .await
        .expect("store with the new key only");
    let exporter = Exporter {
        rp_id: &verifier.config.relying_party.id,
        public_url: &verifier.base_url,
        seal: &verifier.seal,
        reader: recordpass_verifier::evidence::Reader::Him,
    };
    for number in &numbers {
        let bundle = exporter
            .export(&store, number, verifier.clock.unix())
            .await
            .expect("export");
        let json = to_pretty_json(&bundle).expect("json");
        let report = verify_bundle(json.as_bytes(), Some(verifier.seal.public()));
        assert!(report.ok(), "{number}: {report:?}");
    }
    let hits = store.search_patient_name("Pérez").await.expect("search");
    assert_eq!(hits.len(), 3, "{hits:?}");
}

/// Key ids differ by case: a new key `TEST-1` next to `test-1` re-seals
/// everything (SQLite's case-blind `LIKE` once took `test-1` values for
/// current and reported the job done).
#[tokio::test]
async fn rotate_key_tells_key_ids_apart_by_case() {
    let verifier = TestVerifier::start().await;
    sign(&verifier, 1).await;
    let before = sealed_values(&verifier).await;
    let old_id = before[0].split(':').nth(1).expect("key id").to_owned();
    let new_id = old_id.to_uppercase();
    assert_ne!(old_id, new_id, "the test key id has lower-case letters");
    add_key(&verifier, &new_id);
    let mut cmd = verifier_cli();
    cmd.arg("--config")
        .arg(&verifier.config_path)
        .arg("rotate-key");
    let (ok, out) = run(&mut cmd);
    assert!(ok, "{out}");
    assert!(out.contains("submissions.document: 1 re-sealed"), "{out}");
    for value in sealed_values(&verifier).await {
        assert!(value.starts_with(&format!("rp1:{new_id}:")), "{value}");
    }
}

/// Runs `rotate-key` with `args` against `verifier`'s configuration.
fn rotate_key(verifier: &TestVerifier, args: &[&str]) -> (bool, String) {
    let mut cmd = verifier_cli();
    cmd.arg("--config")
        .arg(&verifier.config_path)
        .arg("rotate-key")
        .args(args);
    run(&mut cmd)
}

/// Adds timeline entry `id` to request `number`, sealed as this verifier seals
/// it: with the key that was active when it started (`test-1`), like an
/// instance not yet told about a new active key.
async fn insert_event(verifier: &TestVerifier, id: i64, number: &str, text: &str) {
    let sealed = verifier
        .store
        .vault()
        .seal(Field::EventText, number, text)
        .expect("seal");
    sqlx::query(
        "INSERT INTO request_events (id, request_number, at, actor, kind, status, text)
         VALUES ($1, $2, $3, 'test', 'note', NULL, $4)",
    )
    .bind(id)
    .bind(number)
    .bind(verifier.clock.unix())
    .bind(sealed)
    .execute(verifier.store.pool())
    .await
    .expect("insert event");
}

/// Every timeline entry: id and the key id it is sealed with, by id.
async fn event_keys(verifier: &TestVerifier) -> Vec<(i64, String)> {
    let rows = sqlx::query("SELECT id, text FROM request_events ORDER BY id")
        .fetch_all(verifier.store.pool())
        .await
        .expect("select events");
    rows.iter()
        .map(|r| {
            let text: String = r.get("text");
            let key = Vault::sealed_key_id(&text).expect("sealed").to_owned();
            (r.get("id"), key)
        })
        .collect()
}

#[tokio::test]
async fn rotate_key_check_counts_values_per_key_and_names_keys_missing_from_the_keyring() {
    let verifier = TestVerifier::start().await;
    sign(&verifier, 2).await;
    let (ok, out) = rotate_key(&verifier, &["--check"]);
    assert!(ok, "{out}");
    assert!(out.contains("submissions.document: test-1 2\n"), "{out}");
    assert!(out.contains("requesters.email: test-1 1\n"), "{out}");

    let new_line = add_key(&verifier, "test-2");
    let (ok, out) = rotate_key(&verifier, &["--check"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("active key test-2; keyring: test-1, test-2\n"),
        "{out}"
    );
    assert!(
        out.contains("submissions.document: test-1 2, test-2 0\n"),
        "{out}"
    );
    assert!(out.contains("key test-1: seals "), "{out}");
    assert!(out.contains("keep it until rotate-key"), "{out}");
    // It only counts.
    for value in sealed_values(&verifier).await {
        assert!(value.starts_with("rp1:test-1:"), "{value}");
    }

    // The old key removed too early: its values cannot be opened, and --check says so.
    let keyring = verifier
        .config
        .encryption
        .key_file
        .clone()
        .expect("keyring");
    let both = std::fs::read_to_string(&keyring).expect("keyring");
    std::fs::write(&keyring, format!("{new_line}\n")).expect("new key only");
    let (ok, out) = rotate_key(&verifier, &["--check"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("submissions.document: test-2 0, test-1 2 (not in the keyring)\n"),
        "{out}"
    );
    assert!(out.contains("sealed with keys not in the keyring"), "{out}");
    std::fs::write(&keyring, both).expect("keyring restored");

    let (ok, out) = rotate_key(&verifier, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("  submissions.document: 0\n"), "{out}");
    assert!(
        out.contains("done: every stored value is sealed with key test-2"),
        "{out}"
    );
    let (ok, out) = rotate_key(&verifier, &["--check"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("submissions.document: test-1 0, test-2 2\n"),
        "{out}"
    );
    assert!(
        out.contains("requesters.email: test-1 0, test-2 1\n"),
        "{out}"
    );
    assert!(
        out.contains("key test-1: seals no value; it can be removed from the keyring"),
        "{out}"
    );

    let (ok, out) = rotate_key(&verifier, &["--check", "--batch-size", "5"]);
    assert!(!ok && out.contains("cannot be used with"), "{out}");
}

/// A value sealed with the old key after its column was re-sealed (by an
/// instance still sealing with the old key) keeps the rotation from being
/// `done`: the final pass counts it, `--check` names its key, and the next run
/// picks it up.
#[tokio::test]
async fn a_value_sealed_with_the_old_key_behind_the_rotation_is_found_by_the_final_pass() {
    let verifier = TestVerifier::start().await;
    let numbers = sign(&verifier, 1).await;
    add_key(&verifier, "test-2");
    let keyring = verifier
        .config
        .encryption
        .key_file
        .clone()
        .expect("keyring");
    let vault = Vault::load(&keyring, None).expect("keyring with both keys");
    let rotating = Store::open(&verifier.config.database_url, Arc::new(vault))
        .await
        .expect("store sealing with test-2");

    let mut budget = None;
    for field in Field::ALL {
        let report = rekey::rotate_column(&rotating, field, 200, &mut budget)
            .await
            .expect("rotate");
        assert!(report.complete, "{report:?}");
        if field == Field::EventText {
            // This verifier started before test-2 existed: it still seals with test-1.
            insert_event(&verifier, 1, &numbers[0], "written behind the rotation").await;
        }
    }
    let census = rekey::census(&rotating).await.expect("census");
    let (text, left) = census.final_check("test-2");
    assert_eq!(left, 1, "{text}");
    assert!(text.contains("  request_events.text: 1\n"), "{text}");
    assert!(text.contains("  submissions.document: 0\n"), "{text}");
    assert!(
        text.contains("not done: 1 value not sealed with key test-2"),
        "{text}"
    );
    assert!(!text.contains("done: every"), "{text}");

    let (ok, out) = rotate_key(&verifier, &["--check"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("request_events.text: test-1 1, test-2 0\n"),
        "{out}"
    );
    assert!(out.contains("key test-1: seals 1 value; keep it"), "{out}");

    let (ok, out) = rotate_key(&verifier, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("request_events.text: 1 re-sealed"), "{out}");
    assert!(out.contains("  request_events.text: 0\n"), "{out}");
    assert!(
        out.contains("done: every stored value is sealed with key test-2"),
        "{out}"
    );
}

/// Timeline entries are paged and updated by their integer id (ids 2, 10 and
/// 100 sort 10, 100, 2 as text), and each batch resumes after the last.
#[tokio::test]
async fn rotate_key_goes_through_request_events_by_integer_id() {
    let verifier = TestVerifier::start().await;
    let numbers = sign(&verifier, 1).await;
    let new_line = add_key(&verifier, "test-2");
    let (ok, out) = rotate_key(&verifier, &[]);
    assert!(ok && out.contains("done: every stored value"), "{out}");
    for id in [100, 2, 10] {
        insert_event(&verifier, id, &numbers[0], &format!("note {id}")).await;
    }

    let one = ["--batch-size", "1", "--max-batches", "1"];
    let (ok, out) = rotate_key(&verifier, &one);
    assert!(ok, "{out}");
    assert!(out.contains("request_events.text: 1 re-sealed"), "{out}");
    assert!(out.contains("stopped early"), "{out}");
    let key = |k: &str| k.to_owned();
    assert_eq!(
        event_keys(&verifier).await,
        [
            (2, key("test-2")),
            (10, key("test-1")),
            (100, key("test-1"))
        ]
    );
    let (ok, out) = rotate_key(&verifier, &one);
    assert!(ok && out.contains("stopped early"), "{out}");
    assert_eq!(
        event_keys(&verifier).await,
        [
            (2, key("test-2")),
            (10, key("test-2")),
            (100, key("test-1"))
        ]
    );
    let (ok, out) = rotate_key(&verifier, &["--batch-size", "1"]);
    assert!(ok, "{out}");
    assert!(out.contains("request_events.text: 1 re-sealed"), "{out}");
    assert!(out.contains("done: every stored value"), "{out}");

    // Each opens with the new key alone, still bound to its request.
    let vault = Vault::parse(&new_line, None).expect("new keyring");
    let rows = sqlx::query("SELECT id, text FROM request_events ORDER BY id")
        .fetch_all(verifier.store.pool())
        .await
        .expect("select events");
    for r in rows {
        let (id, text): (i64, String) = (r.get("id"), r.get("text"));
        let plain = vault
            .open(Field::EventText, &numbers[0], &text)
            .expect("opens");
        assert_eq!(plain, format!("note {id}"));
    }
}
