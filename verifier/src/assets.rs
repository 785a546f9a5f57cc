//! The built widget: the loader, content-hashed glue and wasm, and the embed snippet.
//!
//! The snippet names the release's own loader, `assets/widget-<hash>.js`, whose
//! bytes never change (the snippet pins them with Subresource Integrity). The
//! current release is held in memory; files of earlier releases still in the
//! widget directory's `assets/` are served from disk, so pages that embed an
//! earlier release keep working after an upgrade until their snippet is
//! updated (docs/operations.md, "Upgrading").

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::{
    collections::HashMap,
    path::{Path as FsPath, PathBuf},
};

use recordpass_request::Lang;

use crate::{AppState, Error, config::Site, email::message::escape};

/// `manifest.json`, written by `cargo xtask build`.
#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    /// Loader file name (`widget.js`).
    pub loader: String,
    /// SRI value of the loader.
    pub loader_integrity: String,
    /// The release's own loader (`assets/widget-<hash>.js`), which the snippet
    /// names; absent in builds from before releases were kept.
    #[serde(default)]
    pub release_loader: Option<String>,
    /// SRI value of the release's loader.
    #[serde(default)]
    pub release_loader_integrity: Option<String>,
    /// Glue path relative to the dist directory.
    pub glue: String,
    /// Wasm path relative to the dist directory.
    pub wasm: String,
}

/// One file served from memory.
#[derive(Clone, Debug)]
struct Asset {
    bytes: Vec<u8>,
    /// Pre-compressed copies (`<name>.br`, `<name>.gz` from `cargo xtask
    /// build`), in order of preference: `(content-coding, bytes)`.
    encoded: Vec<(&'static str, Vec<u8>)>,
    content_type: &'static str,
    etag: String,
    immutable: bool,
}

/// Content codings served from pre-compressed files, best first.
const CODINGS: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// Whether the `Accept-Encoding` header accepts `coding` (listed, or `*`, and
/// not with `q=0`).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut star = false;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case(coding) {
            return !refused;
        }
        star |= name == "*" && !refused;
    }
    star
}

/// The widget files, loaded once at start-up.
#[derive(Debug, Default)]
pub struct Assets {
    manifest: Option<Manifest>,
    files: HashMap<String, Asset>,
    /// The widget directory, where earlier releases' `assets/` files are read.
    dir: PathBuf,
}

/// What a web team pastes, with the values it depends on.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Embed {
    /// Loader URL.
    pub script_url: String,
    /// SRI value for the loader's `integrity` attribute.
    pub integrity: String,
    /// The HTML to paste (script tag and one element).
    pub snippet: String,
    /// The CSP directives the host page needs.
    pub csp: String,
}

impl Assets {
    /// Loads `dir/manifest.json` and the files it names. A missing build only
    /// logs a warning: the API works without the widget.
    pub fn load(dir: &FsPath) -> Assets {
        match Assets::try_load(dir) {
            Ok(assets) => assets,
            Err(e) => {
                tracing::warn!("widget not served ({e}); run `cargo xtask build`");
                Assets::default()
            }
        }
    }

    /// Reads `name` (and its pre-compressed copies) from the widget directory.
    fn read(dir: &FsPath, name: &str, immutable: bool) -> Result<Asset, String> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let encoded = CODINGS
            .iter()
            .filter_map(|(coding, ext)| {
                let copy = std::fs::read(dir.join(format!("{name}.{ext}"))).ok()?;
                Some((*coding, copy))
            })
            .collect();
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
        let content_type = if name.ends_with(".wasm") {
            "application/wasm"
        } else {
            "text/javascript; charset=utf-8"
        };
        Ok(Asset {
            bytes,
            encoded,
            content_type,
            etag,
            immutable,
        })
    }

    fn try_load(dir: &FsPath) -> Result<Assets, String> {
        let path = dir.join("manifest.json");
        let manifest: Manifest = std::fs::read(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| format!("manifest.json: {e}"))
            })?;
        let mut files = HashMap::new();
        let release = manifest.release_loader.iter().map(|name| (name, true));
        for (name, immutable) in [
            (&manifest.loader, false),
            (&manifest.glue, true),
            (&manifest.wasm, true),
        ]
        .into_iter()
        .chain(release)
        {
            files.insert(name.clone(), Assets::read(dir, name, immutable)?);
        }
        Ok(Assets {
            manifest: Some(manifest),
            files,
            dir: dir.to_owned(),
        })
    }

    /// The embed snippet of `site` for a verifier reachable at `base_url`.
    pub fn embed(&self, base_url: &str, site: &Site) -> Option<Embed> {
        let manifest = self.manifest.as_ref()?;
        let base = base_url.trim_end_matches('/');
        let (loader, integrity) =
            match (&manifest.release_loader, &manifest.release_loader_integrity) {
                (Some(loader), Some(integrity)) => (loader, integrity),
                _ => (&manifest.loader, &manifest.loader_integrity),
            };
        let script_url = format!("{base}/{loader}");
        let snippet = format!(
            "<script async src=\"{script_url}\" integrity=\"{integrity}\" crossorigin=\"anonymous\"></script>\n\
             <recordpass-request site=\"{}\">\n  {}\n</recordpass-request>",
            escape(&site.id),
            fallback(site),
        );
        let csp = format!("script-src {base} 'wasm-unsafe-eval'; connect-src {base}");
        Some(Embed {
            script_url,
            integrity: integrity.clone(),
            snippet,
            csp,
        })
    }

    /// The current release's file `name`.
    fn response(&self, name: &str, headers: &HeaderMap) -> Response {
        match self.files.get(name) {
            Some(asset) => Assets::respond(asset, headers),
            None => Error::NotFound.into_response(),
        }
    }

    /// `assets/{file}`: the current release's from memory, else an earlier
    /// release's read from disk (content-hashed, so immutable too).
    async fn asset_response(&self, file: &str, headers: &HeaderMap) -> Response {
        let name = format!("assets/{file}");
        if self.files.contains_key(&name) || self.manifest.is_none() || !is_release_file(file) {
            return self.response(&name, headers);
        }
        let dir = self.dir.clone();
        let read = tokio::task::spawn_blocking(move || Assets::read(&dir, &name, true)).await;
        match read {
            Ok(Ok(asset)) => Assets::respond(&asset, headers),
            _ => Error::NotFound.into_response(),
        }
    }

    fn respond(asset: &Asset, headers: &HeaderMap) -> Response {
        let encoded = asset
            .encoded
            .iter()
            .find(|(coding, _)| accepts(headers, coding));
        // Each representation has its own validator.
        let etag = match encoded {
            Some((coding, _)) => format!("{}-{coding}\"", asset.etag.trim_end_matches('"')),
            None => asset.etag.clone(),
        };
        let cache = if asset.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let common = [
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::ETAG,
                HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
            ),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("cross-origin"),
            ),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes());
        if fresh {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        let content_type = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )];
        match encoded {
            Some((coding, bytes)) => {
                let coding = [(header::CONTENT_ENCODING, HeaderValue::from_static(coding))];
                (common, content_type, coding, bytes.clone()).into_response()
            }
            None => (common, content_type, asset.bytes.clone()).into_response(),
        }
    }
}

