//! Times the per-frame calls the engine makes on one analysis-size frame, one thread:
//! `cargo run --release -p faceproof-vision --example frame_cost -- FRAME.png`

#[path = "../tests/common/mod.rs"]
mod common;

use faceproof_vision::{AnalyzeOptions, Range};
use std::time::Instant;

fn time<R>(label: &str, n: usize, mut f: impl FnMut() -> R) {
    for _ in 0..5 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    println!(
        "{label:>28}: {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}

fn main() {
    let path = std::env::args().nth(1).expect("FRAME.png");
    let img = faceproof_vision::image::open(path).unwrap().to_rgb8();
    let v = common::vision();
    let det = v.detect(&img, Range::Short).unwrap().remove(0);
    let opts = AnalyzeOptions::MESH_ONLY;
    let n = 200;
    time("detect short", n, || v.detect(&img, Range::Short).unwrap());
    time("detect full", n, || v.detect(&img, Range::Full).unwrap());
    time("mesh", n, || v.mesh(&img, &det, 0).unwrap());
    let mesh = v.mesh(&img, &det, 0).unwrap();
    time("thumbnail", n, || v.thumbnail(&img));
    let thumb = v.thumbnail(&img);
    time("measure_mesh", n, || {
        v.measure_mesh(&img, &thumb, det.clone(), mesh.clone(), &opts)
            .unwrap()
    });
    time("analyze_detection", n, || {
        v.analyze_detection(&img, det.clone(), &opts).unwrap()
    });
    time("iris larger eye", n, || {
        v.iris_model().run_larger(&img, &mesh).unwrap()
    });
}
