//! The pipeline on frames of the real clips (decoded by the ffmpeg CLI through the testkit, an
//! independent decoder): one face per frame in the single-person clips, the same person throughout.

mod common;

use common::{data_dir, vision};
use faceproof_testkit::read_frames;
use faceproof_vision::{AnalyzeOptions, Range, largest};
use std::time::Instant;

#[test]
fn live_clips_show_one_face_per_frame_and_the_same_person_throughout() {
    let v = vision();
    // Frames of one clip must match each other better than any two different people of the
    // shared photos do with the same embedder (the match threshold itself is the engine's).
    let threshold = common::pair_cosines(v).highest_impostor();
    let opts = AnalyzeOptions {
        range: Range::Auto,
        iris: true,
        antispoof: false,
        minifas: false,
        embedding: true,
        refine_mesh: true,
    };
    for clip in [
        "videos/live_selfie_portrait.mp4",
        "videos/live_blink_640x360.mp4",
        "videos/live_talking_720x1280.mp4",
        "videos/live_talking_head_1.mp4",
        "videos/live_newsreader_720p.mp4",
    ] {
        let frames = read_frames(&data_dir().join(clip), 4.0, 4.0);
        assert!(frames.len() >= 12, "{clip}: {} frames", frames.len());
        let t = Instant::now();
        let mut first = None;
        let mut worst = 1f32;
        let mut counts = Vec::new();
        for f in &frames {
            let faces = v.analyze(f, &opts).unwrap();
            counts.push(faces.len());
            let Some(face) = largest(&faces) else {
                continue;
            };
            let e = face.embedding.clone().unwrap();
            match &first {
                None => first = Some(e),
                Some(e0) => worst = worst.min(e0.cosine(&e)),
            }
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0 / frames.len() as f64;
        println!(
            "{clip:38} {}x{} {} frames, faces per frame {counts:?}, lowest cosine to frame 0 {worst:.3}, {ms:.1} ms/frame",
            frames[0].width(),
            frames[0].height(),
            frames.len()
        );
        assert!(
            counts.iter().all(|&c| c == 1),
            "{clip}: faces per frame {counts:?}"
        );
        assert!(
            worst >= threshold,
            "{clip}: a frame matches frame 0 only at {worst:.3}, below the highest impostor pair of the shared photos ({threshold:.3})"
        );
    }
}
