//! (in progress)
/// Fitted fusion models (liveness, deepfake) and the face-match FAR model.
#[derive(Debug, Clone, Default)]
pub struct Calibration {}
/// Placeholder.
#[derive(Debug, Clone, Default)]
pub struct FusionModels {}
