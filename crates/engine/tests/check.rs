//! `Engine::check` on real faces: the shared live clips, the shared deepfakes, and synthetic
//! attacks and bad captures generated at test time from real frames (never committed).
//! Clips are cut to their first 6 s (the standard request's length) to keep the suite short.

mod common;

use common::{cut, engine};
use faceproof_engine::EngineConfig;
use faceproof_engine::check::{CheckRequest, ReasonCode, Severity, Verdict};
use faceproof_media::Limits;
use faceproof_testkit::{Clip, attacks, degrade, read_frames, shared_file, write_video};
use faceproof_vision::image::RgbImage;

fn encode(frames: &[RgbImage], fps: f64) -> Vec<u8> {
    let clip = Clip::new("synthetic.mp4");
    write_video(frames, fps, &clip.path);
    clip.bytes()
}

fn check(video: &[u8]) -> Verdict {
    let mut req = CheckRequest::video(video);
    req.encode_best_frame = false;
    engine().check(&req).expect("the engine judges the video")
}

fn errors(v: &Verdict) -> Vec<ReasonCode> {
    v.codes
        .iter()
        .filter(|r| r.severity == Severity::Error)
        .map(|r| r.code)
        .collect()
}

fn summary(name: &str, v: &Verdict) -> String {
    let codes: Vec<String> = v
        .codes
        .iter()
        .map(|r| format!("{}={:.3}", r.code.as_str(), r.value))
        .collect();
    format!(
        "{name}: spoof_prob {:?} deepfake {:?} codes [{}] measured {:?}",
        v.liveness
            .as_ref()
            .map(|l| (l.spoof_prob * 1000.0).round() / 1000.0),
        v.deepfake
            .as_ref()
            .map(|d| (d.prob * 1000.0).round() / 1000.0),
        codes.join(", "),
        v.capture
    )
}

/// Frames of a shared live clip at 15 fps, for the synthetic cases.
fn live_frames(seconds: f64) -> Vec<RgbImage> {
    read_frames(
        &shared_file("videos/live_talking_720x1280.mp4"),
        seconds,
        15.0,
    )
}

#[test]
fn single_face_live_videos_are_live_with_only_the_codes_they_deserve() {
    // (clip, capture errors it is allowed to have: the newsreader's face is ~3 % of the frame)
    let clips: [(&str, &[ReasonCode]); 10] = [
        ("videos/live_selfie_portrait.mp4", &[]),
        ("videos/live_blink_640x360.mp4", &[]),
        ("videos/live_talking_720x1280.mp4", &[]),
        ("videos/live_blink_square_1.mp4", &[]),
        ("videos/live_expression_square_2.mp4", &[]),
        ("videos/live_expression_square_3.mp4", &[]),
        ("videos/live_talking_head_1.mp4", &[]),
        ("videos/live_talking_head_2.mp4", &[]),
        ("videos/live_talking_head_3.mp4", &[]),
        (
            "videos/live_newsreader_720p.mp4",
            &[ReasonCode::FaceTooSmall],
        ),
    ];
    let mut failures = Vec::new();
    for (clip, allowed) in clips {
        let v = check(&cut(clip, 6.0));
        println!("{}", summary(clip, &v));
        let live = v.liveness.as_ref().is_some_and(|l| l.is_live);
        let unexpected: Vec<ReasonCode> = errors(&v)
            .into_iter()
            .filter(|c| !allowed.contains(c))
            .collect();
        if !live || !unexpected.is_empty() {
            failures.push(format!("{clip}: live {live}, unexpected {unexpected:?}"));
        }
    }
    // The portrait selfie is 368x656: a low-resolution warning, never a rejection.
    let v = check(&cut("videos/live_selfie_portrait.mp4", 6.0));
    assert!(
        v.codes
            .iter()
            .any(|r| r.code == ReasonCode::LowResolution && r.severity == Severity::Warning)
    );
    assert!(failures.is_empty(), "live clips misjudged: {failures:#?}");
}

