//! Why a signal could not be measured, with the numbers that made it impossible.

use thiserror::Error;

/// A signal refused its input. Every variant carries what was measured, so the verdict can say
/// why a signal is missing instead of silently treating it as zero.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SignalError {
    #[error("{signal}: {got} samples, need at least {need}")]
    TooFewSamples {
        signal: &'static str,
        got: usize,
        need: usize,
    },
    #[error("{signal}: {left_name} has {left} entries but {right_name} has {right}")]
    LengthMismatch {
        signal: &'static str,
        left_name: &'static str,
        left: usize,
        right_name: &'static str,
        right: usize,
    },
    #[error("timestamp {index} is {value} s, not after the previous one ({previous} s)")]
    NonIncreasingTimestamp {
        index: usize,
        previous: f64,
        value: f64,
    },
    #[error("{signal}: non-finite value in sample {index}")]
    NonFinite { signal: &'static str, index: usize },
    #[error("{signal}: sample {index} has a colour channel at or below zero (no skin is black)")]
    NonPositiveColour { signal: &'static str, index: usize },
    #[error("frame {frame} has {got} landmarks, frame 0 has {expected}")]
    LandmarkCountMismatch {
        frame: usize,
        got: usize,
        expected: usize,
    },
    #[error("landmark index {index} is out of range for {points} points")]
    LandmarkIndexOutOfRange { index: usize, points: usize },
    #[error("{signal}: {got} landmarks, need at least {need}")]
    TooFewLandmarks {
        signal: &'static str,
        got: usize,
        need: usize,
    },
    #[error("inter-ocular distance is {pixels} px: too small to normalise by")]
    DegenerateFaceSize { pixels: f64 },
    #[error("{fit} fit is degenerate at frame {frame} (points collinear or coincident)")]
    DegenerateFit { fit: &'static str, frame: usize },
    #[error("{signal}: input lasts {seconds:.3} s, need at least {need:.3} s")]
    TooShort {
        signal: &'static str,
        seconds: f64,
        need: f64,
    },
    #[error("crop is {width}x{height}, need at least {need}x{need}")]
    CropTooSmall { width: u32, height: u32, need: u32 },
    #[error(
        "eye contour has {upper} upper and {lower} lower lid points; need the same count, >= 1"
    )]
    EyeContourMismatch { upper: usize, lower: usize },
    #[error("eye width is {pixels} px: corners coincide")]
    DegenerateEye { pixels: f64 },
    #[error("config field {field} = {value} is out of range ({expected})")]
    InvalidConfig {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
}
