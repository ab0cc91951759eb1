//! `GET /v1/silent/thresholds`: what a `verification_score` threshold means.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::metrics::Outcome;
use crate::state::Shared;

/// The seed's table: threshold -> nominal false-accept rate. The engine's `verification_score` is
/// calibrated onto this line (its doc: 0.4 -> 1/10 ... 0.9 -> 1/1,000,000).
const NOMINAL: [(f64, f64); 6] = [
    (0.4, 1e-1),
    (0.5, 1e-2),
    (0.6, 1e-3),
    (0.7, 1e-4),
    (0.8, 1e-5),
    (0.9, 1e-6),
];

pub async fn thresholds(State(state): State<Shared>) -> Response {
    let rows: Vec<_> = NOMINAL
        .iter()
        .map(|(t, far)| json!({"threshold": t, "nominal_far": far}))
        .collect();
    let mut resp = Json(json!({
        "recommended_threshold": 0.7,
        "table": rows,
        "match_cosine_threshold": state.engine.match_threshold(),
        // TODO(engine calibration): publish the measured FAR per threshold from the engine's
        // calibration (impostor counts, estimation method) once `Engine::calibration()` exposes
        // the FAR model in a committed release; until then only the nominal line is served.
        "measured": serde_json::Value::Null,
    }))
    .into_response();
    resp.extensions_mut().insert(Outcome::new("silent", "1000"));
    resp
}