#[test]
fn a_still_frame_encoded_as_video_is_a_still_image() {
    let frame = &live_frames(1.0)[0];
    let v = check(&encode(&attacks::still(frame, 6.0, 15.0), 15.0));
    println!("{}", summary("still", &v));
    assert!(errors(&v).contains(&ReasonCode::StillImage));
    assert!(!v.liveness.unwrap().is_live);
}

/// A photo of `faces/`, upright. The shipped calibration's liveness fit never saw these people
/// (its attacks are made from `videos/` and `attacks/`; `faces/` only feeds the face-match FAR
/// model), and the seeds below are not the evaluation set's: the attacks here are held out by
/// source, so the tests measure the shipped fusion on faces it was not fitted on.
fn held_out_photo(relative: &str) -> RgbImage {
    let bytes = std::fs::read(shared_file(relative)).unwrap();
    faceproof_media::decode_image(
        &bytes,
        &faceproof_media::ImageOptions { auto_rotate: true },
        &Limits::default(),
    )
    .unwrap()
    .image
}

/// Portraits whose face fills a valid capture (`faces/kit_harington/1.jpg`, a wide shot, shows the
/// face at 4 % of the frame: `face_too_small`, and its print reads spoof_prob 0.494, a miss the
/// held-out evaluation counts among its print APCER).
const HELD_OUT_PHOTOS: [&str; 2] = ["faces/robert_downey_jr/1.jpg", "faces/rose_leslie/1.jpg"];

/// The still rule's gap as docs/engine.md publishes it: the stillest live clips read non-rigid
/// motion 0.019 (`wolfhuo_1`) and 0.0196 (the shared selfie), a still of a selfie frame at most
/// 0.0059, and the threshold (0.01) sits between them.
#[test]
fn the_published_still_rule_gap_holds_on_the_stillest_live_clips() {
    let nonrigid = |v: &Verdict| {
        let l = v.liveness.as_ref().expect("a face to judge");
        let s = l
            .signals
            .iter()
            .find(|s| s.name == "nonrigid_log10_iod")
            .and_then(|s| s.value)
            .expect("motion measured");
        10f64.powf(s)
    };
    let threshold = EngineConfig::default().liveness.still_nonrigid_iod;
    for (clip, published) in [
        ("videos/live_selfie_portrait.mp4", 0.0196),
        ("real/bona_fide/wolfhuo_1.mp4", 0.019),
    ] {
        let v = check(&cut(clip, 6.0));
        let m = nonrigid(&v);
        println!("{clip}: non-rigid {m:.4} (published {published})");
        assert!(
            (m / published - 1.0).abs() < 0.2,
            "{clip}: {m} vs published {published}"
        );
        assert!(m > 1.5 * threshold && !errors(&v).contains(&ReasonCode::StillImage));
    }
    // The evaluation set's still: the clip's frame at 1 s.
    let frame = read_frames(&shared_file("videos/live_selfie_portrait.mp4"), 1.05, 1.0)
        .pop()
        .unwrap();
    let v = check(&encode(&attacks::still(&frame, 6.0, 15.0), 15.0));
    let m = nonrigid(&v);
    println!("still of the selfie: non-rigid {m:.4}");
    assert!(m <= 0.0059 * 1.2 && m < threshold / 1.5, "{m}");
    assert!(errors(&v).contains(&ReasonCode::StillImage));
}

#[test]
fn a_photo_moved_by_hand_is_not_live() {
    for (i, photo) in HELD_OUT_PHOTOS.iter().enumerate() {
        let frame = held_out_photo(photo);
        let seed = 1000 + i as u64;
        let v = check(&encode(
            &attacks::planar_replay(&frame, 6.0, 15.0, seed),
            15.0,
        ));
        println!("{}", summary(&format!("print {photo} {seed}"), &v));
        let l = v.liveness.expect("a face to judge");
        assert!(!l.is_live, "a rigid photo of {photo} was judged live");
    }
}

