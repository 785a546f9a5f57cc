//! Receiving uploads through real sockets: a file on a slow link is stored
//! even past `request_timeout_secs`, a trickling client blocks no other one,
//! each address sends one body at a time, bodies share a byte budget
//! (`[limits] upload_buffer_mib`) and received ones wait their turn to be
//! stored, a body below the minimum rate or one that stalls is cut off, and an
//! upload must declare its length. Nothing is stored for a refused file.

use std::{
    net::{IpAddr, Ipv4Addr},
    time::{Duration, Instant},
};

use recordpass_request::{
    Digest,
    api::FILE_NAME_HEADER,
    examples,
    upload::{Attachment, MAX_UPLOAD_BYTES},
};
use recordpass_tests::{SITE_ID, SITE_ORIGIN, TestVerifier, large_pdf};
use recordpass_verifier::{
    store::Table,
    upload_intake::{self, MIN_UPLOAD_RATE},
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::{sync::mpsc, task::JoinHandle};

use crate::webhooks::metric;

/// An upload's answer: status, `Retry-After`, body.
type Answer = (StatusCode, Option<String>, Value);

/// A client whose connections come from `127.0.0.<n>`: every loopback
/// address reaches the verifier, and each is another client to it.
pub(crate) fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .expect("client")
}

fn upload_request(
    verifier: &TestVerifier,
    client: &reqwest::Client,
    name: &str,
) -> reqwest::RequestBuilder {
    client
        .post(verifier.url(&format!("/api/v1/sites/{SITE_ID}/uploads")))
        .header("Origin", SITE_ORIGIN)
        .header("Content-Type", "application/pdf")
        .header(FILE_NAME_HEADER, name)
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let resp = request.send().await.expect("answered");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        resp.status(),
        retry_after,
        resp.json().await.unwrap_or(Value::Null),
    )
}

/// Uploads `bytes` (with its `Content-Length`) from `client`.
async fn send(verifier: &TestVerifier, client: &reqwest::Client, bytes: &[u8]) -> Answer {
    answer(upload_request(verifier, client, "proof.pdf").body(bytes.to_vec())).await
}

/// Starts uploading a PDF of `len` bytes from `client` whose body the test
/// sends, chunk by chunk, through the returned sender (the body ends when it
/// is dropped).
fn upload_by_hand(
    verifier: &TestVerifier,
    client: &reqwest::Client,
    len: usize,
) -> (mpsc::Sender<Vec<u8>>, JoinHandle<Answer>) {
    let (chunks, rx) = mpsc::channel::<Vec<u8>>(1);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((Ok::<_, std::io::Error>(chunk), rx))
    });
    let request = upload_request(verifier, client, "held.pdf")
        .header("Content-Length", len)
        .body(reqwest::Body::wrap_stream(body));
    (chunks, tokio::spawn(answer(request)))
}

/// Waits until the verifier's upload buffer holds `bytes` (its metric), so
/// the test knows which bodies it has admitted.
async fn buffer_holds(verifier: &TestVerifier, bytes: usize) {
    let series = "recordpass_upload_buffer_bytes";
    for _ in 0..500 {
        if metric(verifier, series).await == bytes as f64 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the upload buffer holds {} bytes, not {bytes}",
        metric(verifier, series).await
    );
}

fn busy(answer: &Answer) -> bool {
    answer.0 == StatusCode::SERVICE_UNAVAILABLE
        && answer.1.as_deref() == Some("2")
        && answer.2["code"] == "unavailable"
        && answer.2["message"].as_str().unwrap_or("").contains("busy")
}

fn stored(answer: Answer) -> Attachment {
    assert_eq!(answer.0, StatusCode::CREATED, "{:?}", answer.2);
    serde_json::from_value(answer.2["attachment"].clone()).expect("attachment")
}

/// A verifier with `limits` whose `request_timeout_secs` is 2, on the
/// database of the returned first instance (keep it alive).
async fn with_a_two_second_timeout(limits: &str) -> (TestVerifier, TestVerifier) {
    let mut first = TestVerifier::start_with_limits(limits).await;
    first.config.request_timeout_secs = 2;
    let verifier = first.another_instance().await;
    (first, verifier)
}

