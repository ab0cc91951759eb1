//! What frames a caller wants out of a video.

use image::RgbImage;

/// One decoded frame: upright RGB8 and its exact presentation time.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Presentation time in seconds from the first frame (variable frame rate kept as recorded).
    pub pts_seconds: f64,
    pub image: RgbImage,
}

/// The frames a decode delivers: a dense series at analysis size for temporal cues, and a few at
/// full resolution as best-frame candidates. Every decoded frame is counted; only selected ones are
/// converted to RGB.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingPlan {
    /// Frames delivered at analysis size.
    pub analysis: AnalysisFrames,
    /// Long side of analysis frames in pixels; `None` uses `Limits::analysis_long_side`.
    pub analysis_long_side: Option<u32>,
    /// Frames also delivered at full resolution (capped by `Limits::max_full_frames`).
    pub full: FullFrames,
    /// Only frames presented within this many seconds of the first one are delivered (both roles;
    /// `FullFrames::Evenly` spreads over this window), and decoding stops as soon as the decoder
    /// has output a frame past it: the cost of a long clip is the cost of its window. `None`: the
    /// whole clip.
    pub window_seconds: Option<f64>,
}

/// Which frames to deliver at analysis size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisFrames {
    None,
    /// Every decoded frame.
    All,
    /// Frames 0, n, 2n, ... in presentation order.
    EveryNth(u32),
    /// At most this many, evenly spread (the stride comes from the exact frame count).
    AtMost(u32),
}

/// Which frames to deliver at full resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum FullFrames {
    None,
    /// Frames 0, k, 2k, ... in presentation order.
    EveryNth(u32),
    /// The frame nearest to each requested time (seconds from the first frame).
    AtTimestamps(Vec<f64>),
    /// This many frames at the centres of equal time slices of the clip.
    Evenly(u32),
}

impl Default for SamplingPlan {
    /// Every frame at analysis size, plus 8 evenly spread full-resolution candidates.
    fn default() -> Self {
        SamplingPlan {
            analysis: AnalysisFrames::All,
            analysis_long_side: None,
            full: FullFrames::Evenly(8),
            window_seconds: None,
        }
    }
}

/// Which output a frame delivered to a sink belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRole {
    Analysis,
    Full,
}