#[test]
fn a_photo_shown_on_a_screen_is_not_live() {
    for (i, photo) in HELD_OUT_PHOTOS.iter().enumerate() {
        let frame = held_out_photo(photo);
        let seed = 2000 + i as u64;
        let v = check(&encode(
            &attacks::screen_replay(&frame, 6.0, 15.0, seed),
            15.0,
        ));
        println!("{}", summary(&format!("screen {photo} {seed}"), &v));
        let l = v.liveness.expect("a face to judge");
        assert!(!l.is_live, "a screen replay of {photo} was judged live");
    }
}

#[test]
fn the_crowd_video_has_multiple_faces() {
    let v = check(&cut("videos/crowd_1080p.mp4", 6.0));
    println!("{}", summary("crowd", &v));
    assert!(errors(&v).contains(&ReasonCode::MultipleFaces));
}

/// The performer's profile is invisible to BlazeFace (a frontal detector): what it finds are
/// small audience faces behind him, and the clip is refused for those. `not_frontal` itself is
/// reached only by faces the detector still sees (up to ~60 degrees).
#[test]
fn the_stage_profile_video_is_refused_for_its_capture() {
    let v = check(&cut("videos/stage_side_face_360p.mp4", 6.0));
    println!("{}", summary("stage", &v));
    let got = errors(&v);
    let capture = [
        ReasonCode::NotFrontal,
        ReasonCode::FaceTooSmall,
        ReasonCode::FaceLost,
        ReasonCode::NoFace,
    ];
    assert!(got.iter().any(|c| capture.contains(c)), "{got:?}");
}

#[test]
fn bad_captures_get_their_quality_code() {
    let frames = live_frames(6.0);
    let n = frames.len() as f64;
    let cases: Vec<(&str, Vec<RgbImage>, &[ReasonCode])> = vec![
        (
            "shrunk",
            frames.iter().map(|f| degrade::shrink(f, 0.25)).collect(),
            &[ReasonCode::FaceTooSmall],
        ),
        (
            "blurred",
            frames.iter().map(|f| degrade::blur(f, 6.0)).collect(),
            &[ReasonCode::FaceBlurry],
        ),
        (
            "dark",
            frames.iter().map(|f| degrade::darken(f, 0.15)).collect(),
            &[ReasonCode::FaceTooDark],
        ),
        (
            // The face slides out of the frame from halfway through.
            "leaving",
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| degrade::slide_out(f, (2.0 * i as f64 / n - 1.0).max(0.0)))
                .collect(),
            &[ReasonCode::FaceLost, ReasonCode::FaceOutOfFrame],
        ),
    ];
    for (name, frames, expected) in cases {
        let v = check(&encode(&frames, 15.0));
        println!("{}", summary(name, &v));
        let got = errors(&v);
        assert!(
            expected.iter().any(|c| got.contains(c)),
            "{name}: expected one of {expected:?}, got {got:?}"
        );
    }
}

#[test]
fn a_one_second_clip_is_too_short() {
    let v = check(&encode(&live_frames(1.0), 15.0));
    assert_eq!(errors(&v), vec![ReasonCode::VideoTooShort]);
    assert!(v.liveness.is_none());
}

/// The re-enacted clip against its own original. The signal built for swaps and re-enactments
/// (the inner face jitters more than the contour, which is not generated) must rank them right;
/// the fused deepfake probability is printed, not asserted: fitted on five clips, four of them
/// whole generated heads, it does not rank this pair (docs/engine.md).
#[test]
fn the_neuraltextures_clip_jitters_more_inside_than_its_original() {
    let fake = check(&cut("attacks/deepfake_neuraltextures_720p.mp4", 6.0));
    let real = check(&cut("videos/live_newsreader_720p.mp4", 6.0));
    let ratio = |v: &Verdict| {
        v.deepfake
            .as_ref()
            .and_then(|d| {
                d.signals
                    .iter()
                    .find(|s| s.name == "jitter_inner_to_contour")
            })
            .and_then(|s| s.value)
            .expect("jitter measured")
    };
    let (rf, rr) = (ratio(&fake), ratio(&real));
    let (pf, pr) = (fake.deepfake.unwrap().prob, real.deepfake.unwrap().prob);
    println!(
        "inner/contour jitter: NeuralTextures {rf:.3}, original {rr:.3}; \
         deepfake prob: NeuralTextures {pf:.3}, original {pr:.3}"
    );
    assert!(rf > rr);
}

