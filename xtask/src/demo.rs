//! `cargo xtask demo`: the verifier on http://localhost:8080 and a sample
//! hospital page (`demo-site/`, with the embed snippet pasted in) on
//! http://localhost:8081, until Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use std::{fs, thread};

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde::Deserialize;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::util::{self, announce};

const VERIFIER_LISTEN: &str = "127.0.0.1:8080";
const SITE_LISTEN: &str = "127.0.0.1:8081";
/// The page's origin. WebAuthn needs the host `localhost` (the RP ID), not 127.0.0.1.
const SITE_ORIGIN: &str = "http://localhost:8081";
const SITE_DIR: &str = "demo-site";
const DATA_DIR: &str = "demo-data";
/// Where the web team pastes the snippet in `demo-site/index.html`.
pub const SNIPPET_MARKER: &str = "<!-- RECORDPASS SNIPPET -->";

/// Builds everything, starts the verifier and serves the demo site until Ctrl-C.
pub fn run() -> Result<()> {
    let built = crate::widget::build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;

    let config = write_config(&built.dist)?;
    write_keyring(&built.verifier, &PathBuf::from(DATA_DIR).join("keyring"))?;
    // Seals anything an older demo (before encryption at rest) left in clear.
    util::output(
        util::verifier(&built.verifier)
            .args(["rotate-key", "--config"])
            .arg(&config),
    )?;
    let mut verifier = Verifier::start(&built.verifier, &config)?;
    let embed = verifier.embed()?;
    let site = Site::new(&embed)?;
    let server = Server::http(SITE_LISTEN)
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("cannot listen on {SITE_LISTEN} (is another demo running?)"))?;

    println!(
        "\nRecordpass demo\n  \
         verifier       {verifier_url}  (data: {DATA_DIR}/recordpass.db)\n  \
         hospital page  {SITE_ORIGIN}/  (Spanish: {SITE_ORIGIN}/?lang=es)\n  \
         demo outbox    {verifier_url}/demo/outbox  (the emailed verification codes)\n\n\
         The page embeds:\n{snippet}\n\n\
         Open {SITE_ORIGIN}/ in a browser. Ctrl-C stops both servers.\n\
         Stored requests: {bin} submissions list --config {config}\n",
        verifier_url = verifier.url,
        snippet = embed.snippet.trim(),
        bin = built.verifier.display(),
        config = config.display(),
    );

    while !stop.load(Ordering::SeqCst) {
        if let Some(status) = verifier.exited()? {
            bail!("the verifier stopped unexpectedly ({status}); see its log above");
        }
        if let Some(request) = server.recv_timeout(Duration::from_millis(200))? {
            site.handle(request);
        }
    }
    announce("stopping the verifier");
    Ok(())
}

/// Creates an encryption keyring at `path` with `recordpass-verifier new-key`,
/// unless one is there (the demo's database stays readable across runs).
pub(crate) fn write_keyring(verifier: &Path, path: &Path) -> Result<()> {
    if !path.exists() {
        let line = util::output(util::verifier(verifier).args(["new-key", "--id", "local-1"]))?;
        util::write(path, line)?;
    }
    Ok(())
}

/// Writes the verifier configuration for the demo (see
/// `verifier/recordpass.example.toml` for what each key means).
fn write_config(widget_dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(DATA_DIR).with_context(|| format!("cannot create {DATA_DIR}/"))?;
    let widget_dir = serde_json::to_string(&widget_dir.to_string_lossy())?;
    let config = format!(
        r#"# Written by `cargo xtask demo` on every run; edits are overwritten.
listen = "{VERIFIER_LISTEN}"
# Prometheus metrics on a free loopback port (printed at start); by default 127.0.0.1:9464.
metrics_listen = "127.0.0.1:0"
database_url = "sqlite://{DATA_DIR}/recordpass.db"
widget_dir = {widget_dir}
ceremony_ttl_secs = 300

[relying_party]
id = "localhost"
name = "Riverside General Hospital"

[[sites]]
id = "demo"
name = "Riverside General Hospital"
him_phone = "+1 (555) 010-0100"
# Denial notices name this contact and phone for complaints to the hospital.
privacy_phone = "+1 (555) 010-0199"
origins = ["{SITE_ORIGIN}"]
# Deadlines count the hospital's calendar days; dates people read are in this zone.
time_zone = "America/New_York"

[sites.privacy_contact]
en = "the Privacy Office"
es = "la Oficina de Privacidad"

[sites.him_hours]
en = "Monday to Friday, 8 am to 4:30 pm"
es = "De lunes a viernes, de 8 a. m. a 4:30 p. m."

[sites.fee_text]
en = "Electronic copies of records we keep electronically: free. Paper copies: $0.10 a page plus postage."
es = "Copias electrónicas de los registros que guardamos electrónicamente: gratis. Copias en papel: $0.10 por página más envío."

# Personal data is encrypted at rest with this keyring (kept across demo runs).
[encryption]
key_file = "{DATA_DIR}/keyring"

# No mail relay in the demo: verification codes are listed at /demo/outbox.
[email]
mode = "demo-outbox"
"#
    );
    let path = PathBuf::from(DATA_DIR).join("recordpass.toml");
    util::write(&path, config)?;
    Ok(path)
}

