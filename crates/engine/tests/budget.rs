//! The analysis budget: a long real clip costs what its first seconds cost. Counts are asserted
//! (deterministic); time is measured by `make bench` (bench/ab.py), not here.

mod common;

use common::{cut, engine};
use faceproof_engine::check::{CheckRequest, Verdict};
use faceproof_testkit::shared_file;

fn check(video: &[u8]) -> Verdict {
    let mut req = CheckRequest::video(video);
    req.encode_best_frame = false;
    engine().check(&req).expect("the engine judges the video")
}

fn long_clip_costs_its_window(relative: &str, min_seconds: f64) {
    let whole = std::fs::read(shared_file(relative)).expect("read clip");
    let long = check(&whole);
    let short = check(&cut(relative, 6.0));
    let (l, s) = (&long.media, &short.media);
    assert!(l.duration_seconds > min_seconds, "{relative}: {l:?}");
    let window = engine().config().sampling.analysis_window_s;
    assert!(l.analysed_seconds <= window + 1e-9, "{l:?}");
    assert!(
        l.frames_analysed <= engine().config().sampling.max_analysis_frames as usize,
        "{l:?}"
    );
    // The long clip analyses the same window as its 6 s cut (the cut may end a frame early).
    assert!(
        l.frames_analysed.abs_diff(s.frames_analysed) <= 1,
        "{l:?} vs {s:?}"
    );
    assert!(
        l.frames_decoded as f64 <= 1.2 * s.frames_decoded as f64,
        "{relative}: {} frames decoded for the whole clip, {} for its first 6 s",
        l.frames_decoded,
        s.frames_decoded
    );
    // What it would have cost without the window: every frame of the clip.
    assert!(
        (l.frames_decoded as f64) < 0.5 * l.duration_seconds * l.fps,
        "{l:?}"
    );
    // Same frames, same evidence: the liveness signals agree with the cut's.
    let signals = |v: &Verdict| v.liveness.as_ref().expect("judged").signals.clone();
    for (a, b) in signals(&long).iter().zip(signals(&short).iter()) {
        assert_eq!(a.name, b.name);
        if let (Some(x), Some(y)) = (a.value, b.value) {
            assert!(
                (x - y).abs() <= 0.02 * x.abs().max(y.abs()).max(1.0),
                "{relative}: {} {x} vs {y} on the cut",
                a.name
            );
        }
    }
}

#[test]
fn a_19_second_selfie_costs_what_its_first_6_seconds_cost() {
    long_clip_costs_its_window("videos/live_selfie_portrait.mp4", 18.0);
}

#[test]
fn a_33_second_clip_costs_what_its_first_6_seconds_cost() {
    long_clip_costs_its_window("videos/live_expression_square_3.mp4", 30.0);
}
