//! Draws what the pipeline sees onto copies of photos, to check decoding by eye:
//! `cargo run --release -p faceproof-vision --example annotate -- OUT_DIR [short|full|auto] IMAGE...`
//! Box (green: short range, blue: full range), BlazeFace keypoints (red), mesh (yellow), the five
//! alignment points (magenta), iris centres (cyan); plus each face's aligned 112x112 crop.

#[path = "../tests/common/mod.rs"]
mod common;

use faceproof_vision::image::{Rgb, RgbImage};
use faceproof_vision::{AnalyzeOptions, Point, Range};
use std::path::PathBuf;

fn dot(img: &mut RgbImage, p: Point, r: i32, c: [u8; 3]) {
    for dy in -r..=r {
        for dx in -r..=r {
            let (x, y) = (p.x as i32 + dx, p.y as i32 + dy);
            if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
                img.put_pixel(x as u32, y as u32, Rgb(c));
            }
        }
    }
}

fn line(img: &mut RgbImage, a: Point, b: Point, t: i32, c: [u8; 3]) {
    let n = a.dist(b).ceil().max(1.0) as usize;
    for i in 0..=n {
        let f = i as f32 / n as f32;
        dot(
            img,
            Point::new(a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f),
            t,
            c,
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(&args[0]);
    std::fs::create_dir_all(&out).unwrap();
    let range = match args[1].as_str() {
        "short" => Range::Short,
        "full" => Range::Full,
        _ => Range::Auto,
    };
    let vision = common::vision();
    for path in &args[2..] {
        let path = PathBuf::from(path);
        let img = common::load_rgb(&path);
        let opts = AnalyzeOptions {
            range,
            ..Default::default()
        };
        let faces = vision.analyze(&img, &opts).unwrap();
        let raw = vision.detect(&img, range).unwrap();
        let mut canvas = img.clone();
        let t = (img.width().max(img.height()) / 400).max(1) as i32;
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let parent = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        println!(
            "{parent}/{stem}: {}x{} raw detections {} faces {}",
            img.width(),
            img.height(),
            raw.len(),
            faces.len()
        );
        for d in &raw {
            println!(
                "   det {:?} score {:.3} box {:.0} {:.0} {:.0} {:.0}",
                d.range, d.score, d.rect.x, d.rect.y, d.rect.w, d.rect.h
            );
        }
        for (i, f) in faces.iter().enumerate() {
            let r = f.detection.rect;
            let c = if f.detection.range == Range::Short {
                [0, 255, 0]
            } else {
                [0, 80, 255]
            };
            let (p0, p1, p2, p3) = (
                Point::new(r.x, r.y),
                Point::new(r.x + r.w, r.y),
                Point::new(r.x + r.w, r.y + r.h),
                Point::new(r.x, r.y + r.h),
            );
            for (a, b) in [(p0, p1), (p1, p2), (p2, p3), (p3, p0)] {
                line(&mut canvas, a, b, t, c);
            }
            for p in &f.mesh.points {
                dot(&mut canvas, p.xy(), t / 2, [255, 255, 0]);
            }
            for p in f.detection.keypoints {
                dot(&mut canvas, p, 2 * t, [255, 0, 0]);
            }
            for p in f.landmarks.to_array() {
                dot(&mut canvas, p, 2 * t, [255, 0, 255]);
            }
            if let Some(e) = &f.eyes {
                for eye in [&e.right, &e.left] {
                    // the first 16 contour points are the eyelids
                    for p in eye.contour.iter().take(16) {
                        dot(&mut canvas, p.xy(), t / 2, [0, 160, 255]);
                    }
                    for p in &eye.iris[1..] {
                        dot(&mut canvas, p.xy(), t / 2, [255, 128, 0]);
                    }
                    dot(&mut canvas, eye.iris_center(), t, [0, 255, 255]);
                }
            }
            println!(
                "   face {i}: {:?} score {:.3} presence {:.3} yaw {:.1} pitch {:.1} roll {:.1} pad {:?} sharp {:.0} bright {:.0} bg {:?}",
                f.detection.range,
                f.detection.score,
                f.mesh.presence,
                f.pose.yaw,
                f.pose.pitch,
                f.pose.roll,
                f.pad_score,
                f.quality.sharpness,
                f.quality.brightness,
                f.quality.background_brightness
            );
            if let Some(a) = f.landmarks.aligned(&img) {
                a.save(out.join(format!("{parent}_{stem}_face{i}.png")))
                    .unwrap();
            }
        }
        if let Some(f) = faces.first() {
            // a close-up of the eyes of the first face, to check the iris model by eye
            let r = f.detection.rect;
            let (x, y) = (r.x.max(0.0) as u32, (r.y + r.h * 0.15).max(0.0) as u32);
            let w = (r.w as u32).min(canvas.width() - x);
            let h = ((r.h * 0.4) as u32).min(canvas.height() - y);
            let eyes = faceproof_vision::image::imageops::crop_imm(&canvas, x, y, w, h).to_image();
            eyes.save(out.join(format!("{parent}_{stem}_eyes.png")))
                .unwrap();
        }
        let scale = 900.0 / canvas.width().max(canvas.height()) as f32;
        let small = if scale < 1.0 {
            faceproof_vision::image::imageops::thumbnail(
                &canvas,
                (canvas.width() as f32 * scale) as u32,
                (canvas.height() as f32 * scale) as u32,
            )
        } else {
            canvas
        };
        small
            .save(out.join(format!("{parent}_{stem}.png")))
            .unwrap();
    }
}
