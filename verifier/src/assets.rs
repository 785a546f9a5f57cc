//! The built widget: the loader, content-hashed glue and wasm, and the embed snippet.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::{collections::HashMap, path::Path as FsPath};

use crate::{AppState, Error};

/// `manifest.json`, written by `cargo xtask build`.
#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    /// Loader file name (`widget.js`).
    pub loader: String,
    /// SRI value of the loader.
    pub loader_integrity: String,
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

    fn try_load(dir: &FsPath) -> Result<Assets, String> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let manifest: Manifest = serde_json::from_slice(&read("manifest.json")?)
            .map_err(|e| format!("manifest.json: {e}"))?;
        let mut files = HashMap::new();
        for (name, immutable) in [
            (&manifest.loader, false),
            (&manifest.glue, true),
            (&manifest.wasm, true),
        ] {
            let bytes = read(name)?;
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
            files.insert(
                name.clone(),
                Asset {
                    bytes,
                    encoded,
                    content_type,
                    etag,
                    immutable,
                },
            );
        }
        Ok(Assets {
            manifest: Some(manifest),
            files,
        })
    }

    /// The embed snippet for a verifier reachable at `base_url`.
    pub fn embed(&self, base_url: &str, site_id: &str) -> Option<Embed> {
        let manifest = self.manifest.as_ref()?;
        let base = base_url.trim_end_matches('/');
        let script_url = format!("{base}/{}", manifest.loader);
        let snippet = format!(
            "<script async src=\"{script_url}\" integrity=\"{}\" crossorigin=\"anonymous\"></script>\n\
             <recordpass-request site=\"{site_id}\"></recordpass-request>",
            manifest.loader_integrity
        );
        let csp = format!("script-src {base} 'wasm-unsafe-eval'; connect-src {base}");
        Some(Embed {
            script_url,
            integrity: manifest.loader_integrity.clone(),
            snippet,
            csp,
        })
    }

    fn response(&self, name: &str, headers: &HeaderMap) -> Response {
        let Some(asset) = self.files.get(name) else {
            return Error::NotFound.into_response();
        };
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
    state.assets.response(&format!("assets/{file}"), &headers)
}

/// The embed snippet for the first site, with its SRI value and the CSP the page needs.
#[utoipa::path(
    get,
    path = "/embed.json",
    tag = "evidence",
    responses(
        (status = 200, description = "The snippet.", body = Embed),
        (status = 404, description = "`not_found`: the widget is not built.", body = recordpass_request::api::ApiError),
    ),
)]
pub async fn embed(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Embed>, Error> {
    let base = public_base_url(&state, &headers);
    let site = state
        .config
        .sites
        .first()
        .map(|s| s.id.as_str())
        .unwrap_or_default();
    state
        .assets
        .embed(&base, site)
        .map(Json)
        .ok_or(Error::NotFound)
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
