//! The real binary's life cycle: `SIGTERM` stops it taking connections but lets
//! the request in flight finish, then it exits cleanly; `--log-format json`
//! writes one JSON object per line with the request id and route template, and
//! none of what the requester typed or was sent.

use recordpass_tests::{
    SITE_ID, SITE_ORIGIN, TestDatabase, config_toml,
    process::{VerifierProcess, verifier_bin},
    smtp::SmtpServer,
    write_keyring,
};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const REQUEST_ID: &str = "drain-probe-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_json_logs_carry_its_id_but_no_phi() {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = TestDatabase::from_env().create(dir.path()).await;
    let keyring = write_keyring(dir.path());
    let smtp = SmtpServer::start().await;
    let config = dir.path().join("lifecycle.toml");
    let text = config_toml(
        &database_url,
        &keyring,
        &dir.path().join("no-widget"),
        "smtp",
        smtp.addr.port(),
        "",
    );
    std::fs::write(&config, text).expect("config");
    let log = dir.path().join("verifier.log");
    let (bin, log_path) = (verifier_bin(), log.clone());
    let mut verifier = tokio::task::spawn_blocking(move || {
        VerifierProcess::start_with(&bin, &["--log-format", "json"], &config, &log_path)
    })
    .await
    .expect("join")
    .expect("verifier starts")
    .0;
    let addr = verifier.base_url.trim_start_matches("http://").to_owned();

    // A request whose body is still arriving when SIGTERM comes.
    let body = json!({"site_id": SITE_ID, "email": "ana@example.org", "lang": "en"}).to_string();
    let (head, tail) = body.split_at(12);
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    stream
        .write_all(
            format!(
                "POST /api/v1/email-codes HTTP/1.1\r\nHost: {addr}\r\nOrigin: {SITE_ORIGIN}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\
                 X-Request-Id: {REQUEST_ID}\r\n\r\n{head}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .expect("head written");
    tokio::time::sleep(Duration::from_millis(300)).await;
    verifier.terminate();

    // It stops accepting connections at once...
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "still accepting connections 2 s after SIGTERM");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        verifier.wait_exit(Duration::ZERO).is_none(),
        "exited with a request in flight"
    );

    // ...but answers the request in flight in full.
    stream
        .write_all(tail.as_bytes())
        .await
        .expect("rest of body");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("answered within 10 s")
        .expect("read");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
    assert!(
        response.contains(&format!("x-request-id: {REQUEST_ID}")),
        "{response}"
    );
    let status = tokio::task::spawn_blocking(move || verifier.wait_exit(Duration::from_secs(15)))
        .await
        .expect("join")
        .expect("exited within 15 s of its last answer");
    assert!(status.success(), "exit status {status}");

    // The code accepted before SIGTERM was still sent.
    let code = smtp
        .take_for("ana@example.org")
        .await
        .code()
        .expect("a code");

    let log = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let finished = lines
        .iter()
        .find(|l| l["span"]["request_id"] == REQUEST_ID && l["fields"]["status"] == 202)
        .unwrap_or_else(|| panic!("no finished-request line for {REQUEST_ID} in\n{log}"));
    assert_eq!(finished["span"]["route"], "/api/v1/email-codes");
    assert_eq!(finished["span"]["method"], "POST");
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "shutting down"),
        "{log}"
    );
    for secret in ["ana@example.org", "ana@", code.as_str()] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}
