//! Any bytes through `probe` and `decode_video`: a result (frames or a refusal), never a crash,
//! hang or leak. Limits are lowered so one input stays fast; the minimum duration is off so short
//! inputs reach the decoder.
#![no_main]

use faceproof_media::{AnalysisFrames, FullFrames, Limits, SamplingPlan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        min_duration_seconds: 0.0,
        max_video_pixels: 1280 * 720,
        max_frames: 600,
        decode_timeout_seconds: 3.0,
        threads: 1,
        ..Limits::default()
    };
    let _ = faceproof_media::probe(data, &limits);
    let plan = SamplingPlan {
        analysis: AnalysisFrames::AtMost(6),
        analysis_long_side: Some(64),
        full: FullFrames::AtTimestamps(vec![0.0, 0.5, 1e9, f64::NAN]),
        window_seconds: Some(1.5),
    };
    if let Ok(video) = faceproof_media::decode_video(data, &plan, &limits) {
        assert!(video.frames_decoded > 0);
        for f in video.analysis.iter().chain(&video.full) {
            assert!(f.image.width() > 0 && f.image.height() > 0);
            assert!(f.pts_seconds.is_finite());
        }
    }
});
