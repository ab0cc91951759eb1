//! Builds an evaluation set for `faceproof eval` from the shared data:
//! `cargo run --release -p faceproof-testkit --example eval_set -- OUT_DIR`
//!
//! - every live clip of `videos/`, trimmed to 6 s (bona fide; the crowd and the stage profile
//!   clip too, expecting `multiple_faces` / `not_frontal`); every other one with a genuine ID
//!   photo (a frame of the same clip outside the trimmed part when there is one), the others with
//!   another person's photo from `faces/` (an impostor pair, expecting `face_mismatch`);
//! - the deepfake clips of `attacks/` (trimmed);
//! - per single-face live clip, from its frame at 1 s: the frame as a 6 s still video
//!   (`still`), moved as a rigid plane by hand (`print`), shown on a simulated screen (`screen`);
//! - degraded captures of two clips: shrunk, blurred, darkened, sliding out of the frame;
//! - the real material: every live selfie of `real/bona_fide/` and every real screen replay of
//!   `real/replay/` (trimmed, their own size and rate), and the attack photos of `attacks/` as a
//!   still video (`still`) and moved by hand as a print (`print`); the genuine photos there as
//!   stills only.
//!
//! Every row names its `source`: the clip, person or generator output it was made from. A
//! synthetic attack shares its source with the live clip its frame came from, a real replay with
//! the live clip of the same person, so a fit that holds out one source holds out everything that
//! shows that face. Species: `still`, `print` (a photo moved as a rigid plane), `screen` (a
//! simulated or real screen replay), `deepfake` (generated or re-enacted).
//!
//! Writes the clips, the ID photos and `OUT_DIR/manifest.csv` (paths relative to it). Synthetic
//! clips run at 15 fps (the engine analyses 15 fps) with the long side at most 960 px, so a full
//! eval stays within minutes on 2 cores.

use faceproof_testkit::{attacks, degrade, read_frames, shared_file, write_video};
use image::RgbImage;
use std::path::{Path, PathBuf};
use std::process::Command;

const SECONDS: f64 = 6.0;
const FPS: f64 = 15.0;
const MAX_SIDE: u32 = 960;

/// Live clips: path, expected codes beyond resolution, whether one face fills it (attack source).
const LIVE: [(&str, &str, bool); 12] = [
    ("videos/live_selfie_portrait.mp4", "", true),
    ("videos/live_blink_640x360.mp4", "", true),
    ("videos/live_talking_720x1280.mp4", "", true),
    ("videos/live_blink_square_1.mp4", "", true),
    ("videos/live_expression_square_2.mp4", "", true),
    ("videos/live_expression_square_3.mp4", "", true),
    ("videos/live_talking_head_1.mp4", "", true),
    ("videos/live_talking_head_2.mp4", "", true),
    ("videos/live_talking_head_3.mp4", "", true),
    ("videos/live_newsreader_720p.mp4", "face_too_small", false),
    ("videos/crowd_1080p.mp4", "multiple_faces", false),
    ("videos/stage_side_face_360p.mp4", "not_frontal", false),
];

/// Deepfakes and their source: the re-enactment is made from the newsreader clip (one source with
/// it); each generated head is its own.
const DEEPFAKES: [(&str, &str); 5] = [
    (
        "attacks/deepfake_neuraltextures_720p.mp4",
        "live_newsreader_720p",
    ),
    ("attacks/generated_vasa_1.mp4", "generated_vasa_1"),
    ("attacks/generated_vasa_2.mp4", "generated_vasa_2"),
    ("attacks/generated_vasa_3.mp4", "generated_vasa_3"),
    ("attacks/generated_emo_1.mp4", "generated_emo_1"),
];

/// Real live selfies (`real/bona_fide/`): file, expected codes beyond resolution and frame rate.
/// The two surgical masks are occlusions (`face_occluded` is the right answer, not a reject).
const REAL_LIVE: [(&str, &str); 17] = [
    ("wolfhuo_1.mp4", ""),
    ("tranvanluyt_1.mp4", ""),
    ("nhtlongcs_1.mp4", "face_occluded"),
    ("nhtlongcs_2.mp4", "face_occluded"),
    ("capstone4_1.mp4", ""),
    ("capstone4_2.mp4", ""),
    ("capstone4_3.mp4", ""),
    ("faceswap_1.mp4", ""),
    ("faceswap_2.mp4", ""),
    ("faceswap_3.mp4", ""),
    ("faceswap_4.mp4", ""),
    ("krzysiek_1.webm", ""),
    ("mounish_1.mp4", ""),
    ("saikan_1.avi", ""),
    ("cnnfacerec_1.mp4", ""),
    ("cnnfacerec_2.mp4", ""),
    ("cnnfacerec_3.mp4", ""),
];

