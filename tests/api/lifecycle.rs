//! The real binary's life cycle: `SIGTERM` stops it taking connections but lets
//! the request in flight finish, then it exits cleanly; `--log-format json`
//! writes one JSON object per line with the request id and route template, and
//! none of what the requester typed or was sent; huge bodies sent at once do
//! not grow its memory, nor do many large uploads at once; start-up warns of
//! sites whose complaint phone falls back to the HIM phone.

use recordpass_tests::{
    PRIVACY_PHONE, SITE_ID, SITE_ORIGIN, TestDatabase, config_toml,
    process::{VerifierProcess, verifier_bin},
    smtp::SmtpServer,
    verifier_cli, write_keyring,
};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const REQUEST_ID: &str = "drain-probe-1";

/// The real binary with `args` before `serve`, on a fresh database, with the
/// test kit's configuration passed through `edit`; its log is `verifier.log`
/// in the returned directory.
async fn start_binary(
    smtp_port: u16,
    limits: &str,
    args: &'static [&'static str],
    edit: impl FnOnce(String) -> String,
) -> (tempfile::TempDir, VerifierProcess) {
    let dir = tempfile::tempdir().expect("dir");
    let database_url = TestDatabase::from_env().create(dir.path()).await;
    let keyring = write_keyring(dir.path());
    let config = dir.path().join("verifier.toml");
    let text = config_toml(
        &database_url,
        &keyring,
        &dir.path().join("no-widget"),
        "smtp",
        smtp_port,
        limits,
    );
    std::fs::write(&config, edit(text)).expect("config");
    let (bin, log) = (verifier_bin(), dir.path().join("verifier.log"));
    let verifier =
        tokio::task::spawn_blocking(move || VerifierProcess::start_with(&bin, args, &config, &log))
            .await
            .expect("join")
            .expect("verifier starts")
            .0;
    (dir, verifier)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_json_logs_carry_its_id_but_no_phi() {
    let smtp = SmtpServer::start().await;
    let (dir, mut verifier) =
        start_binary(smtp.addr.port(), "", &["--log-format", "json"], |c| c).await;
    let log = dir.path().join("verifier.log");
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

/// Peak resident memory of process `pid`, in bytes (`VmHWM`, Linux).
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stays_bounded_under_many_huge_bodies_at_once() {
    const CLIENTS: usize = 16;
    const BODY: usize = 10 * 1024 * 1024;
    let (_dir, verifier) = start_binary(9, recordpass_tests::LOAD_LIMITS, &[], |c| c).await;
    let http = reqwest::Client::new();
    let warm = http
        .get(format!("{}/readyz", verifier.base_url))
        .send()
        .await
        .expect("readyz");
    assert!(warm.status().is_success());
    let before = peak_memory(verifier.pid());

    // 16 clients at once, each sending 10 MiB of JSON to the signing endpoint.
    let mut body = br#"{"site_id":""#.to_vec();
    body.resize(BODY, b'a');
    let mut sends = Vec::new();
    for _ in 0..CLIENTS {
        let request = http
            .post(format!("{}/api/v1/signatures", verifier.base_url))
            .header("Origin", SITE_ORIGIN)
            .header("Content-Type", "application/json")
            .body(body.clone());
        sends.push(tokio::spawn(async move {
            match request.send().await {
                Ok(resp) => Some(resp.status().as_u16()),
                Err(_) => None, // cut off mid-body
            }
        }));
    }
    for send in sends {
        let status = send.await.expect("join");
        assert!(
            matches!(status, None | Some(413)),
            "refused with 413 or cut off, got {status:?}"
        );
    }
    let after = peak_memory(verifier.pid());
    let grew = after.saturating_sub(before);
    eprintln!(
        "memory test: peak RSS {} MiB before, {} MiB after {CLIENTS} × 10 MiB bodies (+{} KiB)",
        before / (1024 * 1024),
        after / (1024 * 1024),
        grew / 1024
    );
    // Buffering the bodies would take 160 MiB; reading each up to the 64 KiB
    // cap takes next to nothing.
    assert!(
        grew < 32 * 1024 * 1024,
        "peak memory grew by {} MiB",
        grew / (1024 * 1024)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stays_bounded_under_many_large_uploads_at_once() {
    const CLIENTS: usize = 16;
    // Each client its own address (this test is the proxy): one body per
    // address would otherwise decide the outcome, not the byte budget.
    // A debug build seals and stores a 10 MiB file in several seconds, more
    // with other tests running: this test is about memory, not speed.
    let (_dir, verifier) = start_binary(9, recordpass_tests::LOAD_LIMITS, &[], |c| {
        format!("trust_forwarded_for = true\nrequest_timeout_secs = 120\n{c}")
    })
    .await;
    // A PDF just under the 10 MiB limit.
    let size = recordpass_request::upload::MAX_UPLOAD_BYTES as usize - 1024;
    let pdf: &'static [u8] = Box::leak(recordpass_tests::large_pdf(size).into_boxed_slice());
    let http = reqwest::Client::new();
    let warm = http
        .get(format!("{}/readyz", verifier.base_url))
        .send()
        .await
        .expect("readyz");
    assert!(warm.status().is_success());
    let before = peak_memory(verifier.pid());

    // 16 clients at once, each uploading a 10 MiB file; the default upload
    // buffer (32 MiB) holds three bodies, the others are refused as busy.
    let sends: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let request = http
                .post(format!(
                    "{}/api/v1/sites/{SITE_ID}/uploads",
                    verifier.base_url
                ))
                .query(&[("name", "power-of-attorney.pdf")])
                .header("Origin", SITE_ORIGIN)
                .header("Content-Type", "application/pdf")
                .header("X-Forwarded-For", format!("10.9.0.{client}"))
                .body(reqwest::Body::from(pdf));
            tokio::spawn(async move {
                let resp = request.send().await.expect("answered, not reset");
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body: Value = resp.json().await.expect("json");
                (status, retry_after, body)
            })
        })
        .collect();
    let (mut stored, mut busy) = (0, 0);
    for send in sends {
        match send.await.expect("join") {
            (201, _, _) => stored += 1,
            (503, Some(after), body) if after == "2" && body["code"] == "unavailable" => busy += 1,
            other => panic!("stored or refused as busy, got {other:?}"),
        }
    }
    let after = peak_memory(verifier.pid());
    let grew = after.saturating_sub(before);
    eprintln!(
        "upload memory test: peak RSS {} MiB before, {} MiB after {CLIENTS} × 10 MiB uploads \
         ({stored} stored, {busy} busy; +{} KiB)",
        before / (1024 * 1024),
        after / (1024 * 1024),
        grew / 1024
    );
    // The first three bodies always fit the buffer, and wait their turn to be
    // stored rather than being refused.
    assert!(
        stored >= 3 && stored + busy == CLIENTS,
        "{stored} stored, {busy} busy"
    );
    // Holding every file at once would take 160 MiB for the bodies alone (and
    // about four times that to seal and store them); the buffer holds three,
    // and one is sealed at a time.
    assert!(
        grew < 100 * 1024 * 1024,
        "peak memory grew by {} MiB",
        grew / (1024 * 1024)
    );
}

#[tokio::test]
async fn metrics_are_served_on_their_own_loopback_port_by_default() {
    // The test kit turns metrics off; this configuration leaves the default.
    let (_dir, verifier) = start_binary(9, "", &[], |config| {
        let config = config.replace("metrics_listen = \"off\"\n", "");
        assert!(!config.contains("metrics_listen"));
        config
    })
    .await;
    let scraped = reqwest::get("http://127.0.0.1:9464/metrics")
        .await
        .expect("the default metrics address answers");
    assert_eq!(scraped.status(), reqwest::StatusCode::OK);
    let text = scraped.text().await.expect("body");
    assert!(text.contains("recordpass_submissions_total"), "{text}");
    let public = reqwest::get(format!("{}/metrics", verifier.base_url))
        .await
        .expect("sent");
    assert_eq!(public.status(), reqwest::StatusCode::NOT_FOUND);
}

/// Every purge interval the running verifier logs the audit chain's head
/// when it moved: the log, kept apart from the database, holds anchors that
/// `audit verify --anchor` checks the chain against.
#[tokio::test]
async fn the_audit_chain_head_is_logged_as_an_anchor() {
    let retention = "[retention]\npurge_interval_secs = 1\n";
    let (dir, _verifier) = start_binary(9, "", &["--log-format", "json"], |config| {
        assert!(!config.contains("[retention]"));
        format!("{config}\n{retention}")
    })
    .await;
    let config = dir.path().join("verifier.toml");
    let cli = |args: &[&str]| {
        let out = verifier_cli()
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .expect("cli runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    cli(&[
        "staff",
        "invite",
        "--email",
        "a@example.org",
        "--role",
        "auditor",
    ]);
    let verified = cli(&["audit", "verify"]);
    let head = verified
        .lines()
        .find_map(|l| l.strip_prefix("head anchor: "))
        .expect("head anchor")
        .to_owned();

    let log = dir.path().join("verifier.log");
    let mut logged = None;
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log).expect("log");
        logged = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .rfind(|l| l["fields"]["message"] == "audit chain head");
        if logged.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logged = logged.expect("an \"audit chain head\" line within 5 s");
    assert_eq!(logged["fields"]["anchor"], head.as_str(), "{logged}");
    assert_eq!(logged["level"], "INFO");
}

/// `serve` runs with glibc's mmap threshold fixed (it starts itself again
/// with `MALLOC_MMAP_THRESHOLD_` set, keeping its process id), so freed
/// upload buffers go back to the system instead of staying in thread arenas.
#[tokio::test]
async fn serve_runs_with_a_fixed_mmap_threshold() {
    let (_dir, verifier) = start_binary(9, "", &[], |config| config).await;
    let environ = std::fs::read(format!("/proc/{}/environ", verifier.pid()))
        .expect("the process's environment");
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|var| var == b"MALLOC_MMAP_THRESHOLD_=131072"),
        "{}",
        String::from_utf8_lossy(&environ)
    );
}

