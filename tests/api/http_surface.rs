//! CORS, unknown routes and the widget asset routes.

use recordpass_tests::{SITE_ID, SITE_ORIGIN, TestVerifier};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(Method::OPTIONS, verifier.url("/api/v1/signatures"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight(SITE_ORIGIN).await.expect("sent");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        SITE_ORIGIN
    );
    let refused = preflight("https://evil.example").await.expect("sent");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(verifier.url("/api/v1/nothing"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "not_found"
    );
    let resp = http
        .get(verifier.url("/api/v1/signatures"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "method_not_allowed"
    );
    let resp = http
        .get(verifier.url("/api/v1/sites/riverside"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let site: Value = resp.json().await.expect("json");
    assert_eq!(site["him_phone"], "+1 (555) 010-0100");
}

#[tokio::test]
async fn widget_routes_say_not_found_until_the_widget_is_built() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    for path in [
        "/widget.js",
        "/embed.json",
        "/assets/recordpass_widget-0000.wasm",
    ] {
        let resp = http.get(verifier.url(path)).send().await.expect("sent");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_demo_outbox_exists_only_in_demo_mode() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(verifier.url("/demo/outbox"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "not_found"
    );

    let demo = TestVerifier::start_demo().await;
    let sent = http
        .post(demo.url("/api/v1/email-codes"))
        .header("Origin", SITE_ORIGIN)
        .json(
            &serde_json::json!({"site_id": "riverside", "email": "a&b@example.org", "lang": "es"}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    // The message is stored by a background task.
    let mut page = String::new();
    for _ in 0..50 {
        let resp = http
            .get(demo.url("/demo/outbox"))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'"
        );
        page = resp.text().await.expect("html");
        if page.contains("data-testid=\"message\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(page.contains("To: a&amp;b@example.org"), "{page}");
    assert!(
        page.contains("Su código para la solicitud de registros de Riverside General Hospital es ")
    );
    assert_eq!(demo.smtp.all().len(), 0, "demo mode sends nothing");
}

#[tokio::test]
async fn health_and_readiness_probes() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let resp = http.get(verifier.url(path)).send().await.expect("sent");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        assert_eq!(
            resp.json::<Value>().await.expect("json"),
            serde_json::json!({"status": "ok"}),
            "{path}"
        );
    }

    // A migration this binary carries is not recorded as applied: not ready.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(verifier.store.pool())
    .await
    .expect("one migration forgotten");
    let resp = http
        .get(verifier.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["code"],
        "unavailable"
    );

    // The database goes away: the process is alive but not ready.
    verifier.store.pool().close().await;
    let resp = http
        .get(verifier.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "unavailable");
    assert!(!body["message"].as_str().expect("message").contains("pool"));
    let resp = http
        .get(verifier.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Serves `config` (sharing `verifier`'s database) and returns its base URL.
async fn serve_with(config: recordpass_verifier::Config) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = recordpass_verifier::AppState::new(config, recordpass_verifier::Clock::system())
        .await
        .expect("verifier starts");
    tokio::spawn(recordpass_verifier::serve(
        listener,
        state,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

#[tokio::test]
async fn security_headers_on_everything_served() {
    let verifier = TestVerifier::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in [
        "/api/v1/sites/riverside",
        "/api/v1/nothing",
        "/healthz",
        "/embed.json",
        "/.well-known/recordpass-seal-key",
        "/console",
        "/console/enrol",
        "/widget.js",
        "/assets/recordpass_widget-0000.wasm",
    ] {
        let resp = http.get(verifier.url(path)).send().await.expect("sent");
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}");
        let id = h["x-request-id"].to_str().expect("ascii");
        assert_eq!(id.len(), 36, "{path}: a UUID request id, got {id}");
        let widget_file = path == "/widget.js" || path.starts_with("/assets/");
        if widget_file {
            // Loaded by hospital pages: no anti-framing headers.
            assert!(h.get("x-frame-options").is_none(), "{path}");
            assert!(h.get("content-security-policy").is_none(), "{path}");
        } else {
            assert_eq!(h.get_all("x-frame-options").iter().count(), 1, "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(
                h.get_all("content-security-policy").iter().count(),
                1,
                "{path}"
            );
            let csp = h["content-security-policy"].to_str().expect("ascii");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        }
        if path.starts_with("/console") {
            assert!(
                csp_of(h).contains("script-src 'self'"),
                "{path}: the console's own CSP"
            );
        }
    }

    // A proxy's plain request id is kept; anything else is replaced.
    for (sent, kept) in [("edge-1234.abc", true), ("Ana María Quiñones", false)] {
        let resp = http
            .get(verifier.url("/healthz"))
            .header(
                "x-request-id",
                reqwest::header::HeaderValue::from_bytes(sent.as_bytes()).expect("value"),
            )
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.headers()["x-request-id"] == sent, kept, "{sent}");
    }

    // HSTS only for an https public URL.
    let mut config = verifier.config.clone();
    // The console stays on the localhost relying party.
    config.console.origin = Some(config.console_origin().parse().expect("url"));
    config.public_url = Some("https://records.example-hospital.org".parse().expect("url"));
    let base = serve_with(config).await;
    for path in ["/healthz", "/api/v1/sites/riverside", "/widget.js"] {
        let resp = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(
            resp.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
}

fn csp_of(h: &reqwest::header::HeaderMap) -> &str {
    h["content-security-policy"].to_str().expect("ascii")
}

/// A raw connection to a verifier whose `request_timeout_secs` is 1; the
/// [`TestVerifier`] keeps its database alive.
async fn connect_with_a_one_second_timeout() -> (TestVerifier, tokio::net::TcpStream, String) {
    let verifier = TestVerifier::start().await;
    let mut config = verifier.config.clone();
    config.request_timeout_secs = 1;
    let base = serve_with(config).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    (verifier, stream, addr)
}

#[tokio::test]
async fn slow_requests_time_out_with_a_json_error() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_verifier, mut stream, addr) = connect_with_a_one_second_timeout().await;
    // A body that never arrives.
    stream
        .write_all(
            format!(
                "POST /api/v1/email-codes HTTP/1.1\r\nHost: {addr}\r\nOrigin: {SITE_ORIGIN}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let mut response = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    let text = String::from_utf8_lossy(&response);
    assert!(read.is_ok() || !text.is_empty(), "no answer within 10 s");
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"code\":\"unavailable\""), "{text}");
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_verifier, mut stream, addr) = connect_with_a_one_second_timeout().await;
    // Slowloris: a header line now and then, never the blank line that ends them.
    let began = std::time::Instant::now();
    stream
        .write_all(format!("POST /api/v1/email-codes HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .expect("write");
    let trickle = async {
        for i in 0.. {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            if stream
                .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), trickle).await;
    assert!(
        closed.is_ok(),
        "still connected after 10 s of trickled headers"
    );
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    let took = began.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "cut off after {took:?}"
    );
    assert!(
        !String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 2"),
        "answered: {}",
        String::from_utf8_lossy(&rest)
    );
}

#[tokio::test]
async fn widget_files_are_served_precompressed_by_accept_encoding() {
    let verifier = TestVerifier::start().await;
    // A widget laid out as `cargo xtask build` writes it; the verifier treats contents as opaque.
    let dist = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dist.path().join("assets")).expect("assets dir");
    let write =
        |name: &str, text: &str| std::fs::write(dist.path().join(name), text).expect("written");
    for name in ["widget.js", "assets/glue-0.js", "assets/wasm-0.wasm"] {
        write(name, name);
        write(&format!("{name}.br"), &format!("br:{name}"));
        write(&format!("{name}.gz"), &format!("gz:{name}"));
    }
    write(
        "manifest.json",
        r#"{"loader": "widget.js", "loader_integrity": "sha384-x",
            "glue": "assets/glue-0.js", "wasm": "assets/wasm-0.wasm"}"#,
    );
    let mut config = verifier.config.clone();
    config.widget_dir = dist.path().to_owned();
    let base = serve_with(config).await;
    let http = reqwest::Client::new();
    let get = |accept: Option<&'static str>, etag: Option<String>| {
        let mut request = http.get(format!("{base}/assets/wasm-0.wasm"));
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };

    let mut etags = std::collections::HashMap::new();
    for (accept, coding, body) in [
        (None, None, "assets/wasm-0.wasm"),
        (Some("identity"), None, "assets/wasm-0.wasm"),
        (
            Some("gzip, deflate, br, zstd"),
            Some("br"),
            "br:assets/wasm-0.wasm",
        ),
        (Some("gzip"), Some("gzip"), "gz:assets/wasm-0.wasm"),
        (Some("br;q=0, *"), Some("gzip"), "gz:assets/wasm-0.wasm"),
    ] {
        let resp = get(accept, None).await.expect("sent");
        assert_eq!(resp.status(), StatusCode::OK, "{accept:?}");
        let h = resp.headers();
        assert_eq!(
            h.get("content-encoding")
                .map(|v| v.to_str().expect("ascii")),
            coding,
            "{accept:?}"
        );
        assert_eq!(h["content-type"], "application/wasm");
        assert_eq!(h["vary"], "accept-encoding");
        let etag = h["etag"].to_str().expect("ascii").to_owned();
        assert_eq!(*etags.entry(coding).or_insert(etag.clone()), etag);
        assert_eq!(resp.text().await.expect("body"), body, "{accept:?}");
    }
    assert_eq!(
        etags.len(),
        3,
        "one validator per representation: {etags:?}"
    );

    // A cached brotli copy is fresh for brotli clients only.
    let br_etag = etags[&Some("br")].clone();
    let resp = get(Some("br"), Some(br_etag.clone())).await.expect("sent");
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    let resp = get(Some("gzip"), Some(br_etag)).await.expect("sent");
    assert_eq!(resp.status(), StatusCode::OK);
}

/// The snippet names the release's own loader (`assets/widget-<hash>.js`,
/// pinned by its SRI value); files an earlier release left in `assets/` are
/// still served, immutable, so pages that embed it keep working after an
/// upgrade. Nothing else under `assets/` is read.
#[tokio::test]
async fn the_snippet_names_the_release_loader_and_earlier_releases_stay_served() {
    let verifier = TestVerifier::start().await;
    let dist = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dist.path().join("assets")).expect("assets dir");
    let write =
        |name: &str, text: &str| std::fs::write(dist.path().join(name), text).expect("written");
    let current = "assets/widget-0123456789abcdef.js";
    let earlier = "assets/widget-fedcba9876543210.js";
    for name in [
        "widget.js",
        current,
        "assets/glue-0123456789abcdef.js",
        "assets/wasm-0123456789abcdef.wasm",
        earlier,
        "assets/recordpass_widget_bg-aaaaaaaaaaaaaaaa.wasm",
        "assets/notes.js",
    ] {
        write(name, name);
    }
    write(&format!("{earlier}.br"), &format!("br:{earlier}"));
    write(
        "manifest.json",
        &format!(
            r#"{{"loader": "widget.js", "loader_integrity": "sha384-loader",
                "release_loader": "{current}", "release_loader_integrity": "sha384-release",
                "glue": "assets/glue-0123456789abcdef.js", "wasm": "assets/wasm-0123456789abcdef.wasm"}}"#
        ),
    );
    let mut config = verifier.config.clone();
    config.widget_dir = dist.path().to_owned();
    let base = serve_with(config).await;
    let http = reqwest::Client::new();

    let embed = get_json(&http, format!("{base}/embed.json")).await;
    assert_eq!(embed["integrity"], "sha384-release", "{embed}");
    let snippet = embed["snippet"].as_str().expect("snippet");
    assert!(
        snippet.contains(&format!("/{current}\" integrity=\"sha384-release\"")),
        "{snippet}"
    );
    // The element holds the page's own fallback: the HIM phone, dialable.
    let element = &snippet[snippet.find("<recordpass-request").expect("element")..];
    assert!(
        element.starts_with(&format!("<recordpass-request site=\"{SITE_ID}\">"))
            && element.contains("<a href=\"tel:+15550100100\">+1 (555) 010-0100</a>")
            && element.ends_with("</recordpass-request>"),
        "{snippet}"
    );
    let by_id = get_json(&http, format!("{base}/embed.json?site={SITE_ID}")).await;
    assert_eq!(by_id, embed);
    let unknown = http
        .get(format!("{base}/embed.json?site=elsewhere"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    for (name, encoding, body) in [
        (current, None, current.to_owned()),
        (earlier, Some("br"), format!("br:{earlier}")),
        (
            "assets/recordpass_widget_bg-aaaaaaaaaaaaaaaa.wasm",
            None,
            "assets/recordpass_widget_bg-aaaaaaaaaaaaaaaa.wasm".to_owned(),
        ),
    ] {
        let resp = http
            .get(format!("{base}/{name}"))
            .header("accept-encoding", "br")
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
        assert_eq!(
            resp.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{name}"
        );
        assert_eq!(
            resp.headers()
                .get("content-encoding")
                .map(|v| v.to_str().expect("ascii")),
            encoding,
            "{name}"
        );
        assert_eq!(resp.text().await.expect("body"), body, "{name}");
    }
    for name in [
        "assets/notes.js",
        "assets/manifest.json",
        "assets/widget-0123456789abcdeg.js",
        "assets/..%2Fmanifest.json",
    ] {
        let resp = http
            .get(format!("{base}/{name}"))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{name}");
    }
}

/// The JSON body `url` answers with.
async fn get_json(http: &reqwest::Client, url: String) -> Value {
    let response = http.get(url).send().await.expect("sent");
    response.json().await.expect("json")
}
