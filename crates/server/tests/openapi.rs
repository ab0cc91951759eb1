//! `/openapi.json` is generated from the code: every route the router registers is described
//! (and nothing else), and the document holds together (OpenAPI 3.1 structure checked here in
//! Rust: it parses as utoipa's model, every `$ref` resolves, every path template's parameters are
//! declared, operation ids are unique, every operation has a tag, a summary and answers, every
//! security requirement names a declared scheme).

mod common;

use std::collections::{BTreeSet, HashSet};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Harness;
use serde_json::Value;

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.push(r);
            }
            o.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_described_and_the_document_holds_together() {
    let h = Harness::new().await;
    let (s, _, doc) = h
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(faceproof_server::openapi::json()).unwrap()
    );

    // The router's one list of routes, in OpenAPI's template syntax, is the document's.
    let routed: BTreeSet<String> = faceproof_server::routes(&h.state)
        .iter()
        .map(|r| format!("{} {}", r.method, r.path.replace("{*", "{")))
        .collect();
    let paths = doc["paths"].as_object().unwrap();
    let described: BTreeSet<String> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {p}", m.to_uppercase()))
        })
        .collect();
    assert_eq!(routed, described);
    assert!(routed.len() >= 22, "{routed:?}");

    // It is OpenAPI 3.1 in utoipa's model.
    assert_eq!(doc["openapi"], "3.1.0");
    let parsed: utoipa::openapi::OpenApi =
        serde_json::from_value(doc.clone()).expect("parses as an OpenAPI document");
    assert_eq!(parsed.paths.paths.len(), paths.len());

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    let tags: HashSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut all_refs = Vec::new();
    refs(&doc, &mut all_refs);
    assert!(all_refs.len() > 20, "{all_refs:?}");
    for r in all_refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}: not a schema reference"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    let mut ids = HashSet::new();
    for (path, item) in paths {
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(templated, declared, "{what}: path parameters");
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "{what}: duplicate operationId"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: no summary"
            );
            let op_tags = op["tags"].as_array().unwrap();
            assert!(
                op_tags.iter().all(|t| tags.contains(t.as_str().unwrap())),
                "{what}: undeclared tag"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{what}: no responses");
            for status in responses.keys() {
                assert!(
                    status.parse::<u16>().is_ok_and(|s| (100..600).contains(&s)),
                    "{what}: {status}"
                );
            }
            for req in op["security"].as_array().into_iter().flatten() {
                for scheme in req.as_object().unwrap().keys() {
                    assert!(
                        schemes.contains_key(scheme),
                        "{what}: undeclared scheme {scheme}"
                    );
                }
            }
        }
    }
    // The vendor answers are described by the types the handlers serialise.
    for name in [
        "FptResponse",
        "FptV2Response",
        "SilentResponse",
        "SilentError",
        "AdvanceReply",
        "CompareRequest",
    ] {
        assert!(schemas.contains_key(name), "{name} missing");
    }
    let fpt = &schemas["FptResponse"]["properties"];
    for field in ["code", "message", "liveness", "face_match"] {
        assert!(fpt.get(field).is_some(), "FptResponse.{field}");
    }
    assert!(
        schemas["FaceMatchPart"]["properties"]
            .get("isMatch")
            .is_some()
    );
    assert!(
        schemas["AdvanceReply"]["properties"]
            .get("transactionId")
            .is_some()
    );

    // The three upload routes the capture SDK posts to declare the device header it sends.
    for (path, method) in [
        ("/vision/ekyc/liveness", "post"),
        ("/v1/silent/video-compare", "post"),
        ("/openapi/liveness/v3/capture", "post"),
    ] {
        let params = paths[path][method]["parameters"].as_array().unwrap();
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "x-faceproof-device" && p["in"] == "header"),
            "{path}: {params:?}"
        );
    }

    // /docs is the interactive page, with no asset from elsewhere.
    let (s, html, _) = h
        .send_raw(Request::get("/docs").body(Body::empty()).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("/openapi.json"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "external asset in /docs"
    );
}

/// The examples are answers the adapters really produce, in their schemas' shape.
#[test]
fn examples_are_real_answers() {
    let doc: Value = serde_json::from_str(faceproof_server::openapi::json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    for name in [
        "FptResponse",
        "SilentResponse",
        "AdvanceReply",
        "CompareRequest",
    ] {
        let example = &schemas[name]["example"];
        let props = schemas[name]["properties"].as_object().unwrap();
        let keys = example
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no example"));
        for k in keys.keys() {
            assert!(
                props.contains_key(k),
                "{name} example has {k}, not in the schema"
            );
        }
        for r in schemas[name]["required"].as_array().into_iter().flatten() {
            assert!(
                keys.contains_key(r.as_str().unwrap()),
                "{name} example lacks {r}"
            );
        }
    }
    assert_eq!(schemas["FptResponse"]["example"]["code"], "200");
    assert_eq!(
        schemas["FptResponse"]["example"]["face_match"]["isMatch"],
        "true"
    );
    assert_eq!(schemas["SilentResponse"]["example"]["code"], 1000);
}

/// With the API reference built (`scripts/apidocs.sh`), `/docs` is its page and `/docs/` its
/// files, inside the folder only; without it, the page inside the binary (above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_serves_the_built_reference_and_only_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>built reference</title>",
    )
    .unwrap();
    std::fs::write(dist.join("swagger-ui.css"), "body{}").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "outside dist").unwrap();
    let h = Harness::with(faceproof_server::ServerConfig {
        apidocs_dir: dir.path().to_path_buf(),
        ..faceproof_server::ServerConfig::default()
    })
    .await;
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let (s, html, headers) = h.send_raw(get("/docs")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8(html).unwrap().contains("built reference"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let (s, css, headers) = h.send_raw(get("/docs/swagger-ui.css")).await;
    assert_eq!((s, css.as_slice()), (StatusCode::OK, b"body{}".as_slice()));
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    for path in [
        "/docs/../secret.txt",
        "/docs/%2e%2e/secret.txt",
        "/docs/missing.js",
    ] {
        let (s, _, _) = h.send_raw(get(path)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
}
