//! Mean colours of mesh-defined face regions: skin for the pulse, lower face against the forehead
//! for occlusion.

use faceproof_vision::layout;
use image::RgbImage;

/// Pixels with a channel at or beyond these levels are left out: clipped values carry no pulse and
/// no colour.
const CLIP_LOW: u8 = 6;
const CLIP_HIGH: u8 = 249;
/// Regions with fewer usable pixels than this report no colour.
const MIN_PIXELS: usize = 20;

/// Mean RGB (0-255) of face regions in one frame; `None` where too few usable pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaceColours {
    /// Forehead and both cheeks together (the pulse's skin signal).
    pub skin: Option<[f32; 3]>,
    /// Forehead alone (the occlusion reference: masks and hands do not cover it).
    pub forehead: Option<[f32; 3]>,
    /// Mouth, chin and lower cheeks.
    pub lower: Option<[f32; 3]>,
    /// Inside the outer lip contour.
    pub lips: Option<[f32; 3]>,
    /// A band of background around the face, away from it (the colour challenge's reference:
    /// a global light or white-balance change moves it with the face, the screen's light barely).
    pub background: Option<[f32; 3]>,
}

/// Measures the regions of one face (`points`: the 468 mesh points in `img` pixels).
pub fn face_colours(img: &RgbImage, points: &[[f32; 2]]) -> FaceColours {
    let poly = |idx: &[usize]| -> Vec<[f32; 2]> { idx.iter().map(|&i| points[i]).collect() };
    let forehead = Sum::polygon(img, &poly(&layout::FOREHEAD));
    let left = Sum::polygon(img, &poly(&layout::IMAGE_LEFT_CHEEK));
    let right = Sum::polygon(img, &poly(&layout::IMAGE_RIGHT_CHEEK));
    let lower = Sum::polygon(img, &poly(&layout::LOWER_FACE));
    let lips = Sum::polygon(img, &poly(&layout::LIPS_OUTER));
    let mut skin = forehead;
    skin.add(&left);
    skin.add(&right);
    FaceColours {
        skin: skin.mean(),
        forehead: forehead.mean(),
        lower: lower.mean(),
        lips: lips.mean(),
        background: background(img, points).mean(),
    }
}

/// Inner and outer edge of the background band, in half face-box sizes from the face's centre:
/// beyond the hair and ears (1.6), near enough to stay in frame on a selfie (2.2).
const BAND_INNER: f32 = 1.6;
const BAND_OUTER: f32 = 2.2;
/// At most about this many band pixels are read (a strided grid): a mean of a few thousand
/// pixels is as steady as one of all of them.
const BAND_MAX_SAMPLES: f32 = 3000.0;

/// Sums a square band around the face box of the mesh, above the chin line (below it are the
/// neck and shoulders, which the screen lights like the face).
fn background(img: &RgbImage, points: &[[f32; 2]]) -> Sum {
    let mut sum = Sum::default();
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in points {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    if !(x1 > x0 && y1 > y0) {
        return sum;
    }
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (hw, hh) = ((x1 - x0) / 2.0, (y1 - y0) / 2.0);
    let area = 4.0 * hw * hh * (BAND_OUTER * BAND_OUTER - BAND_INNER * BAND_INNER);
    let step = ((area / BAND_MAX_SAMPLES).sqrt().floor() as usize).max(1);
    let (w, h) = (img.width() as f32, img.height() as f32);
    let xa = (cx - BAND_OUTER * hw).max(0.0) as u32;
    let xb = (cx + BAND_OUTER * hw).min(w - 1.0).max(0.0) as u32;
    let ya = (cy - BAND_OUTER * hh).max(0.0) as u32;
    let yb = y1.min(h - 1.0).max(0.0) as u32;
    for y in (ya..=yb).step_by(step) {
        for x in (xa..=xb).step_by(step) {
            let (dx, dy) = ((x as f32 - cx).abs() / hw, (y as f32 - cy).abs() / hh);
            if dx.max(dy) < BAND_INNER {
                continue;
            }
            let p = img.get_pixel(x, y).0;
            if p.iter().all(|&v| v > CLIP_LOW && v < CLIP_HIGH) {
                for c in 0..3 {
                    sum.rgb[c] += f64::from(p[c]);
                }
                sum.n += 1;
            }
        }
    }
    sum
}

/// Distance between two colours as a face-occlusion measure: Euclidean distance of their (r, g)
/// chromaticities (independent of shading), plus a tenth of the absolute log ratio of their
/// brightness (a black mask has skin-like chromaticity noise but is far darker).
pub fn colour_distance(a: [f32; 3], b: [f32; 3]) -> f64 {
    let chroma = |c: [f32; 3]| {
        let s = f64::from(c[0] + c[1] + c[2]).max(1e-6);
        (f64::from(c[0]) / s, f64::from(c[1]) / s, s)
    };
    let (ra, ga, sa) = chroma(a);
    let (rb, gb, sb) = chroma(b);
    (ra - rb).hypot(ga - gb) + 0.1 * (sa / sb).ln().abs()
}

/// How much redder the lips are than the skin: `(r - g)` chromaticity of the lips minus that of
/// the skin (the engine passes the forehead). Lips are redder than any skin tone; a mask or a hand
/// over the mouth is not.
pub fn lip_redness(lips: [f32; 3], skin: [f32; 3]) -> f64 {
    let rg = |c: [f32; 3]| {
        let s = f64::from(c[0] + c[1] + c[2]).max(1e-6);
        (f64::from(c[0]) - f64::from(c[1])) / s
    };
    rg(lips) - rg(skin)
}

#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    rgb: [f64; 3],
    n: usize,
}

