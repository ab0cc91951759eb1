//! Far / near perspective on real faces. There are no real far / near captures in the shared
//! data, so the live pair is two frames of a live video in which the face size changes, and the
//! planar pairs are one real frame shown at two scales (a photo brought closer), also tilted.
//! The numbers these tests print are in docs/signals.md, "Perspective (far / near)".

use faceproof_engine::check::FarNearRequest;
use faceproof_engine::signals::perspective::{
    PerspectiveConfig, PerspectiveReport, measure_perspective,
};
use faceproof_engine::{Engine, EngineConfig, Verdict};
use faceproof_media::Limits;
use faceproof_testkit::{attacks, degrade, labelled_photos, read_frames, shared_file};
use faceproof_vision::image::{Rgb, RgbImage, codecs::jpeg::JpegEncoder};
use faceproof_vision::{AnalyzeOptions, Face, VisionConfig, largest};
use std::path::PathBuf;

/// The shared clip whose face size changes most (the subject leans in): 1.13-1.15x when written.
const APPROACH_VIDEO: &str = "videos/live_expression_square_3.mp4";

fn engine() -> Engine {
    Engine::load(
        EngineConfig::default(),
        &VisionConfig::default(),
        Limits::default(),
    )
    .expect("models installed (faceproof models fetch)")
}

fn analyse(engine: &Engine, img: &RgbImage) -> Option<Face> {
    let opts = AnalyzeOptions::ALIGN_ONLY;
    largest(&engine.vision().analyze(img, &opts).unwrap()).cloned()
}

fn points(face: &Face) -> Vec<[f32; 2]> {
    face.mesh.points.iter().map(|p| [p.x, p.y]).collect()
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(img)
        .unwrap();
    out
}

/// The two frontal frames of the approach video with the largest face-size ratio (far, near).
fn real_pair(engine: &Engine) -> (RgbImage, RgbImage, f32) {
    let frames = read_frames(&shared_file(APPROACH_VIDEO), 34.0, 3.0);
    let faces: Vec<(usize, Face)> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| analyse(engine, f).map(|face| (i, face)))
        .filter(|(_, f)| f.pose.yaw.abs() < 15.0 && f.pose.pitch.abs() < 15.0)
        .collect();
    let size = |f: &Face| f.quality.eye_distance_px;
    let (mut best, mut far, mut near) = (0.0, 0, 0);
    for (a, fa) in &faces {
        for (b, fb) in &faces {
            if size(fb) / size(fa) > best {
                (best, far, near) = (size(fb) / size(fa), *a, *b);
            }
        }
    }
    (frames[far].clone(), frames[near].clone(), best)
}

/// `img` seen as a plane turned about its vertical axis: one side `1 + k w / 2` times larger
/// than the centre, the other smaller (a homography about the image centre).
fn tilt(img: &RgbImage, k: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let mut out = RgbImage::from_pixel(w, h, Rgb([30, 30, 30]));
    for (x, y, p) in out.enumerate_pixels_mut() {
        // Inverse of (u, v) -> (u, v) / (1 - k u) about the centre.
        let (u, v) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
        let d = 1.0 + k * u;
        let (sx, sy) = (u / d + cx - 0.5, v / d + cy - 0.5);
        if sx >= 0.0 && sy >= 0.0 && sx < (w - 1) as f64 && sy < (h - 1) as f64 {
            *p = *img.get_pixel(sx.round() as u32, sy.round() as u32);
        }
    }
    out
}

/// The engine's verdict on two stills as JPEGs, taken 2 s apart, without a clip or a challenge.
fn stills_alone(engine: &Engine, far: &RgbImage, near: &RgbImage, best_frame: bool) -> Verdict {
    let (far, near) = (jpeg(far), jpeg(near));
    engine
        .check_far_near(&FarNearRequest {
            far: &far,
            near: &near,
            far_time_ms: Some(1_000),
            near_time_ms: Some(3_000),
            clip: None,
            encode_best_frame: best_frame,
            challenge: None,
            telemetry: None,
            want_template: false,
        })
        .unwrap()
}

struct Scored {
    name: &'static str,
    report: PerspectiveReport,
    spoof_prob: f64,
}

