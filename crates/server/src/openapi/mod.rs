//! `GET /openapi.json`, generated from the code (utoipa): the request and answer schemas are
//! derived from the very types the handlers parse and serialise, so the document cannot drift
//! from the wire; the operations are declared in `paths.rs`, one per entry of
//! [`crate::routes`] (a test checks both lists are the same). `GET /docs` is Swagger UI over the
//! document (`apidocs/`, served by `static_files`); [`page`] (`docs.html`, inside the binary) is
//! its stand-in when that folder is not built.

pub(crate) mod examples;
mod paths;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Adds the credentials each API takes.
struct Credentials;

impl utoipa::Modify for Credentials {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        let header = |name: &str| SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(name)));
        c.add_security_scheme("ApiKey", header("api-key"));
        c.add_security_scheme("AccessToken", header("X-ACCESS-TOKEN"));
        c.add_security_scheme("CaptureToken", header("x-capture-token"));
        c.add_security_scheme(
            "Bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "faceproof",
        description = "Face liveness and face match behind three vendor-compatible APIs (FPT.AI \
            Liveness v3, silent video + photo compare, ADVANCE.AI Liveness v3), browser capture \
            and operations. Choices the vendor documents leave open: docs/api.md."
    ),
    paths(
        paths::fpt_liveness,
        paths::silent_video_compare,
        paths::silent_public_key,
        paths::silent_thresholds,
        paths::advance_generate_token,
        paths::advance_signature_id,
        paths::advance_capture,
        paths::advance_detection_result,
        paths::advance_liveness_detection,
        paths::files,
        paths::capture_tokens,
        paths::challenges,
        paths::capture_context,
        paths::gallery_block,
        paths::gallery_unblock,
        paths::gallery_delete,
        paths::sdk,
        paths::demo_redirect,
        paths::demo_index,
        paths::demo,
        paths::healthz,
        paths::readyz,
        paths::metrics,
        paths::openapi_json,
        paths::docs,
        paths::docs_file,
    ),
    components(schemas(
        crate::fpt::response::FptResponse,
        crate::fpt::response::LivenessPart,
        crate::fpt::response::FaceMatchPart,
        crate::fpt::v2::FptV2Response,
        crate::silent::CompareRequest,
        crate::silent::SilentError,
        crate::silent::response::SilentResponse,
        crate::advance::AdvanceReply,
        crate::advance::TokenRequest,
        crate::advance::SignatureRequest,
        crate::advance::ResultRequest,
        crate::capture::MintRequest,
        crate::capture::ChallengeRequest,
        paths::FptForm,
        paths::CaptureForm,
    )),
    modifiers(&Credentials),
    tags(
        (name = "fpt", description = "FPT.AI Liveness v3 compatible"),
        (name = "silent", description = "Silent video + photo compare compatible (HPKE envelopes: docs/api-silent.md)"),
        (name = "advance", description = "ADVANCE.AI Liveness v3 compatible"),
        (name = "capture", description = "Browser capture: capture tokens, challenges, the web SDK (extensions)"),
        (name = "gallery", description = "1:N: blocklist and deletion by customer reference (docs/gallery.md)"),
        (name = "ops", description = "Health, metrics, this description"),
    )
)]
pub struct ApiDoc;

/// The document, built once.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], json()).into_response()
}

pub async fn page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