#[tokio::test]
async fn a_slow_upload_outlives_the_request_timeout_while_other_clients_upload() {
    let (_db, verifier) = with_a_two_second_timeout("posts_burst = 1000").await;
    let timeout = Duration::from_secs(verifier.config.request_timeout_secs);
    // 160 KiB may take 2 s + 5 s; it takes about 4 s, well over the 2 s timeout.
    let file = large_pdf(160 * 1024);
    let pieces: Vec<&[u8]> = file.chunks(16 * 1024).collect();
    let trickler = client_from(1);
    let began = Instant::now();
    let (chunks, slow) = upload_by_hand(&verifier, &trickler, file.len());
    chunks.send(pieces[0].to_vec()).await.expect("first piece");
    buffer_holds(&verifier, file.len()).await;

    // The same address, while its first body arrives: busy, with when to retry.
    let again = send(&verifier, &trickler, examples::PROOF_PDF).await;
    assert!(busy(&again), "{again:?}");
    assert_eq!(verifier.count(Table::Uploads).await, 0);
    // Another client is not held up.
    let other = stored(send(&verifier, &client_from(2), examples::PROOF_PDF).await);
    assert_eq!(other.sha256, Digest::of(examples::PROOF_PDF));

    for piece in &pieces[1..] {
        tokio::time::sleep(Duration::from_millis(400)).await;
        chunks.send(piece.to_vec()).await.expect("next piece");
    }
    drop(chunks);
    let slow = stored(slow.await.expect("join"));
    let took = began.elapsed();
    assert!(took > timeout, "the upload took only {took:?}");
    assert_eq!(
        (slow.sha256, slow.size),
        (Digest::of(&file), file.len() as u64)
    );
    assert_eq!(verifier.count(Table::Uploads).await, 2);
    buffer_holds(&verifier, 0).await;
    // Its address may send again.
    stored(send(&verifier, &trickler, examples::PROOF_PDF).await);
}

#[tokio::test]
async fn a_body_below_the_minimum_rate_is_cut_off_and_nothing_is_stored() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_db, verifier) = with_a_two_second_timeout("posts_burst = 1000").await;
    let file = large_pdf(160 * 1024);
    // Allowed: the 2 s timeout plus 160 KiB at the minimum rate.
    let allowed = Duration::from_secs(2)
        + Duration::from_secs_f64(file.len() as f64 / MIN_UPLOAD_RATE as f64);
    let mut stream = tokio::net::TcpStream::connect(verifier.addr)
        .await
        .expect("connect");
    let began = Instant::now();
    let head = format!(
        "POST /api/v1/sites/{SITE_ID}/uploads HTTP/1.1\r\nHost: {}\r\nOrigin: {SITE_ORIGIN}\r\n\
         Content-Type: application/pdf\r\n{FILE_NAME_HEADER}: slow.pdf\r\n\
         Content-Length: {}\r\n\r\n",
        verifier.addr,
        file.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // A tenth of the file, then nothing more.
    stream
        .write_all(&file[..file.len() / 10])
        .await
        .expect("some");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
        .await
        .expect("answered and closed within 30 s")
        .expect("read");
    let took = began.elapsed();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"upload_too_slow\""), "{text}");
    assert!(text.contains("too slowly"), "{text}");
    // Cut off at its own deadline, not at the 2 s request timeout.
    assert!(
        took + Duration::from_millis(500) >= allowed,
        "cut off after {took:?}"
    );
    assert_eq!(verifier.count(Table::Uploads).await, 0);
    buffer_holds(&verifier, 0).await;
    // The client's slot is free again.
    stored(send(&verifier, &reqwest::Client::new(), &file).await);
}

#[tokio::test]
async fn a_stalled_body_is_cut_off_after_the_idle_timeout_and_frees_its_slot_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let idle = Duration::from_secs(2);
    let verifier = TestVerifier::start_with_limits(&format!(
        "posts_burst = 1000\nupload_idle_timeout_secs = {}",
        idle.as_secs()
    ))
    .await;
    // A 10 MiB file may take 15 s + 320 s to arrive in all.
    let len = MAX_UPLOAD_BYTES as usize;
    let deadline = upload_intake::receive_time(verifier.config.request_timeout(), len as u64);
    assert!(deadline > Duration::from_secs(300), "{deadline:?}");
    let start = large_pdf(64 * 1024);
    // From 127.0.0.3, so the retry below comes from the same client address.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind((Ipv4Addr::new(127, 0, 0, 3), 0).into())
        .expect("bind");
    let mut stream = socket.connect(verifier.addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/sites/{SITE_ID}/uploads HTTP/1.1\r\nHost: {}\r\nOrigin: {SITE_ORIGIN}\r\n\
         Content-Type: application/pdf\r\n{FILE_NAME_HEADER}: stalled.pdf\r\n\
         Content-Length: {len}\r\n\r\n",
        verifier.addr,
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // Its first 64 KiB, then silence.
    stream.write_all(&start).await.expect("some");
    let silent_since = Instant::now();
    buffer_holds(&verifier, len).await;
    // While it stalls, it holds its address's slot...
    let same = client_from(3);
    let refused = send(&verifier, &same, examples::PROOF_PDF).await;
    assert!(busy(&refused), "{refused:?}");
    assert!(
        silent_since.elapsed() < idle,
        "the slot was checked too late: {:?}",
        silent_since.elapsed()
    );

    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
        .await
        .expect("answered and closed within 30 s")
        .expect("read");
    let took = silent_since.elapsed();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"upload_too_slow\""), "{text}");
    // Cut off after about the idle time, minutes before the body's deadline.
    assert!(
        took + Duration::from_millis(300) >= idle && took < idle + Duration::from_secs(5),
        "cut off {took:?} after the last byte"
    );
    // ...and frees it and its bytes at once: the same address uploads again.
    assert_eq!(
        metric(&verifier, "recordpass_upload_buffer_bytes").await,
        0.0
    );
    let again = stored(send(&verifier, &same, examples::PROOF_PDF).await);
    assert_eq!(again.sha256, Digest::of(examples::PROOF_PDF));
    assert_eq!(verifier.count(Table::Uploads).await, 1);
    assert!(
        silent_since.elapsed() < idle + Duration::from_secs(10),
        "{:?}",
        silent_since.elapsed()
    );
}