/// Real screen replays (`real/replay/`); the same file name in `real/bona_fide/` is the same person.
const REAL_REPLAYS: [(&str, &str); 3] = [
    ("wolfhuo_1.mp4", ""),
    ("tranvanluyt_1.mp4", ""),
    ("nhtlongcs_1.mp4", "face_occluded"),
];

/// Photos of `attacks/`: file, source (person or set), whether it shows an attack (a genuine
/// photo is only a still injection, not a print).
const ATTACK_PHOTOS: [(&str, &str, bool); 9] = [
    ("attacks/print_or_screen_1.jpg", "silent_face_set", true),
    ("attacks/print_or_screen_2.jpg", "silent_face_set", true),
    (
        "attacks/genuine_counterpart_1.jpg",
        "silent_face_set",
        false,
    ),
    ("attacks/replay_a_1.png", "person_a", true),
    ("attacks/replay_a_2.jpg", "person_a", true),
    ("attacks/replay_a_3.jpg", "person_a", true),
    ("attacks/genuine_a_1.jpg", "person_a", false),
    ("attacks/genuine_a_2.jpg", "person_a", false),
    ("attacks/replay_monitor.jpg", "replay_monitor", true),
];

/// Other people's photos for impostor pairs.
const IMPOSTOR_PHOTOS: [&str; 4] = [
    "faces/obama/1.jpg",
    "faces/biden/1.jpg",
    "faces/kit_harington/1.jpg",
    "faces/rose_leslie/1.jpg",
];

/// Below this short side the engine warns `low_resolution` (media `Limits::min_video_short_side`).
const HD_SHORT_SIDE: u32 = 720;
/// Below this frame rate it warns `low_frame_rate` (media `Limits::min_video_fps`): every
/// synthetic clip here (15 fps) expects the warning. Trimmed clips keep their own rate (25-30).
const MIN_FPS: f64 = 25.0;

struct Line {
    video: String,
    id_photo: String,
    label: &'static str,
    codes: Vec<String>,
    species: &'static str,
    /// The clip, person or generator output the row was made from (the hold-out group).
    source: String,
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).expect("usage: eval_set OUT_DIR"));
    for dir in [
        "live", "deepfake", "attack", "degraded", "id", "real", "replay",
    ] {
        std::fs::create_dir_all(out.join(dir)).unwrap();
    }
    let mut lines = Vec::new();
    let mut impostor = 0;
    for (i, &(src, expected, single)) in LIVE.iter().enumerate() {
        let path = shared_file(src);
        let name = stem(&path);
        let rel = format!("live/{name}.mp4");
        trim(&path, &out.join(&rel));
        eprintln!("live {rel}");
        let (w, h) = size(&out.join(&rel));
        let mut codes: Vec<String> = split(expected);
        if w.min(h) < HD_SHORT_SIDE {
            codes.push("low_resolution".into());
        }
        let frame = fit(read_frames(&path, 1.05, 1.0).pop().unwrap());
        let mut id_photo = String::new();
        if single {
            if i % 2 == 0 {
                // Genuine: a frame from after the trimmed part when the clip is long enough.
                let later = read_frames(&path, 60.0, 0.125);
                let pick = later.get(1).or(later.last()).cloned().unwrap();
                id_photo = format!("id/{name}.jpg");
                pick.save(out.join(&id_photo)).unwrap();
            } else {
                let photo = IMPOSTOR_PHOTOS[impostor % IMPOSTOR_PHOTOS.len()];
                impostor += 1;
                id_photo = format!("id/impostor_{name}.jpg");
                std::fs::copy(shared_file(photo), out.join(&id_photo)).unwrap();
                codes.push("face_mismatch".into());
            }
        }
        lines.push(Line {
            video: rel,
            id_photo,
            label: "live",
            codes,
            species: "live",
            source: name.clone(),
        });
        if single {
            synthetic_attacks(&out, &name, &frame, i as u64, &mut lines);
        }
    }
    for (src, source) in DEEPFAKES {
        let path = shared_file(src);
        let rel = format!("deepfake/{}.mp4", stem(&path));
        trim(&path, &out.join(&rel));
        eprintln!("deepfake {rel}");
        lines.push(Line {
            video: rel,
            id_photo: String::new(),
            label: "deepfake",
            codes: vec!["deepfake".into()],
            species: "deepfake",
            source: source.into(),
        });
    }
    for (file, expected) in REAL_LIVE {
        real_clip(&out, "real", file, expected, "live", "live", &mut lines);
    }
    for (file, expected) in REAL_REPLAYS {
        let codes = format!("spoof;{expected}");
        real_clip(&out, "replay", file, &codes, "spoof", "screen", &mut lines);
    }
    for (i, (src, source, attack)) in ATTACK_PHOTOS.iter().enumerate() {
        photo_attacks(&out, src, source, *attack, 100 + i as u64, &mut lines);
    }
    for src in [
        "videos/live_blink_640x360.mp4",
        "videos/live_talking_head_3.mp4",
    ] {
        degraded(&out, &shared_file(src), &mut lines);
    }
    let mut csv = String::from("video,id_photo,label,codes,species,source\n");
    for l in &lines {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            l.video,
            l.id_photo,
            l.label,
            l.codes.join(";"),
            l.species,
            l.source
        ));
    }
    std::fs::write(out.join("manifest.csv"), csv).unwrap();
    eprintln!(
        "{} rows in {}",
        lines.len(),
        out.join("manifest.csv").display()
    );
}

