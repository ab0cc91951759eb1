//! `GET /v1/silent/thresholds`: what a `verification_score` threshold means, from the engine's
//! calibration. The score is defined on the seed's line (`score = 0.3 + 0.1 * -log10(FAR)`), fed
//! with the engine's measured FAR, so each published threshold keeps its meaning; this endpoint
//! shows, per threshold, the cosine similarity it corresponds to and what was measured there.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use faceproof_engine::calibrate::verification::{PublishedFarTable, far_from_score};
use serde_json::json;

use crate::metrics::Outcome;
use crate::state::Shared;

/// The seed's recommended threshold.
const RECOMMENDED: f64 = 0.7;

pub async fn thresholds(State(state): State<Shared>) -> Response {
    let far_model = state.engine.far_model();
    let rows: Vec<_> = PublishedFarTable::silent_compare_seed()
        .rows
        .iter()
        .map(|&(threshold, published_far)| {
            let cosine = far_model.threshold_for_far(far_from_score(threshold));
            json!({
                "threshold": threshold,
                "published_far": published_far,
                "cosine_similarity": cosine,
                "measured": far_model.far_at(cosine),
            })
        })
        .collect();
    let mut resp = Json(json!({
        "recommended_threshold": RECOMMENDED,
        "table": rows,
        "match_cosine_threshold": state.engine.match_threshold(),
        "calibration": state.engine.calibration().provenance,
    }))
    .into_response();
    resp.extensions_mut().insert(Outcome::new("silent", "1000"));
    resp
}