/// `GET /embed.json` from the verifier.
#[derive(Deserialize)]
struct Embed {
    script_url: String,
    snippet: String,
}

/// A running verifier; dropping it kills the process.
pub(crate) struct Verifier {
    child: Child,
    addr: SocketAddr,
    /// Its public base URL, `http://localhost:PORT`.
    pub(crate) url: String,
}

impl Verifier {
    /// Starts `serve` and waits for its "listening on http://ADDR" line.
    fn start(binary: &Path, config: &Path) -> Result<Verifier> {
        Verifier::start_command(util::verifier(binary), config)
    }

    /// Like [`Verifier::start`], for a `command` with its own environment.
    pub(crate) fn start_command(mut command: Command, config: &Path) -> Result<Verifier> {
        command.arg("serve").arg("--config").arg(config);
        announce(format_args!("$ {}", util::command_line(&command)));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", util::command_line(&command)))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        // Echo the verifier's output, and report the address it prints.
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("verifier: {line}");
                if let Some(addr) = listening_addr(&line) {
                    let _ = tx.send(addr);
                }
            }
        });
        let mut verifier = Verifier {
            child,
            addr: ([0, 0, 0, 0], 0).into(),
            url: String::new(),
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => verifier.addr = addr,
            Err(_) => match verifier.exited()? {
                Some(status) => bail!("the verifier exited ({status}) before listening"),
                None => bail!("the verifier did not print `listening on http://…` within 30 s"),
            },
        }
        verifier.url = format!("http://localhost:{}", verifier.addr.port());
        Ok(verifier)
    }

    fn exited(&mut self) -> Result<Option<ExitStatus>> {
        self.child
            .try_wait()
            .context("cannot check on the verifier")
    }

    /// The embed snippet the verifier serves to hospital web teams.
    fn embed(&self) -> Result<Embed> {
        let host = format!("localhost:{}", self.addr.port());
        let body = http_get(self.addr, &host, "/embed.json")?;
        serde_json::from_str(&body).context("GET /embed.json returned unexpected JSON")
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses `listening on http://127.0.0.1:8080`.
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let (_, url) = line.split_once("listening on http://")?;
    url.trim().trim_end_matches('/').parse().ok()
}

/// A minimal HTTP/1.1 GET (xtask needs no full client for one local request).
fn http_get(addr: SocketAddr, host: &str, path: &str) -> Result<String> {
    let context = || format!("GET http://{host}{path}");
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).with_context(context)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .with_context(context)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).with_context(context)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("malformed HTTP response")?;
    let status = head.lines().next().unwrap_or_default();
    ensure!(
        status.split(' ').nth(1) == Some("200"),
        "{}: {status}",
        context()
    );
    ensure!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{}: chunked responses are not supported here",
        context()
    );
    Ok(body.to_owned())
}

/// The demo hospital site.
struct Site {
    snippet: String,
    csp: String,
}

impl Site {
    fn new(embed: &Embed) -> Result<Site> {
        let site = Site {
            snippet: embed.snippet.trim().to_owned(),
            csp: content_security_policy(origin_of(&embed.script_url)?),
        };
        // Fail now, not on the first visit, if the page cannot be rendered.
        site.page(&util::read(Path::new(SITE_DIR).join("index.html"))?, false)?;
        Ok(site)
    }

    fn handle(&self, request: Request) {
        let response = self.respond(&request).unwrap_or_else(|err| {
            announce(format_args!(
                "demo site: {} {}: {err:#}",
                request.method(),
                request.url()
            ));
            text(500, "internal error; see the xtask output")
        });
        let _ = request.respond(response);
    }

    fn respond(&self, request: &Request) -> Result<Response<std::io::Cursor<Vec<u8>>>> {
        if !matches!(request.method(), Method::Get | Method::Head) {
            return Ok(text(405, "method not allowed"));
        }
        let host = request.headers().iter().find(|h| h.field.equiv("Host"));
        let site_host = SITE_ORIGIN.trim_start_matches("http://");
        if host.is_some_and(|h| h.value.as_str() != site_host) {
            // WebAuthn only works at the configured origin (RP ID `localhost`).
            let location = format!("{SITE_ORIGIN}{}", request.url());
            return Ok(text(308, "use localhost").with_header(header("Location", &location)?));
        }
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        let Some(file) = site_file(path) else {
            return Ok(text(404, "not found"));
        };
        let Ok(bytes) = fs::read(&file) else {
            return Ok(text(404, "not found"));
        };
        let Some(content_type) = content_type(&file) else {
            return Ok(text(404, "not found"));
        };
        let mut response = if content_type.starts_with("text/html") {
            let spanish = query.split('&').any(|pair| pair == "lang=es");
            Response::from_data(self.page(&bytes, spanish)?)
                .with_header(header("Content-Security-Policy", &self.csp)?)
        } else {
            Response::from_data(bytes)
        };
        for (name, value) in [
            ("Content-Type", content_type),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ] {
            response.add_header(header(name, value)?);
        }
        Ok(response)
    }