/// One real clip of `real/<dir>/` trimmed (its own size and rate; the codes its size and rate
/// bring are expected). Its source is the file's stem: a replay and the live clip of the same
/// person share it.
fn real_clip(
    out: &Path,
    dir: &str,
    file: &str,
    expected: &str,
    label: &'static str,
    species: &'static str,
    lines: &mut Vec<Line>,
) {
    let path = shared_file(&format!(
        "real/{}/{file}",
        if dir == "real" { "bona_fide" } else { "replay" }
    ));
    let name = stem(&path);
    let rel = format!("{dir}/{name}.mp4");
    trim(&path, &out.join(&rel));
    eprintln!("{dir} {rel}");
    let (w, h) = size(&out.join(&rel));
    let mut codes = split(expected);
    if w.min(h) < HD_SHORT_SIDE {
        codes.push("low_resolution".into());
    }
    if frame_rate(&out.join(&rel)) < MIN_FPS {
        codes.push("low_frame_rate".into());
    }
    lines.push(Line {
        video: rel,
        id_photo: String::new(),
        label,
        codes,
        species,
        source: name,
    });
}

/// A photo of `attacks/` (EXIF orientation applied) as a still video and, when it shows an
/// attack, moved by hand as a print.
fn photo_attacks(
    out: &Path,
    src: &str,
    source: &str,
    attack: bool,
    seed: u64,
    lines: &mut Vec<Line>,
) {
    let path = shared_file(src);
    let photo = fit(upright(&path));
    let name = stem(&path);
    let low = photo.width().min(photo.height()) < HD_SHORT_SIDE;
    let mut cases = vec![("still", attacks::still(&photo, SECONDS, FPS), "still_image")];
    if attack {
        cases.push((
            "print",
            attacks::planar_replay(&photo, SECONDS, FPS, seed),
            "spoof",
        ));
    }
    for (species, frames, codes) in cases {
        let rel = format!("attack/photo_{name}_{species}.mp4");
        write_video(&frames, FPS, &out.join(&rel));
        eprintln!("attack {rel}");
        lines.push(Line {
            video: rel,
            id_photo: String::new(),
            label: "spoof",
            codes: synthetic_codes(codes, low),
            species,
            source: source.into(),
        });
    }
}

/// A photo turned upright by its EXIF orientation (several shared photos are stored sideways).
fn upright(path: &Path) -> RgbImage {
    use image::ImageDecoder;
    let mut decoder = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .expect("attack photo")
        .into_decoder()
        .expect("decodable attack photo");
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).expect("decodable attack photo");
    img.apply_orientation(orientation);
    img.to_rgb8()
}

/// A clip's frame rate (ffprobe's average).
fn frame_rate(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=avg_frame_rate", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe CLI");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().split('/');
    let num: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let den: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(1.0);
    if den > 0.0 { num / den } else { 0.0 }
}

