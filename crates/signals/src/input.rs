//! Plain input types and the checks every signal runs on them before doing math.

use crate::error::SignalError;

/// A landmark in image coordinates (pixels, x right, y down), as the vision layer reports it.
pub type Point2 = [f32; 2];
/// A landmark with a relative depth, as the face mesh reports it.
pub type Point3 = [f32; 3];

/// Timestamps must be finite and strictly increasing (variable frame rate is fine; repeated or
/// reordered frames are a bug upstream that would divide by zero in every rate computation).
pub(crate) fn check_timestamps(
    signal: &'static str,
    timestamps: &[f64],
    min_samples: usize,
) -> Result<(), SignalError> {
    if timestamps.len() < min_samples {
        return Err(SignalError::TooFewSamples {
            signal,
            got: timestamps.len(),
            need: min_samples,
        });
    }
    for (index, &value) in timestamps.iter().enumerate() {
        if !value.is_finite() {
            return Err(SignalError::NonFinite { signal, index });
        }
        if index > 0 && value <= timestamps[index - 1] {
            return Err(SignalError::NonIncreasingTimestamp {
                index,
                previous: timestamps[index - 1],
                value,
            });
        }
    }
    Ok(())
}

/// Checks a landmark track (one landmark set per timestamp, same point count in every frame) and
/// returns it in f64, which every fit below works in.
pub(crate) fn landmark_track(
    signal: &'static str,
    timestamps: &[f64],
    frames: &[Vec<Point2>],
    min_frames: usize,
    min_points: usize,
) -> Result<Vec<Vec<[f64; 2]>>, SignalError> {
    if timestamps.len() != frames.len() {
        return Err(SignalError::LengthMismatch {
            signal,
            left_name: "timestamps",
            left: timestamps.len(),
            right_name: "landmark frames",
            right: frames.len(),
        });
    }
    check_timestamps(signal, timestamps, min_frames)?;
    let expected = frames[0].len();
    if expected < min_points {
        return Err(SignalError::TooFewLandmarks {
            signal,
            got: expected,
            need: min_points,
        });
    }
    let mut out = Vec::with_capacity(frames.len());
    for (frame, points) in frames.iter().enumerate() {
        if points.len() != expected {
            return Err(SignalError::LandmarkCountMismatch {
                frame,
                got: points.len(),
                expected,
            });
        }
        if points.iter().flatten().any(|v| !v.is_finite()) {
            return Err(SignalError::NonFinite {
                signal,
                index: frame,
            });
        }
        out.push(
            points
                .iter()
                .map(|p| [f64::from(p[0]), f64::from(p[1])])
                .collect(),
        );
    }
    Ok(out)
}

/// Every index must address a point of the track.
pub(crate) fn check_indices(indices: &[usize], points: usize) -> Result<(), SignalError> {
    match indices.iter().find(|&&i| i >= points) {
        Some(&index) => Err(SignalError::LandmarkIndexOutOfRange { index, points }),
        None => Ok(()),
    }
}

/// A configuration value must lie in `range`; `expected` says so in words for the error.
pub(crate) fn check_range(
    field: &'static str,
    value: f64,
    range: std::ops::RangeInclusive<f64>,
    expected: &'static str,
) -> Result<(), SignalError> {
    if value.is_finite() && range.contains(&value) {
        Ok(())
    } else {
        Err(SignalError::InvalidConfig {
            field,
            value,
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_repeated_timestamps_and_ragged_frames() {
        let err = check_timestamps("t", &[0.0, 0.1, 0.1], 2).unwrap_err();
        assert!(matches!(
            err,
            SignalError::NonIncreasingTimestamp { index: 2, .. }
        ));
        let frames = vec![vec![[0.0, 0.0]; 3], vec![[0.0, 0.0]; 2]];
        let err = landmark_track("t", &[0.0, 0.1], &frames, 2, 1).unwrap_err();
        assert_eq!(
            err,
            SignalError::LandmarkCountMismatch {
                frame: 1,
                got: 2,
                expected: 3
            }
        );
        let err = landmark_track("t", &[0.0], &frames, 1, 1).unwrap_err();
        assert!(matches!(err, SignalError::LengthMismatch { .. }));
    }
}