impl Sum {
    /// Sums the pixels whose centres lie inside the polygon (even-odd rule, scanline).
    fn polygon(img: &RgbImage, poly: &[[f32; 2]]) -> Sum {
        let mut sum = Sum::default();
        if poly.len() < 3 {
            return sum;
        }
        let (w, h) = (img.width() as i64, img.height() as i64);
        let ymin = poly.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min);
        let ymax = poly.iter().map(|p| p[1]).fold(f32::NEG_INFINITY, f32::max);
        let y0 = (ymin.floor() as i64).max(0);
        let y1 = (ymax.ceil() as i64).min(h - 1);
        let mut xs = Vec::with_capacity(poly.len());
        for y in y0..=y1 {
            let yc = y as f32 + 0.5;
            xs.clear();
            for (i, a) in poly.iter().enumerate() {
                let b = poly[(i + 1) % poly.len()];
                if (a[1] <= yc) != (b[1] <= yc) {
                    xs.push(a[0] + (yc - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
                }
            }
            xs.sort_by(f32::total_cmp);
            for pair in xs.chunks_exact(2) {
                let xa = ((pair[0] - 0.5).ceil() as i64).max(0);
                let xb = ((pair[1] - 0.5).floor() as i64).min(w - 1);
                for x in xa..=xb {
                    let p = img.get_pixel(x as u32, y as u32).0;
                    if p.iter().all(|&v| v > CLIP_LOW && v < CLIP_HIGH) {
                        for c in 0..3 {
                            sum.rgb[c] += f64::from(p[c]);
                        }
                        sum.n += 1;
                    }
                }
            }
        }
        sum
    }

    fn add(&mut self, o: &Sum) {
        for c in 0..3 {
            self.rgb[c] += o.rgb[c];
        }
        self.n += o.n;
    }

    fn mean(&self) -> Option<[f32; 3]> {
        (self.n >= MIN_PIXELS).then(|| {
            let n = self.n as f64;
            [
                (self.rgb[0] / n) as f32,
                (self.rgb[1] / n) as f32,
                (self.rgb[2] / n) as f32,
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_mean_counts_the_inside_only() {
        let mut img = RgbImage::from_pixel(40, 40, image::Rgb([10, 20, 30]));
        for y in 10..20 {
            for x in 10..20 {
                img.put_pixel(x, y, image::Rgb([200, 100, 50]));
            }
        }
        let square = [[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]];
        let s = Sum::polygon(&img, &square);
        assert_eq!(s.n, 100);
        assert_eq!(s.mean(), Some([200.0, 100.0, 50.0]));
    }

    #[test]
    fn background_band_reads_around_the_face_not_on_it() {
        // A face box 40x40 at the centre of 200x200; the band (1.6-2.2 half sizes) is grey, the
        // face and everything else red.
        let mut img = RgbImage::from_pixel(200, 200, image::Rgb([200, 30, 30]));
        for y in 0..200u32 {
            for x in 0..200u32 {
                let d = ((x as f32 - 100.0).abs()).max((y as f32 - 100.0).abs()) / 20.0;
                if (1.6..=2.2).contains(&d) {
                    img.put_pixel(x, y, image::Rgb([90, 90, 90]));
                }
            }
        }
        let points = [[80.0, 80.0], [120.0, 120.0], [100.0, 90.0]];
        let mean = background(&img, &points).mean().unwrap();
        assert!(mean.iter().all(|&c| (c - 90.0).abs() < 1.0), "{mean:?}");
    }

    #[test]
    fn colour_distance_ignores_shading_but_not_hue() {
        let skin = [180.0, 130.0, 110.0];
        let shaded = [90.0, 65.0, 55.0];
        let blue_mask = [110.0, 150.0, 200.0];
        assert!(colour_distance(skin, shaded) < 0.08);
        assert!(colour_distance(skin, blue_mask) > 0.15);
    }
}