/// Still, print (planar) and screen replays of one real frame.
fn synthetic_attacks(out: &Path, name: &str, frame: &RgbImage, seed: u64, lines: &mut Vec<Line>) {
    let cases: [(&'static str, Vec<RgbImage>, &str); 3] = [
        // A still is `still_image` (FPT 413), not a presentation: no `spoof` expected.
        ("still", attacks::still(frame, SECONDS, FPS), "still_image"),
        (
            "print",
            attacks::planar_replay(frame, SECONDS, FPS, seed),
            "spoof",
        ),
        (
            "screen",
            attacks::screen_replay(frame, SECONDS, FPS, seed),
            "spoof",
        ),
    ];
    for (species, frames, codes) in cases {
        let rel = format!("attack/{name}_{species}.mp4");
        write_video(&frames, FPS, &out.join(&rel));
        eprintln!("attack {rel}");
        let codes = synthetic_codes(codes, frame.width().min(frame.height()) < HD_SHORT_SIDE);
        lines.push(Line {
            video: rel,
            id_photo: String::new(),
            label: "spoof",
            codes,
            species,
            source: name.to_string(),
        });
    }
}

/// The codes a synthetic clip expects: its own, plus the warnings its size and the synthetic
/// frame rate bring.
fn synthetic_codes(codes: &str, low_resolution: bool) -> Vec<String> {
    let mut codes = split(codes);
    if low_resolution {
        codes.push("low_resolution".into());
    }
    if FPS < MIN_FPS {
        codes.push("low_frame_rate".into());
    }
    codes
}

/// Live captures with one quality fault each (label live: the person is real).
fn degraded(out: &Path, src: &Path, lines: &mut Vec<Line>) {
    let name = stem(src);
    let frames: Vec<RgbImage> = read_frames(src, SECONDS, FPS)
        .into_iter()
        .map(fit)
        .collect();
    let n = frames.len() as f64;
    let low = frames[0].width().min(frames[0].height()) < HD_SHORT_SIDE;
    let cases: [(&str, &str, Vec<RgbImage>); 4] = [
        (
            "small",
            "face_too_small",
            frames.iter().map(|f| degrade::shrink(f, 0.3)).collect(),
        ),
        (
            "blurred",
            "face_blurry",
            frames.iter().map(|f| degrade::blur(f, 6.0)).collect(),
        ),
        (
            "dark",
            "face_too_dark",
            frames.iter().map(|f| degrade::darken(f, 0.15)).collect(),
        ),
        (
            "leaving",
            "face_out_of_frame;face_lost",
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| degrade::slide_out(f, (2.0 * i as f64 / n - 1.0).max(0.0)))
                .collect(),
        ),
    ];
    for (kind, codes, clip) in cases {
        let rel = format!("degraded/{name}_{kind}.mp4");
        write_video(&clip, FPS, &out.join(&rel));
        eprintln!("degraded {rel}");
        let codes = synthetic_codes(codes, low);
        lines.push(Line {
            video: rel,
            id_photo: String::new(),
            label: "live",
            codes,
            species: "live",
            source: name.clone(),
        });
    }
}

/// The first 6 s, re-encoded (a stream copy would cut at a key frame), no audio.
fn trim(src: &Path, dst: &Path) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(src)
        .args(["-t", &SECONDS.to_string(), "-an", "-c:v", "libx264"])
        .args(["-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"])
        .arg(dst)
        .status()
        .expect("ffmpeg CLI")
        .success();
    assert!(ok, "ffmpeg could not trim {}", src.display());
}

/// Upright width and height of a clip (ffprobe, after the display rotation).
fn size(path: &Path) -> (u32, u32) {
    let frame = read_frames(path, 0.1, 10.0).remove(0);
    frame.dimensions()
}

/// Scales a frame down so its long side is at most `MAX_SIDE`.
fn fit(frame: RgbImage) -> RgbImage {
    let long = frame.width().max(frame.height());
    if long <= MAX_SIDE {
        return frame;
    }
    let k = f64::from(MAX_SIDE) / f64::from(long);
    let (w, h) = (
        (f64::from(frame.width()) * k).round() as u32 & !1,
        (f64::from(frame.height()) * k).round() as u32 & !1,
    );
    image::imageops::resize(&frame, w, h, image::imageops::FilterType::Triangle)
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

fn split(codes: &str) -> Vec<String> {
    codes
        .split(';')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}