#[test]
fn the_best_frame_matches_the_same_person_and_not_another() {
    let photo = |p: &str| std::fs::read(shared_file(p)).unwrap();
    let obama = faceproof_media::decode_image(
        &photo("faces/obama/1.jpg"),
        &faceproof_media::ImageOptions { auto_rotate: true },
        &Limits::default(),
    )
    .unwrap()
    .image;
    let video = encode(&attacks::planar_replay(&obama, 3.0, 15.0, 3), 15.0);
    for (id, same) in [("faces/obama/2.jpg", true), ("faces/biden/1.jpg", false)] {
        let id_bytes = photo(id);
        let mut req = CheckRequest::video(&video).with_id_photo(&id_bytes);
        req.encode_best_frame = true;
        let v = engine().check(&req).unwrap();
        let m = v.face_match.as_ref().expect("both sides have a face");
        println!(
            "{id}: cosine {:.3} score {:.3} far {:.2e}",
            m.cosine, m.verification_score, m.far.far
        );
        assert_eq!(m.is_match, same, "{id}");
        assert_eq!(v.has(ReasonCode::FaceMismatch), !same);
        let best = v.best_frame.as_ref().unwrap();
        assert!(best.jpeg.starts_with(&[0xFF, 0xD8]) && best.face_jpeg.starts_with(&[0xFF, 0xD8]));
    }
    let cat = photo("bad/no_face_cat.png");
    let v = engine()
        .check(&CheckRequest::video(&video).with_id_photo(&cat))
        .unwrap();
    assert!(errors(&v).contains(&ReasonCode::NoFaceInDocument));
    assert!(v.face_match.is_none());
}

#[test]
fn masked_faces_are_occluded_and_bare_ones_are_not() {
    let still = |p: &str| {
        let img = faceproof_media::decode_image(
            &std::fs::read(shared_file(p)).unwrap(),
            &faceproof_media::ImageOptions { auto_rotate: true },
            &Limits::default(),
        )
        .unwrap()
        .image;
        check(&encode(&attacks::still(&img, 3.0, 10.0), 10.0))
    };
    for p in ["bad/occluded_mask_1.png", "bad/occluded_mask_2.jpg"] {
        let v = still(p);
        println!("{}", summary(p, &v));
        assert!(v.has(ReasonCode::FaceOccluded), "{p}");
    }
    // Live clips of a person in a white mask under dark bangs: the mask covers the cheeks, the
    // bangs most of the forehead.
    for p in [
        "real/bona_fide/nhtlongcs_1.mp4",
        "real/bona_fide/nhtlongcs_2.mp4",
    ] {
        let v = check(&std::fs::read(shared_file(p)).unwrap());
        println!("{}", summary(p, &v));
        assert!(v.has(ReasonCode::FaceOccluded), "{p}");
    }
    // The bare faces closest to the threshold on the shared photos come first.
    for p in [
        "faces/partial/obama_partial_2.jpg",
        "faces/obama/1.jpg",
        "faces/biden/1.jpg",
        "faces/kit_harington/1.jpg",
    ] {
        let v = still(p);
        println!("{}", summary(p, &v));
        assert!(!v.has(ReasonCode::FaceOccluded), "{p}");
    }
}

#[test]
fn hostile_bytes_are_refused_not_judged() {
    for bytes in [Vec::new(), b"not a video at all".to_vec(), vec![0u8; 4096]] {
        let err = engine().check(&CheckRequest::video(&bytes)).unwrap_err();
        assert!(err.is_input_error(), "{err}");
        assert!(err.media_error().is_some());
    }
}
