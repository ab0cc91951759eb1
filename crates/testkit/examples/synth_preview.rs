//! Writes one frame of each synthetic case to a folder, to look at: `cargo run --release -p faceproof-testkit --example synth_preview -- OUT_DIR`.
use faceproof_testkit::{attacks, degrade, read_frames, shared_file};

fn main() {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: synth_preview OUT_DIR"),
    );
    std::fs::create_dir_all(&out).unwrap();
    let frame = read_frames(&shared_file("videos/live_blink_640x360.mp4"), 0.1, 10.0).remove(0);
    let save =
        |name: &str, img: &image::RgbImage| img.save(out.join(format!("{name}.png"))).unwrap();
    save("planar", &attacks::planar_replay(&frame, 1.0, 10.0, 3)[7]);
    save("screen", &attacks::screen_replay(&frame, 1.0, 10.0, 3)[7]);
    save("shrink", &degrade::shrink(&frame, 0.4));
    save("blur", &degrade::blur(&frame, 6.0));
    save("dark", &degrade::darken(&frame, 0.2));
    save("slide", &degrade::slide_out(&frame, 0.5));
}