#[tokio::test]
async fn an_upload_without_content_length_is_refused_and_nothing_is_stored() {
    let verifier = TestVerifier::start().await;
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = examples::PROOF_PDF
        .chunks(512)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let (status, _, body) = answer(
        upload_request(&verifier, &reqwest::Client::new(), "poa.pdf").body(
            reqwest::Body::wrap_stream(futures_util::stream::iter(pieces)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::LENGTH_REQUIRED, "{body}");
    assert_eq!(body["code"], "length_required", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Content-Length"),
        "{body}"
    );
    assert_eq!(verifier.count(Table::Uploads).await, 0);
}

#[tokio::test]
async fn an_upload_beyond_the_upload_buffer_is_refused_at_once_with_retry_after_and_stores_nothing()
{
    let verifier =
        TestVerifier::start_with_limits("posts_burst = 1000\nupload_buffer_mib = 10").await;
    // One body of 10 MiB arriving, filling the buffer: half sent, the rest held
    // back. It is a PNG sent as a PDF, refused once read (cheaper to check
    // than storing 10 MiB in a debug build).
    let mut big = examples::PROOF_PNG.to_vec();
    big.resize(MAX_UPLOAD_BYTES as usize, 0);
    let (head, tail) = big.split_at(big.len() / 2);
    let (chunks, first) = upload_by_hand(&verifier, &client_from(1), big.len());
    chunks.send(head.to_vec()).await.expect("first half");
    buffer_holds(&verifier, big.len()).await;

    // Another client's whole, valid file does not fit: refused at once.
    let second = client_from(2);
    let refused = send(&verifier, &second, examples::PROOF_PDF).await;
    assert!(busy(&refused), "{refused:?}");
    assert_eq!(verifier.count(Table::Uploads).await, 0);

    // The first arrives whole and is refused for what it is; its bytes are free again.
    chunks.send(tail.to_vec()).await.expect("second half");
    drop(chunks);
    let (status, _, body) = first.await.expect("join");
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("file_type_mismatch")
        )
    );
    buffer_holds(&verifier, 0).await;
    stored(send(&verifier, &second, examples::PROOF_PDF).await);
    assert_eq!(verifier.count(Table::Uploads).await, 1);

    // A file over the limit is refused from its length, before any reservation.
    let mut oversize = examples::PROOF_PDF.to_vec();
    oversize.resize(MAX_UPLOAD_BYTES as usize + 1, b' ');
    let (status, _, body) = send(&verifier, &second, &oversize).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("file_too_large"))
    );
    buffer_holds(&verifier, 0).await;
    assert_eq!(verifier.count(Table::Uploads).await, 1);
}

#[tokio::test]
async fn received_files_wait_their_turn_to_be_stored_instead_of_being_refused() {
    // One file sealed and stored at a time (the default), three arriving.
    let verifier = TestVerifier::start_with_limits("posts_burst = 1000").await;
    let files: Vec<Vec<u8>> = (0..3).map(|i| large_pdf(512 * 1024 + i)).collect();
    let mut uploads = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let (chunks, answer) = upload_by_hand(&verifier, &client_from(i as u8 + 1), file.len());
        chunks
            .send(file[..file.len() - 1].to_vec())
            .await
            .expect("all but the last byte");
        uploads.push((chunks, answer));
    }
    buffer_holds(&verifier, files.iter().map(Vec::len).sum()).await;
    // All three bodies complete at once.
    let mut answers = Vec::new();
    for ((chunks, answer), file) in uploads.into_iter().zip(&files) {
        chunks
            .send(file[file.len() - 1..].to_vec())
            .await
            .expect("last byte");
        answers.push(answer);
    }
    for (answer, file) in answers.into_iter().zip(&files) {
        let a = stored(answer.await.expect("join"));
        assert_eq!(a.sha256, Digest::of(file));
    }
    assert_eq!(verifier.count(Table::Uploads).await, 3);
    buffer_holds(&verifier, 0).await;
}
