//! The OpenAPI 3.1 contract, generated from the routes and types themselves:
//! each documented route is registered with its `#[utoipa::path]` description
//! (see [`crate::routes::requester_api`] and [`crate::routes::documented`]), and
//! every schema is derived from the serde types in `recordpass_request::api`.
//!
//! Served at `GET /openapi.json`, printed by `recordpass-verifier openapi`, and
//! committed as `docs/api/openapi.json` (a test fails when it differs).

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use recordpass_request::api::{ApiError, ErrorCode};
use std::sync::LazyLock;
use utoipa::{
    Modify, OpenApi, PartialSchema, ToSchema,
    openapi::{
        self, Content, HttpMethod, Ref, RefOr, ResponseBuilder, header::Header, path::Operation,
        schema::Type,
    },
};

/// The document's fixed parts; paths and schemas are collected from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Recordpass verifier",
        description = "Patients request their medical records from a hospital's website and sign \
            the request with a passkey. The widget calls the requester API; probes, the seal key \
            and the embed snippet serve operators and auditors; the staff endpoints serve the HIM \
            console's own pages. Every 4xx and 5xx response has the `ApiError` body with a \
            stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "requester", description = "What the widget calls: email proof, passkey creation, signing."),
        (name = "operations", description = "Health probes and this document."),
        (name = "evidence", description = "Published facts auditors and web teams need."),
        (name = "staff", description = "The HIM staff console's passkey sign-in and enrolment (same-origin; its pages are HTML)."),
    ),
    components(schemas(ApiError, ErrorCode)),
)]
pub struct ApiDoc;

/// The generated document.
pub fn spec() -> openapi::OpenApi {
    let mut spec = crate::routes::documented().into_openapi();
    CommonErrors.modify(&mut spec);
    RequesterSession.modify(&mut spec);
    spec
}

/// The generated document as pretty JSON with a trailing newline, exactly as
/// committed in `docs/api/openapi.json`.
pub fn to_json() -> String {
    static JSON: LazyLock<String> = LazyLock::new(|| {
        let mut json = spec()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        json.push('\n');
        json
    });
    JSON.clone()
}

/// The returning requester's bearer session (`POST /api/v1/sign-ins/{id}/finish`).
struct RequesterSession;

impl Modify for RequesterSession {
    fn modify(&self, spec: &mut openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "`session_token` from signing in with a passkey; 15 minutes idle, 1 hour at most.",
            ))
            .build();
        spec.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("requester_session", SecurityScheme::Http(scheme));
    }
}

/// `GET /openapi.json`: this verifier's API contract.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object)),
)]
pub async fn serve() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        to_json(),
    )
        .into_response()
}

/// An error response that any operation can give, registered once under
/// `components/responses` and referenced from each operation.
struct Common {
    name: &'static str,
    status: &'static str,
    description: &'static str,
    /// Only operations with a JSON request body can give it...
    needs_body: bool,
    /// ...or, if set, any operation under [`crate::routes::API_PREFIX`].
    every_api_route: bool,
}

const COMMON: &[Common] = &[
    Common {
        name: "MalformedJson",
        status: "400",
        description: "`malformed_json`: the body is not JSON of this operation's shape.",
        needs_body: true,
        every_api_route: false,
    },
    Common {
        name: "PayloadTooLarge",
        status: "413",
        description: "`payload_too_large`: the body exceeds the limit (64 KiB for the requester API).",
        needs_body: true,
        every_api_route: false,
    },
    Common {
        name: "UnsupportedMediaType",
        status: "415",
        description: "`unsupported_media_type`: the body is not `application/json`.",
        needs_body: true,
        every_api_route: false,
    },
    Common {
        name: "RateLimited",
        status: "429",
        description: "`rate_limited`: too many requests from this client (or codes for this \
                      address); retry after `Retry-After` seconds.",
        needs_body: true,
        every_api_route: true,
    },
    Common {
        name: "Internal",
        status: "500",
        description: "`internal`: something went wrong on the verifier; nothing was stored.",
        needs_body: false,
        every_api_route: false,
    },
    Common {
        name: "Unavailable",
        status: "503",
        description: "`unavailable`: the verifier took longer than `request_timeout_secs`, or is \
                      not ready; retry shortly.",
        needs_body: false,
        every_api_route: false,
    },
];

/// Adds [`COMMON`] to every operation that does not describe that status itself.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for common in COMMON {
            let mut response = ResponseBuilder::new()
                .description(common.description)
                .content(
                    "application/json",
                    Content::new(Some(RefOr::Ref(Ref::from_schema_name(ApiError::name())))),
                );
            if common.status == "429" {
                response = response.header(
                    "Retry-After",
                    Header::new(
                        openapi::ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .description(Some("Seconds to wait before retrying.")),
                    ),
                );
            }
            components
                .responses
                .insert(common.name.to_owned(), RefOr::T(response.build()));
        }
        // The error code enum is referenced by name from `ApiError`.
        components
            .schemas
            .entry(ErrorCode::name().into_owned())
            .or_insert_with(ErrorCode::schema);
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with(crate::routes::API_PREFIX);
            for method in [HttpMethod::Get, HttpMethod::Post] {
                if let Some(operation) = operation_mut(item, &method) {
                    add_common(operation, api);
                }
            }
        }
    }
}

fn operation_mut<'a>(
    item: &'a mut openapi::PathItem,
    method: &HttpMethod,
) -> Option<&'a mut Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        _ => None,
    }
}

fn add_common(operation: &mut Operation, api: bool) {
    let has_body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    let applies = |c: &&Common| has_body || !c.needs_body || (api && c.every_api_route);
    for common in COMMON.iter().filter(applies) {
        responses
            .entry(common.status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(common.name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == to_json(),
            "docs/api/openapi.json differs from the API the code serves; regenerate it with\n  \
             cargo run -q -p recordpass-verifier -- openapi > docs/api/openapi.json\n\
             and review the diff"
        );
    }

    #[test]
    fn the_console_json_endpoints_are_the_documented_ones() {
        let spec = spec();
        let mut documented: Vec<String> = spec
            .paths
            .paths
            .iter()
            .filter(|(path, _)| path.starts_with("/console/"))
            .map(|(path, item)| {
                assert!(item.post.is_some() && item.get.is_none(), "{path}");
                format!("POST {path}")
            })
            .collect();
        let mut served: Vec<String> = crate::console::routes()
            .iter()
            .filter(|r| r.path.starts_with("/console/api/"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        documented.sort();
        served.sort();
        assert!(!served.is_empty());
        assert_eq!(documented, served);
    }

    #[test]
    fn seal_key_is_documented_where_it_is_served() {
        assert!(spec().paths.paths.contains_key(crate::seal::SEAL_KEY_PATH));
    }

    #[test]
    fn every_error_response_uses_the_one_error_body() {
        let spec: serde_json::Value =
            serde_json::from_str(&to_json()).expect("the document is JSON");
        assert_eq!(spec["openapi"], "3.1.0");
        let paths = spec["paths"].as_object().expect("paths");
        assert!(paths.contains_key("/api/v1/signatures/{id}/finish"));
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("path item") {
                for (status, response) in operation["responses"].as_object().expect("responses") {
                    if !status.starts_with(['4', '5']) {
                        continue;
                    }
                    let response = match response["$ref"].as_str() {
                        Some(r) => {
                            &spec["components"]["responses"]
                                [r.trim_start_matches("#/components/responses/")]
                        }
                        None => response,
                    };
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ApiError",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}
