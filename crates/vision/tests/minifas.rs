//! The MiniFASNet-style PAD model on the shared live clips, real replays and attack stills: it ranks
//! bona fide faces above attacks, and fed BGR (the default) better than RGB. Frames are decoded
//! by the ffmpeg CLI through the testkit.
//!
//! Bona fide: 5 frames (1 fps, first 5 s) of every clip in videos/live_* and real/bona_fide/, and
//! the genuine stills of attacks/. Attacks: 10 frames (2 fps) of every real/replay/ clip and the print,
//! screen and replay stills of attacks/. Nothing is fitted here: the channel order was chosen by
//! `models/measure_minifas.py` (leave-one-person-out: BGR for every held-out person).

mod common;

use common::{data_dir, load_rgb, vision};
use faceproof_testkit::read_frames;
use faceproof_vision::image::RgbImage;
use faceproof_vision::{AnalyzeOptions, ChannelOrder, Range, Vision, VisionConfig, largest};
use std::path::PathBuf;

fn files(dir: &str, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data_dir().join(dir))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

/// (label: true = bona fide, source, image).
fn samples() -> Vec<(bool, String, RgbImage)> {
    let mut out = Vec::new();
    let clips = files("videos", "live_")
        .into_iter()
        .map(|p| (true, p))
        .chain(files("real/bona_fide", "").into_iter().map(|p| (true, p)))
        .chain(files("real/replay", "").into_iter().map(|p| (false, p)));
    for (live, clip) in clips {
        // The replays are few (3 clips): 2 frames a second over their first 5 s, so the attack
        // side has 20+ faces to rank (a few frames have no face).
        let fps = if live { 1.0 } else { 2.0 };
        for f in read_frames(&clip, 5.0, fps) {
            out.push((live, clip.display().to_string(), f));
        }
    }
    for p in files("attacks", "") {
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        if n.ends_with(".mp4") {
            continue;
        }
        out.push((n.starts_with("genuine"), n, load_rgb(&p)));
    }
    out
}

/// P(real) of the largest face, `None` without a face.
fn p_real(v: &Vision, img: &RgbImage) -> Option<f32> {
    let opts = AnalyzeOptions {
        range: Range::Auto,
        iris: false,
        antispoof: true,
        minifas: true,
        embedding: false,
        refine_mesh: false,
    };
    let faces = v.analyze(img, &opts).unwrap();
    largest(&faces).map(|f| f.pad_real.expect("minifas is enabled"))
}

/// Share of (bona fide, attack) pairs ranked right (ties count half).
fn auc(live: &[f32], attack: &[f32]) -> f64 {
    let mut right = 0.0;
    for &l in live {
        for &a in attack {
            right += if l > a {
                1.0
            } else if l == a {
                0.5
            } else {
                0.0
            };
        }
    }
    right / (live.len() * attack.len()) as f64
}

#[test]
fn minifas_ranks_live_faces_above_replays_and_prints_and_bgr_beats_rgb() {
    let bgr = vision();
    assert_eq!(bgr.config().minifas.channels, ChannelOrder::Bgr);
    let rgb = Vision::load(&VisionConfig {
        minifas: faceproof_vision::config::MiniFasConfig {
            channels: ChannelOrder::Rgb,
            ..Default::default()
        },
        ..VisionConfig::default()
    })
    .unwrap();
    let samples = samples();
    let (mut live, mut attack) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    let mut per_source: Vec<(String, bool, f32)> = Vec::new();
    for (is_live, source, img) in &samples {
        let (Some(b), Some(r)) = (p_real(bgr, img), p_real(&rgb, img)) else {
            continue;
        };
        assert!((0.0..=1.0).contains(&b) && (0.0..=1.0).contains(&r));
        let side = if *is_live { &mut live } else { &mut attack };
        side.0.push(b);
        side.1.push(r);
        per_source.push((source.clone(), *is_live, b));
    }
    for (s, l, b) in &per_source {
        println!("{} {b:.3}  {s}", if *l { "live  " } else { "ATTACK" });
    }
    let (auc_bgr, auc_rgb) = (auc(&live.0, &attack.0), auc(&live.1, &attack.1));
    println!(
        "MiniFASNet P(real) AUC over {} bona fide and {} attack frames/stills: BGR {auc_bgr:.3}, RGB {auc_rgb:.3}",
        live.0.len(),
        attack.0.len()
    );
    assert!(live.0.len() >= 100 && attack.0.len() >= 20);
    assert!(auc_bgr > auc_rgb, "BGR {auc_bgr:.3} vs RGB {auc_rgb:.3}");
    assert!(auc_bgr >= 0.85, "BGR AUC {auc_bgr:.3}");
    // The shared print and tablet stills (Silent-Face's) are caught outright.
    for (s, l, b) in &per_source {
        if !l && s.starts_with("print_or_screen") {
            assert!(*b < 0.05, "{s}: P(real) {b:.3}");
        }
    }
}