fn score(engine: &Engine, name: &'static str, far: &RgbImage, near: &RgbImage) -> Scored {
    let (f, n) = (
        analyse(engine, far).unwrap(),
        analyse(engine, near).unwrap(),
    );
    let report =
        measure_perspective(&points(&f), &points(&n), &PerspectiveConfig::default()).unwrap();
    let verdict = stills_alone(engine, far, near, true);
    let liveness = verdict.liveness.expect("both stills show a face");
    let best = verdict
        .best_frame
        .expect("the near still is the best frame");
    assert!(!best.jpeg.is_empty() && !best.face_jpeg.is_empty());
    eprintln!(
        "{name}: scale {:.3} centre/contour {:.4} relief {:?} residual {:.4} IOD = {:.2} x noise | spoof_prob {:.3} signals {:?} codes {:?}",
        report.scale_ratio,
        report.centre_vs_contour,
        report.relief_index.map(|r| (r * 1000.0).round() / 1000.0),
        report.homography_residual_iod,
        report.residual_to_noise,
        liveness.spoof_prob,
        liveness
            .signals
            .iter()
            .map(|s| (
                s.name,
                s.value.map(|v| (v * 1000.0).round() / 1000.0),
                (s.contribution * 100.0).round() / 100.0
            ))
            .collect::<Vec<_>>(),
        verdict
            .codes
            .iter()
            .map(|c| c.code.as_str())
            .collect::<Vec<_>>(),
    );
    Scored {
        name,
        report,
        spoof_prob: liveness.spoof_prob,
    }
}

#[test]
fn a_photo_brought_closer_scores_less_live_than_a_face_that_leans_in() {
    let engine = engine();
    let (far, near, ratio) = real_pair(&engine);
    eprintln!("real pair: eye distance ratio {ratio:.3}");
    // The premise: the live clip really shows the face growing (1.15x when written).
    assert!(ratio > 1.1, "the approach video's face grows only {ratio}x");
    let live = score(&engine, "live lean-in", &far, &near);
    let shrunk = degrade::shrink(&near, 1.0 / f64::from(ratio));
    let planar = [
        score(&engine, "photo, same scales", &shrunk, &near),
        score(&engine, "photo, 2x", &degrade::shrink(&near, 0.5), &near),
        score(
            &engine,
            "photo, same scales, near tilted",
            &shrunk,
            &tilt(&near, 4e-4),
        ),
        score(
            &engine,
            "photo, 2x, both tilted",
            &tilt(&degrade::shrink(&near, 0.5), -3e-4),
            &tilt(&near, 5e-4),
        ),
    ];
    for p in &planar {
        assert!(
            p.report.centre_vs_contour < live.report.centre_vs_contour,
            "{}: centre/contour {} vs live {}",
            p.name,
            p.report.centre_vs_contour,
            live.report.centre_vs_contour
        );
        assert!(
            p.spoof_prob > live.spoof_prob,
            "{}: spoof_prob {} vs live {}",
            p.name,
            p.spoof_prob,
            live.spoof_prob
        );
    }
}

#[test]
fn capture_rules_name_the_still_and_the_measurement() {
    let engine = engine();
    let face = std::fs::read(shared_file("faces/obama/1.jpg")).unwrap();
    let cat = std::fs::read(shared_file("bad/no_face_cat.png")).unwrap();
    let request = |far: &'static [u8], near: &'static [u8]| FarNearRequest {
        far,
        near,
        far_time_ms: Some(5_000),
        near_time_ms: Some(2_000),
        clip: None,
        encode_best_frame: false,
        challenge: None,
        telemetry: None,
        want_template: false,
    };
    let (face, cat): (&'static [u8], &'static [u8]) = (face.leak(), cat.leak());

    // A refused image names which still it was.
    match engine.check_far_near(&request(face, b"not an image")) {
        Err(faceproof_engine::CheckError::CaptureImage { which, .. }) => {
            assert_eq!(which, faceproof_engine::check::Shot::Near)
        }
        other => panic!("expected a refused near image, got {other:?}"),
    }
    // No face in the near still: a capture reason, no liveness judgement, no best frame.
    let v = engine.check_far_near(&request(face, cat)).unwrap();
    let no_face = v
        .codes
        .iter()
        .find(|r| r.code.as_str() == "no_face")
        .unwrap();
    assert_eq!((no_face.measure, no_face.value), ("near_face_count", 0.0));
    assert!(v.liveness.is_none() && v.best_frame.is_none());
    // The same photo twice, the near taken 3 s before the far: not grown (face_too_small on the
    // scale ratio) and out of order (spoof on the capture times), never live.
    let v = engine.check_far_near(&request(face, face)).unwrap();
    let scale = v
        .codes
        .iter()
        .find(|r| r.measure == "near_far_scale_ratio")
        .unwrap();
    assert!((scale.value - 1.0).abs() < 0.01, "{scale:?}");
    let order = v
        .codes
        .iter()
        .find(|r| r.measure == "near_minus_far_capture_ms")
        .unwrap();
    assert_eq!((order.code.as_str(), order.value), ("spoof", -3000.0));
    let liveness = v.liveness.unwrap();
    assert!(!liveness.is_live);
    assert_eq!(
        liveness.attack_type,
        Some(faceproof_engine::check::AttackType::Injection)
    );
}

