//! The web SDK and its demo, served by faceproof itself (never a CDN at run time):
//!
//! - `GET /sdk/{*path}` from `<sdk_dir>/dist/`;
//! - `GET /demo/` (its `index.html`) and `GET /demo/{*path}` from `<sdk_dir>/dist/demo/`;
//! - `GET /sdk/models/blazeface_short.onnx`: the model pack's own detector file, the one the
//!   engine loaded, so the browser's guidance and the server run the same model;
//! - `GET /docs` and `GET /docs/{*path}`: the API reference (Swagger UI's files) from
//!   `<apidocs_dir>/dist/`, or the page inside the binary when that is not built.
//!
//! Paths are checked segment by segment (no `..`, `.`, dot-files, backslashes or NULs) and the
//! resolved file must lie inside its root, symlinks included. A missing folder or file is a 404
//! with a JSON body (`FILE_NOT_FOUND`). Every answer has `X-Content-Type-Options: nosniff`; HTML
//! is revalidated on every load (`no-cache`), other files are cached 5 minutes, the model a day
//! (it is pinned by its sha256, which is also its ETag).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use faceproof_vision::Range;
use serde_json::json;

use crate::metrics::Outcome;
use crate::state::Shared;

/// Metrics label of static answers.
const API: &str = "static";

/// URL of the detector model inside `/sdk/`.
pub const MODEL_PATH: &str = "models/blazeface_short.onnx";

fn not_found(what: &str) -> Response {
    let mut resp = (
        StatusCode::NOT_FOUND,
        [(header::X_CONTENT_TYPE_OPTIONS, "nosniff")],
        axum::Json(json!({"code": "FILE_NOT_FOUND", "message": format!("no such file: {what}")})),
    )
        .into_response();
    resp.extensions_mut().insert(Outcome::new(API, "404"));
    resp
}

/// The content type of a served file, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("txt" | "ts" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `rel` under `root`, or `None` when a segment could leave it or hide a file: empty, `.`, `..`,
/// a dot-file, a backslash, a NUL or a drive-like colon. A trailing `/` (or nothing) names the
/// folder's `index.html`.
pub fn safe_join(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    let (dir, index) = match rel.strip_suffix('/') {
        Some(d) => (d, true),
        None => (rel, rel.is_empty()),
    };
    if !dir.is_empty() {
        for seg in dir.split('/') {
            let bad = seg.is_empty()
                || seg.starts_with('.')
                || seg.contains(['\\', '\0', ':'])
                || seg.len() > 255;
            if bad {
                return None;
            }
            out.push(seg);
        }
    }
    if index {
        out.push("index.html");
    }
    Some(out)
}

fn cache_control(path: &Path) -> &'static str {
    if content_type(path).starts_with("text/html") {
        "no-cache"
    } else {
        "public, max-age=300"
    }
}

/// Serves `rel` from `root`: the path rules above, then the file if it is a regular file whose
/// real path is inside the real root.
pub(crate) async fn serve_file(root: &Path, rel: &str, headers: &HeaderMap) -> Response {
    let Some(path) = safe_join(root, rel) else {
        return not_found(rel);
    };
    let (Ok(real_root), Ok(real)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(&path).await,
    ) else {
        return not_found(rel);
    };
    if !real.starts_with(&real_root) {
        return not_found(rel);
    }
    let Ok(meta) = tokio::fs::metadata(&real).await else {
        return not_found(rel);
    };
    if !meta.is_file() {
        return not_found(rel);
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("W/\"{:x}-{:x}\"", meta.len(), mtime);
    file_response(&real, &etag, cache_control(&path), headers).await
}

async fn file_response(path: &Path, etag: &str, cache: &str, headers: &HeaderMap) -> Response {
    let etag_value = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let mut builder = Response::builder()
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, etag_value);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if fresh {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        builder.body(Body::empty())
    } else {
        match tokio::fs::read(path).await {
            Ok(bytes) => builder
                .header(header::CONTENT_TYPE, content_type(path))
                .body(Body::from(bytes)),
            Err(_) => return not_found(&path.file_name().unwrap_or_default().to_string_lossy()),
        }
    }
    .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    resp.extensions_mut()
        .insert(Outcome::new(API, if fresh { "304" } else { "200" }));
    resp
}

fn sdk_root(state: &Shared) -> PathBuf {
    state.cfg.sdk_dir.join("dist")
}

/// `GET /sdk/{*path}`.
pub async fn sdk(
    State(state): State<Shared>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if path == MODEL_PATH {
        return model(&state, &headers).await;
    }
    serve_file(&sdk_root(&state), &path, &headers).await
}

/// The detector the engine loaded, with its pinned sha256 as a strong ETag.
async fn model(state: &Shared, headers: &HeaderMap) -> Response {
    let m = state.engine.vision().detector(Range::Short).model();
    let etag = format!("\"{}\"", m.sha256());
    file_response(m.path(), &etag, "public, max-age=86400", headers).await
}

/// `GET /demo/{*path}`.
pub async fn demo(
    State(state): State<Shared>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&sdk_root(&state).join("demo"), &path, &headers).await
}

/// `GET /demo/`: the demo page.
pub async fn demo_index(State(state): State<Shared>, headers: HeaderMap) -> Response {
    serve_file(&sdk_root(&state).join("demo"), "", &headers).await
}

/// `GET /demo`: to `/demo/`, so the page's relative links resolve inside it.
pub async fn demo_redirect() -> Redirect {
    Redirect::permanent("/demo/")
}

fn apidocs_root(state: &Shared) -> PathBuf {
    state.cfg.apidocs_dir.join("dist")
}

/// `GET /docs`: Swagger UI's page over `/openapi.json` when `scripts/apidocs.sh` built it, else
/// the small reference page inside the binary (a service started without Node still has one).
pub async fn docs(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let root = apidocs_root(&state);
    if tokio::fs::metadata(root.join("index.html"))
        .await
        .is_ok_and(|m| m.is_file())
    {
        serve_file(&root, "index.html", &headers).await
    } else {
        crate::openapi::page().await.into_response()
    }
}

/// `GET /docs/{*path}`: the API reference's files (Swagger UI's script and style, our start-up).
pub async fn docs_file(
    State(state): State<Shared>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&apidocs_root(&state), &path, &headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_only_plain_segments() {
        let root = Path::new("/srv/dist");
        assert_eq!(
            safe_join(root, "faceproof-capture.js"),
            Some(root.join("faceproof-capture.js"))
        );
        assert_eq!(
            safe_join(root, "wasm/ort.wasm"),
            Some(root.join("wasm/ort.wasm"))
        );
        assert_eq!(safe_join(root, ""), Some(root.join("index.html")));
        assert_eq!(safe_join(root, "sub/"), Some(root.join("sub/index.html")));
        for bad in [
            "..",
            "../x",
            "a/../../x",
            "./x",
            "a//b",
            ".env",
            "a/.git/config",
            "a\\..\\b",
            "c:x",
            "a\0b",
            "/etc/passwd",
        ] {
            assert_eq!(safe_join(root, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn content_types() {
        for (f, t) in [
            ("a.js", "text/javascript; charset=utf-8"),
            ("a.mjs", "text/javascript; charset=utf-8"),
            ("a.wasm", "application/wasm"),
            ("index.html", "text/html; charset=utf-8"),
            ("a.json", "application/json"),
            ("shot.PNG", "image/png"),
            ("model.onnx", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(f)), t, "{f}");
        }
    }
}
