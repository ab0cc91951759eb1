//! Bad captures made from good ones: each function changes one thing a quality gate must catch.

use image::{Rgb, RgbImage, imageops};

/// The whole frame shrunk by `factor` (< 1) and centred on a grey canvas of the same size:
/// the face keeps its look but covers `factor²` of its former share of the frame.
pub fn shrink(frame: &RgbImage, factor: f64) -> RgbImage {
    let (w, h) = frame.dimensions();
    let (sw, sh) = (
        ((w as f64 * factor) as u32).max(1),
        ((h as f64 * factor) as u32).max(1),
    );
    let small = imageops::resize(frame, sw, sh, imageops::FilterType::Triangle);
    let mut canvas = RgbImage::from_pixel(w, h, Rgb([110, 110, 110]));
    imageops::overlay(
        &mut canvas,
        &small,
        ((w - sw) / 2) as i64,
        ((h - sh) / 2) as i64,
    );
    canvas
}

/// Gaussian blur with standard deviation `sigma` pixels (out of focus, motion-smeared camera).
pub fn blur(frame: &RgbImage, sigma: f32) -> RgbImage {
    imageops::blur(frame, sigma)
}

/// Exposure scaled by `gain` (< 1 darkens), as an under-exposed capture in a dim room.
pub fn darken(frame: &RgbImage, gain: f64) -> RgbImage {
    let mut out = frame.clone();
    for p in out.pixels_mut() {
        for v in p.0.iter_mut() {
            *v = (*v as f64 * gain).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// The content shifted right by `fraction` of the width (0 = unchanged, 1 = gone), black behind:
/// played over time it makes the face leave the frame.
pub fn slide_out(frame: &RgbImage, fraction: f64) -> RgbImage {
    let (w, h) = frame.dimensions();
    let shift = (w as f64 * fraction.clamp(0.0, 1.0)).round() as i64;
    let mut out = RgbImage::new(w, h);
    imageops::overlay(&mut out, frame, shift, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_keeps_size_and_centres() {
        let white = RgbImage::from_pixel(100, 80, Rgb([255, 255, 255]));
        let out = shrink(&white, 0.5);
        assert_eq!(out.dimensions(), (100, 80));
        assert_eq!(out.get_pixel(50, 40).0, [255, 255, 255]);
        assert_eq!(out.get_pixel(5, 5).0, [110, 110, 110]);
    }

    #[test]
    fn slide_out_moves_content_away() {
        let white = RgbImage::from_pixel(100, 10, Rgb([255, 255, 255]));
        assert_eq!(slide_out(&white, 0.6).get_pixel(30, 5).0, [0, 0, 0]);
        assert_eq!(slide_out(&white, 0.6).get_pixel(70, 5).0, [255, 255, 255]);
    }

    #[test]
    fn darken_scales_values() {
        let grey = RgbImage::from_pixel(2, 2, Rgb([200, 100, 50]));
        assert_eq!(darken(&grey, 0.5).get_pixel(0, 0).0, [100, 50, 25]);
    }
}