/// Frontal faces of a clip at 3 fps.
fn frontal_faces(engine: &Engine, video: &str) -> Vec<Face> {
    read_frames(&shared_file(video), 34.0, 3.0)
        .iter()
        .filter_map(|f| analyse(engine, f))
        .filter(|f| f.pose.yaw.abs() < 15.0 && f.pose.pitch.abs() < 15.0)
        .collect()
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Every frame pair of the lean-in clip whose eye distance grows by >= 10 % against 36 planar
/// pairs (a frame of each of nine live clips at 1.15x and 2x, flat and tilted): the live
/// `centre_vs_contour` distribution sits above every planar pair at its median.
#[test]
fn live_pairs_outgrow_planar_pairs_in_distribution() {
    let engine = engine();
    let cfg = PerspectiveConfig::default();
    let faces = frontal_faces(&engine, APPROACH_VIDEO);
    let mut live = Vec::new();
    for fa in &faces {
        for fb in &faces {
            if fb.quality.eye_distance_px >= 1.1 * fa.quality.eye_distance_px {
                let p = measure_perspective(&points(fa), &points(fb), &cfg).unwrap();
                live.push(p.centre_vs_contour);
            }
        }
    }
    let mut planar = Vec::new();
    for v in [
        "videos/live_selfie_portrait.mp4",
        "videos/live_talking_720x1280.mp4",
        "videos/live_blink_640x360.mp4",
        "videos/live_blink_square_1.mp4",
        "videos/live_expression_square_2.mp4",
        "videos/live_talking_head_1.mp4",
        "videos/live_talking_head_2.mp4",
        "videos/live_talking_head_3.mp4",
        "videos/live_newsreader_720p.mp4",
    ] {
        let near = read_frames(&shared_file(v), 1.05, 1.0).pop().unwrap();
        let small = degrade::shrink(&near, 1.0 / 1.15);
        let half = degrade::shrink(&near, 0.5);
        for (far, near) in [
            (small.clone(), near.clone()),
            (half.clone(), near.clone()),
            (small, tilt(&near, 4e-4)),
            (tilt(&half, -3e-4), tilt(&near, 5e-4)),
        ] {
            let (f, n) = (analyse(&engine, &far), analyse(&engine, &near));
            let (f, n) = (
                f.expect("face in the far photo"),
                n.expect("face in the near photo"),
            );
            planar.push(
                measure_perspective(&points(&f), &points(&n), &cfg)
                    .unwrap()
                    .centre_vs_contour,
            );
        }
    }
    let planar_max = quantile(&planar, 1.0);
    let above = live.iter().filter(|&&c| c > planar_max).count();
    eprintln!(
        "live pairs {} (>= 1.1x): centre/contour min {:.4} p10 {:.4} median {:.4} max {:.4}; \
         planar pairs {}: min {:.4} median {:.4} max {:.4}; live above every planar: {above} ({:.0} %)",
        live.len(),
        quantile(&live, 0.0),
        quantile(&live, 0.1),
        quantile(&live, 0.5),
        quantile(&live, 1.0),
        planar.len(),
        quantile(&planar, 0.0),
        quantile(&planar, 0.5),
        planar_max,
        100.0 * above as f64 / live.len() as f64,
    );
    assert!(
        live.len() >= 20,
        "only {} live pairs grow by 10 %",
        live.len()
    );
    assert_eq!(planar.len(), 36);
    assert!(
        quantile(&live, 0.5) > planar_max,
        "live median {} vs planar max {planar_max}",
        quantile(&live, 0.5)
    );
}

/// A clip recorded between the stills is judged by the video check and enters the fusion with
/// its own spoof probability (and brings its deepfake judgement).
#[test]
fn a_clip_between_the_stills_is_folded_in() {
    let engine = engine();
    let (far, near, _) = real_pair(&engine);
    let clip = std::fs::read(shared_file("videos/live_blink_square_1.mp4")).unwrap();
    let (far, near) = (jpeg(&far), jpeg(&near));
    let verdict = engine
        .check_far_near(&FarNearRequest {
            far: &far,
            near: &near,
            far_time_ms: Some(1_000),
            near_time_ms: Some(3_000),
            clip: Some(&clip),
            encode_best_frame: false,
            challenge: None,
            telemetry: None,
            want_template: false,
        })
        .unwrap();
    let alone = engine
        .check(&faceproof_engine::CheckRequest::video(&clip))
        .unwrap();
    let liveness = verdict.liveness.unwrap();
    let folded = liveness
        .signals
        .iter()
        .find(|s| s.name == "clip_liveness")
        .unwrap();
    let clip_spoof = alone.liveness.as_ref().unwrap().spoof_prob;
    eprintln!(
        "clip spoof_prob {clip_spoof:.3}, contribution {:.2}, capture spoof_prob {:.3}",
        folded.contribution, liveness.spoof_prob
    );
    assert_eq!(folded.value, Some(clip_spoof));
    assert!(folded.contribution != 0.0 || (clip_spoof - 0.5).abs() < 1e-9);
    assert_eq!(verdict.deepfake, alone.deepfake);
}

/// Far / near with its clip-less verdict: is it accepted (`Verdict::passed`), and its spoof_prob.
fn accepted(engine: &Engine, far: &RgbImage, near: &RgbImage) -> (bool, f64) {
    let v = stills_alone(engine, far, near, false);
    let spoof = v.liveness.as_ref().map_or(f64::NAN, |l| l.spoof_prob);
    (v.passed(), spoof)
}

/// How many clip-less planar pairs were accepted when docs/signals.md ("Stills alone on the
/// shared material") was written; more is a regression.
const PLANAR_ACCEPTED_PUBLISHED: usize = 17;

/// Several planar pairs score within 0.01 of the 0.5 threshold, and another CPU moves scores by
/// up to ~0.001 (docs/engine.md, "A second machine"): the bound counts only the accepted pairs
/// below this, which were accepted on the machine that published the count too.
const CLEARLY_ACCEPTED_BELOW: f64 = 0.49;

/// Stills alone, without a clip or a challenge (the vendor's own flow), on all the shared
/// material: planar pairs from every labelled photo (scaled 1.25x and 2x, tilted, bent round a
/// cylinder) and the largest-growth frontal pair of every real clip that approaches the camera by
/// the rule's 1.2x. The numbers are docs/signals.md's; the photos are judged the way an attacker
/// would upload them, straight from the file (a digital injection, not a print in front of a
/// camera).
#[test]
fn stills_alone_on_every_shared_photo_and_real_approach() {
    let engine = engine();
    let photos: Vec<PathBuf> = labelled_photos().into_iter().map(|(_, p)| p).collect();
    let kinds = [
        "1.25x",
        "2x",
        "1.25x, near tilted",
        "2x, both tilted",
        "bent r=w, 1.25x",
        "bent r=w/2, 1.25x",
        "bent r=w/2, 2x",
    ];
    let mut per_kind = vec![(0usize, 0usize); kinds.len()];
    let mut clearly_accepted = 0;
    for photo in &photos {
        let img = faceproof_vision::image::ImageReader::open(photo)
            .unwrap()
            .with_guessed_format()
            .unwrap()
            .decode()
            .unwrap()
            .to_rgb8();
        let w = f64::from(img.width());
        // Tilts as strong on every photo size as on a 640 px frame.
        let k = 640.0 / w;
        let pairs = [
            (degrade::shrink(&img, 0.8), img.clone()),
            (degrade::shrink(&img, 0.5), img.clone()),
            (degrade::shrink(&img, 0.8), tilt(&img, 4e-4 * k)),
            (
                tilt(&degrade::shrink(&img, 0.5), -3e-4 * k),
                tilt(&img, 5e-4 * k),
            ),
            (
                attacks::curved_print(&img, w, 2.5 * w, 2.0 * w),
                attacks::curved_print(&img, w, 2.0 * w, 2.0 * w),
            ),
            (
                attacks::curved_print(&img, w / 2.0, 2.5 * w, 2.0 * w),
                attacks::curved_print(&img, w / 2.0, 2.0 * w, 2.0 * w),
            ),
            (
                attacks::curved_print(&img, w / 2.0, 2.0 * w, w),
                attacks::curved_print(&img, w / 2.0, w, w),
            ),
        ];
        for (i, (far, near)) in pairs.iter().enumerate() {
            let (ok, spoof) = accepted(&engine, far, near);
            per_kind[i].0 += 1;
            if ok {
                per_kind[i].1 += 1;
                clearly_accepted += usize::from(spoof < CLEARLY_ACCEPTED_BELOW);
                eprintln!(
                    "accepted planar pair: {}, {}, spoof_prob {spoof:.3}",
                    photo.display(),
                    kinds[i]
                );
            }
        }
    }
    for (kind, (n, ok)) in kinds.iter().zip(&per_kind) {
        eprintln!("planar {kind}: {ok} of {n} accepted");
    }
    let planar: usize = per_kind.iter().map(|k| k.0).sum();
    let planar_accepted: usize = per_kind.iter().map(|k| k.1).sum();
    eprintln!(
        "planar pairs: {planar_accepted} of {planar} accepted, {clearly_accepted} with spoof_prob < {CLEARLY_ACCEPTED_BELOW}"
    );

    // Real approaches: every real clip and the lean-in clip, its frontal frames at 3 fps.
    let mut clips: Vec<String> =
        std::fs::read_dir(faceproof_testkit::shared_dir().join("data/real/bona_fide"))
            .unwrap()
            .map(|e| {
                format!(
                    "real/bona_fide/{}",
                    e.unwrap().file_name().to_string_lossy()
                )
            })
            .collect();
    clips.sort();
    clips.push(APPROACH_VIDEO.to_string());
    let mut approaches = 0;
    for clip in &clips {
        let frames = read_frames(&shared_file(clip), 34.0, 3.0);
        let faces: Vec<(usize, Face)> = frames
            .iter()
            .enumerate()
            .filter_map(|(i, f)| analyse(&engine, f).map(|face| (i, face)))
            .filter(|(_, f)| f.pose.yaw.abs() < 15.0 && f.pose.pitch.abs() < 15.0)
            .collect();
        let size = |f: &Face| f.quality.eye_distance_px;
        let mut best = (1.0, 0, 0);
        for (a, fa) in &faces {
            for (b, fb) in &faces {
                if size(fb) / size(fa) > best.0 {
                    best = (size(fb) / size(fa), *a, *b);
                }
            }
        }
        let (growth, far, near) = best;
        if growth < 1.2 {
            eprintln!("live {clip}: the face grows {growth:.2}x at most, below the rule's 1.2x");
            continue;
        }
        approaches += 1;
        let (ok, spoof) = accepted(&engine, &frames[far], &frames[near]);
        eprintln!(
            "live {clip}: frames {far} -> {near} grow {growth:.2}x: accepted {ok}, spoof_prob {spoof:.3}"
        );
    }
    assert_eq!(planar, photos.len() * kinds.len());
    // The premise of the live side: some real clip approaches the camera as the rule asks.
    assert!(approaches >= 1, "no real clip grows its face by 1.2x");
    assert!(
        clearly_accepted <= PLANAR_ACCEPTED_PUBLISHED,
        "{clearly_accepted} of {planar} planar pairs accepted with spoof_prob < \
         {CLEARLY_ACCEPTED_BELOW}, {PLANAR_ACCEPTED_PUBLISHED} published"
    );
}
