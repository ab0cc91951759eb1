//! Synthetic presentation attacks made from a real photo or frame.
//!
//! They are honest stand-ins, not the real thing: a printed photo or a screen held by hand moves
//! as one rigid plane under perspective, with the small tremor of a hand, and a screen adds a
//! pixel grid (moire once resampled by the camera), a colour cast and glare. No depth, no blinks,
//! no expression, no pulse: exactly the cues a live face has and these lack.

use crate::warp::{Homography, bilinear, multiply, warp_onto};
use image::{Rgb, RgbImage};

/// The same frame for `seconds` at `fps`: a photo re-encoded as a video (FPT code 413).
pub fn still(frame: &RgbImage, seconds: f64, fps: f64) -> Vec<RgbImage> {
    vec![frame.clone(); (seconds * fps).round() as usize]
}

/// `photo` shown at 85 % of the frame on a dark background and moved by hand for `seconds`:
/// rotation within about ±3 degrees, shifts within about ±3 % of the frame, scale ±4 %, and a
/// perspective tilt of a few degrees, all smooth (a hand is not white noise). `seed` varies the path.
pub fn planar_replay(photo: &RgbImage, seconds: f64, fps: f64, seed: u64) -> Vec<RgbImage> {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let paths: Vec<Tremor> = (0..6).map(|_| Tremor::new(&mut rng)).collect();
    let (w, h) = photo.dimensions();
    let (cx, cy, size) = (w as f64 / 2.0, h as f64 / 2.0, w.max(h) as f64);
    let frames = (seconds * fps).round() as usize;
    (0..frames)
        .map(|i| {
            let t = i as f64 / fps;
            let angle = paths[0].at(t) * 3f64.to_radians();
            let scale = 0.85 * (1.0 + 0.04 * paths[1].at(t));
            let (tx, ty) = (0.03 * size * paths[2].at(t), 0.03 * size * paths[3].at(t));
            // Perspective terms: a tilt of a few degrees of a plane about one metre away.
            let (px, py) = (0.06 / size * paths[4].at(t), 0.06 / size * paths[5].at(t));
            let to_centre: Homography = [[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]];
            let (c, s) = (angle.cos() * scale, angle.sin() * scale);
            let rigid: Homography = [[c, -s, cx + tx], [s, c, cy + ty], [0.0, 0.0, 1.0]];
            let tilt: Homography = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [px, py, 1.0]];
            let h_total = multiply(&rigid, &multiply(&tilt, &to_centre));
            let mut frame = RgbImage::from_pixel(w, h, Rgb([28, 26, 30]));
            warp_onto(photo, &h_total, &mut frame);
            frame
        })
        .collect()
}

/// [`planar_replay`] of `photo` as seen on a screen: a sub-pixel grid (period 3 px) that beats with
/// the camera's sampling, a cool colour cast, lifted blacks and a soft glare band.
pub fn screen_replay(photo: &RgbImage, seconds: f64, fps: f64, seed: u64) -> Vec<RgbImage> {
    let mut shown = photo.clone();
    let (w, h) = shown.dimensions();
    for (x, y, p) in shown.enumerate_pixels_mut() {
        let grid =
            0.82 + 0.18 * ((x as f64 * 2.1 + y as f64 * 0.35).sin() * (y as f64 * 2.1).sin()).abs();
        let glare = 40.0
            * (-((x as f64 / w as f64 - 0.7).powi(2) + (y as f64 / h as f64 - 0.3).powi(2)) / 0.02)
                .exp();
        let cast = [0.92, 0.98, 1.08];
        for (v, gain) in p.0.iter_mut().zip(cast) {
            *v = (18.0 + 0.9 * *v as f64 * grid * gain + glare)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    planar_replay(&shown, seconds, fps, seed)
}

/// A smooth random path in [-1, 1]: two sinusoids of random frequency (0.3-2 Hz) and phase.
struct Tremor {
    parts: [(f64, f64, f64); 2],
}

impl Tremor {
    fn new(rng: &mut XorShift) -> Tremor {
        let mut part = |amp: f64| {
            (
                amp,
                0.3 + 1.7 * rng.unit(),
                std::f64::consts::TAU * rng.unit(),
            )
        };
        Tremor {
            parts: [part(0.7), part(0.3)],
        }
    }

    fn at(&self, t: f64) -> f64 {
        self.parts
            .iter()
            .map(|(a, f, p)| a * (std::f64::consts::TAU * f * t + p).sin())
            .sum()
    }
}

/// A tiny deterministic generator: tests must be reproducible, and this crate needs no `rand`.
struct XorShift(u64);

impl XorShift {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A print bent round a vertical cylinder of radius `radius` (convex towards the camera: the
/// middle nearest), photographed by a pinhole camera on its axis with focal length `focal`, from
/// `distance` in front of the print's nearest line; lengths in the photo's pixels. The same
/// print seen from two distances is a far / near pair of a bent print: its middle comes closer
/// than its edges, a depth a flat photo lacks, though not a face's. Pixels off the print are grey.
pub fn curved_print(photo: &RgbImage, radius: f64, distance: f64, focal: f64) -> RgbImage {
    let (w, h) = photo.dimensions();
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let mut out = RgbImage::from_pixel(w, h, Rgb([110, 110, 110]));
    for x in 0..w {
        // The print's point at angle t round the cylinder lands on column x where
        // focal * radius * sin(t) = x * (distance + radius * (1 - cos t)); one root in +-1.5 rad.
        let xo = f64::from(x) + 0.5 - cx;
        let lands = |t: f64| focal * radius * t.sin() - xo * (distance + radius * (1.0 - t.cos()));
        let (mut lo, mut hi) = (-1.5f64, 1.5f64);
        if lands(lo) > 0.0 || lands(hi) < 0.0 {
            continue;
        }
        for _ in 0..50 {
            let mid = 0.5 * (lo + hi);
            if lands(mid) < 0.0 { lo = mid } else { hi = mid }
        }
        let t = 0.5 * (lo + hi);
        let depth = distance + radius * (1.0 - t.cos());
        let sx = radius * t + cx - 0.5;
        if sx < 0.0 || sx > f64::from(w) - 1.0 {
            continue;
        }
        for y in 0..h {
            let sy = (f64::from(y) + 0.5 - cy) * depth / focal + cy - 0.5;
            if sy >= 0.0 && sy <= f64::from(h) - 1.0 {
                out.put_pixel(x, y, bilinear(photo, sx, sy));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| Rgb([(x * 4) as u8, (y * 5) as u8, 128]))
    }

    #[test]
    fn still_repeats_one_frame() {
        let frames = still(&pattern(), 2.0, 25.0);
        assert_eq!(frames.len(), 50);
        assert!(frames.iter().all(|f| f == &frames[0]));
    }

    #[test]
    fn planar_replay_moves_and_is_reproducible() {
        let a = planar_replay(&pattern(), 1.0, 10.0, 7);
        let b = planar_replay(&pattern(), 1.0, 10.0, 7);
        let c = planar_replay(&pattern(), 1.0, 10.0, 8);
        assert_eq!(a.len(), 10);
        assert!(a == b, "same seed, same frames");
        assert!(a != c, "another seed, another path");
        assert!(a[0] != a[5], "the plane moves");
    }
}
