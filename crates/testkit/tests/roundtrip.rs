//! The video helpers on a real clip: what is written reads back with the same size and count.

use faceproof_testkit::{Clip, attacks, read_frames, shared_file, write_video};

#[test]
fn real_clip_reads_and_a_planar_replay_writes_back() {
    let frames = read_frames(&shared_file("videos/live_blink_640x360.mp4"), 1.0, 10.0);
    assert_eq!(frames.len(), 10);
    assert_eq!(frames[0].dimensions(), (640, 360));
    let replay = attacks::planar_replay(&frames[0], 2.0, 15.0, 1);
    let clip = Clip::new("replay.mp4");
    write_video(&replay, 15.0, &clip.path);
    let back = read_frames(&clip.path, 10.0, 15.0);
    assert_eq!(back.len(), 30);
    assert_eq!(back[0].dimensions(), (640, 360));
}

#[test]
fn portrait_phone_clip_comes_out_upright() {
    // 368x656 as displayed: taller than wide once rotation metadata (if any) is applied.
    let frames = read_frames(&shared_file("videos/live_selfie_portrait.mp4"), 0.2, 10.0);
    let (w, h) = frames[0].dimensions();
    assert!(h > w, "portrait selfie decoded as {w}x{h}");
}