/// Denial notices must give a phone for complaints to the hospital
/// (164.524(d)(2)(iii)): at start-up `serve` warns once for each site whose
/// complaint phone falls back to `him_phone`, and refuses a `privacy_phone`
/// nobody could call, naming the key.
#[tokio::test]
async fn start_up_warns_of_each_site_without_a_privacy_phone_and_refuses_a_bad_one() {
    let northside = "[[sites]]\nid = \"northside\"\nname = \"Northside Clinic\"\n\
                     him_phone = \"+1 (555) 010-0200\"\norigins = [\"http://localhost:8082\"]\n";
    let (dir, _verifier) = start_binary(9, "", &["--log-format", "json"], |config| {
        assert!(config.contains(&format!("privacy_phone = \"{PRIVACY_PHONE}\"")));
        format!("{config}\n{northside}")
    })
    .await;
    let log = std::fs::read_to_string(dir.path().join("verifier.log")).expect("log");
    let warnings: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["level"] == "WARN")
        .filter_map(|l| l["fields"]["message"].as_str().map(str::to_owned))
        .filter(|m| m.contains("privacy_phone"))
        .collect();
    assert_eq!(
        warnings,
        [
            "sites[id = \"northside\"].privacy_phone is not set: denial notices give him_phone \
          (+1 (555) 010-0200) as the phone for complaints to the hospital"
        ],
        "{log}"
    );

    // A privacy_phone without digits stops the verifier before it serves.
    let config = std::fs::read_to_string(dir.path().join("verifier.toml")).expect("config");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, config.replace(PRIVACY_PHONE, "the privacy office")).expect("written");
    let out = verifier_cli()
        .arg("--config")
        .arg(&bad)
        .arg("serve")
        .output()
        .expect("cli runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "sites[id = \"riverside\"].privacy_phone: must be a phone number requesters can call"
        ),
        "{stderr}"
    );
}