/// Whether `file` is named as `cargo xtask build` names a release's files,
/// `<stem>-<16 hex digits>.<js|wasm>`: nothing else under `assets/` is read.
fn is_release_file(file: &str) -> bool {
    let Some((stem_hash, ext)) = file.rsplit_once('.') else {
        return false;
    };
    let Some((stem, hash)) = stem_hash.rsplit_once('-') else {
        return false;
    };
    matches!(ext, "js" | "wasm")
        && !stem.is_empty()
        && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && hash.len() == 16
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `path` is one of the files hospital pages load cross-origin
/// (`/widget.js`, `/assets/…`): those carry no anti-framing headers.
pub fn is_widget_file(path: &str) -> bool {
    path == "/widget.js" || path.starts_with("/assets/")
}

/// `GET /widget.js` and `GET /assets/{file}` (`GET /embed.json` is
/// [`embed`], in the OpenAPI document).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(loader))
        .route("/assets/{file}", get(asset))
}

async fn loader(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.assets.response("widget.js", &headers)
}

async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    state.assets.asset_response(&file, &headers).await
}

/// The query of `/embed.json`.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct EmbedQuery {
    /// The site to embed (`[[sites]] id`); default: the first configured.
    site: Option<String>,
}

/// The embed snippet for a site, with its SRI value and the CSP the page needs.
#[utoipa::path(
    get,
    path = "/embed.json",
    tag = "evidence",
    params(EmbedQuery),
    responses(
        (status = 200, description = "The snippet.", body = Embed),
        (status = 404, description = "`not_found`: the widget is not built, or no site has that id.", body = recordpass_request::api::ApiError),
    ),
)]
pub async fn embed(
    State(state): State<AppState>,
    Query(query): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Result<Json<Embed>, Error> {
    let base = public_base_url(&state, &headers);
    let site = state
        .config
        .site_or_first(query.site.as_deref())
        .ok_or(Error::NotFound)?;
    state
        .assets
        .embed(&base, site)
        .map(Json)
        .ok_or(Error::NotFound)
}

/// What the element holds for the page itself: shown where the widget cannot
/// run (no scripts, or blocked ones), and by the loader beside its failure
/// message (through a `<slot>`); hidden while the widget runs. The HIM
/// department's phone, in the site's first language, with a `tel:` link.
fn fallback(site: &Site) -> String {
    let (lead, at) = match site.languages.first() {
        Some(Lang::Es) => (
            "Para solicitar sus registros médicos, llame al departamento de registros médicos de",
            "al",
        ),
        _ => (
            "To request your medical records, call the medical records department of",
            "at",
        ),
    };
    let dial: String = site
        .him_phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    format!(
        "<p>{lead} {} {at} <a href=\"tel:{dial}\">{}</a>.</p>",
        escape(&site.name),
        escape(&site.him_phone),
    )
}

/// The configured public URL, else `http://localhost:<port>` from the `Host` header.
pub fn public_base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let port = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, port)| port.to_owned())
        .unwrap_or_else(|| state.config.listen.port().to_string());
    format!("http://localhost:{port}")
}