    /// The page with the snippet pasted in, in Spanish if asked.
    fn page(&self, html: &[u8], spanish: bool) -> Result<Vec<u8>> {
        let html = std::str::from_utf8(html).context("index.html is not UTF-8")?;
        let at = html
            .find(SNIPPET_MARKER)
            .with_context(|| format!("index.html lacks {SNIPPET_MARKER}"))?;
        // Indent the snippet's lines like the marker, as a web team would paste it.
        let indent = &html[html[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        let snippet = match indent.trim() {
            "" => self.snippet.replace('\n', &format!("\n{indent}")),
            _ => self.snippet.clone(),
        };
        let mut page = html.replacen(SNIPPET_MARKER, &snippet, 1);
        if spanish {
            ensure!(
                page.contains("<html lang=\"en\""),
                "index.html lacks <html lang=\"en\">"
            );
            page = page.replacen("<html lang=\"en\"", "<html lang=\"es\"", 1);
        }
        Ok(page.into_bytes())
    }
}

/// The policy a careful hospital sends: only its own resources, plus the
/// verifier's scripts and API. WebAssembly needs `'wasm-unsafe-eval'`. No
/// inline styles: the widget styles its shadow root with a constructed
/// stylesheet, which CSP does not restrict.
fn content_security_policy(verifier_origin: &str) -> String {
    [
        "default-src 'self'".to_owned(),
        format!("script-src 'self' {verifier_origin} 'wasm-unsafe-eval'"),
        format!("connect-src {verifier_origin}"),
        "style-src 'self'".to_owned(),
        "img-src 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
        // DOM injection sinks take only vetted values; the loader's policy vets its one script URL.
        "require-trusted-types-for 'script'".to_owned(),
        "trusted-types recordpass".to_owned(),
    ]
    .join("; ")
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> Result<&str> {
    let (scheme, rest) = url
        .split_once("://")
        .with_context(|| format!("not a URL: {url}"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    ensure!(
        !scheme.is_empty() && !authority.is_empty(),
        "not a URL: {url}"
    );
    Ok(&url[..scheme.len() + 3 + authority.len()])
}

/// Maps a URL path to a file under `demo-site/`, refusing anything that
/// could leave it (`..`, hidden files, backslashes).
fn site_file(url_path: &str) -> Option<PathBuf> {
    let relative = match url_path.trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    let safe = !relative.contains('\\')
        && Path::new(relative).components().all(|part| {
            matches!(part, Component::Normal(name) if !name.to_string_lossy().starts_with('.'))
        });
    safe.then(|| Path::new(SITE_DIR).join(relative))
}

fn content_type(file: &Path) -> Option<&'static str> {
    Some(match file.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

fn header(name: &str, value: &str) -> Result<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .map_err(|()| anyhow!("invalid header {name}: {value}"))
}

/// A plain-text response (tiny_http sets `Content-Type: text/plain`).
fn text(status: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body).with_status_code(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        let addr = listening_addr("INFO listening on http://127.0.0.1:39111");
        assert_eq!(addr, Some(([127, 0, 0, 1], 39111).into()));
        assert_eq!(listening_addr("starting"), None);
    }

    #[test]
    fn origin_drops_the_path() {
        assert_eq!(
            origin_of("http://localhost:8080/widget.js").ok(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            origin_of("https://records.example.org").ok(),
            Some("https://records.example.org")
        );
        assert!(origin_of("widget.js").is_err());
    }

    #[test]
    fn site_files_stay_inside_the_site() {
        assert_eq!(site_file("/"), Some(PathBuf::from("demo-site/index.html")));
        assert_eq!(
            site_file("/site.css"),
            Some(PathBuf::from("demo-site/site.css"))
        );
        for bad in ["/../Cargo.toml", "/a/../../x", "/.git/config", "/a\\..\\b"] {
            assert_eq!(site_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn page_gets_snippet_and_language() -> Result<()> {
        let site = Site {
            snippet: "<script src=x></script>\n<b></b>".into(),
            csp: String::new(),
        };
        let html = format!("<html lang=\"en\"><body>{SNIPPET_MARKER}</body></html>");
        let page = String::from_utf8(site.page(html.as_bytes(), true)?)?;
        assert_eq!(
            page,
            "<html lang=\"es\"><body><script src=x></script>\n<b></b></body></html>"
        );
        let indented = format!("<body>\n  {SNIPPET_MARKER}\n</body>");
        let page = String::from_utf8(site.page(indented.as_bytes(), false)?)?;
        assert_eq!(
            page,
            "<body>\n  <script src=x></script>\n  <b></b>\n</body>"
        );
        assert!(site.page(b"<html lang=\"en\"></html>", false).is_err());
        Ok(())
    }

    #[test]
    fn csp_allows_only_the_verifier_besides_self() {
        let csp = content_security_policy("http://localhost:8080");
        assert!(csp.contains("script-src 'self' http://localhost:8080 'wasm-unsafe-eval'"));
        assert!(csp.contains("connect-src http://localhost:8080;"));
        assert!(!csp.contains('*') && !csp.contains("unsafe-inline"));
    }
}
