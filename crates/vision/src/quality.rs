//! Per-face quality measurements. Values only: the engine decides what is good enough.

use crate::config::QualityConfig;
use crate::detector::Detection;
use crate::geometry::{Affine, Point, Rect};
use crate::imgops::{self, Letterbox};
use crate::mesh::FaceMesh;
use crate::pose::Pose;
use image::RgbImage;
use serde::Serialize;

/// Quality of one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// Face box area (clipped to the image) over the image area, 0-1.
    pub face_area_ratio: f32,
    /// Fraction of the face box inside the image, 0-1 (below 1: the face is cut by the border).
    pub inside_ratio: f32,
    /// Distance between the eye centres in image pixels (resolution of the face).
    pub eye_distance_px: f32,
    /// Variance of the 3x3 Laplacian of the face's luma after resampling the face box to
    /// `quality.sharpness_size` pixels square (so it does not grow with the face's pixel count).
    /// Higher = sharper; blurred faces score low.
    pub sharpness: f32,
    /// Mean luma (0-255) of the face box.
    pub brightness: f32,
    /// Standard deviation of the face box's luma (0-255): the face's own contrast.
    pub contrast: f32,
    /// Mean luma (0-255) of the image outside the face box; `None` when the face fills the image.
    pub background_brightness: Option<f32>,
    /// `brightness - background_brightness`: negative for a backlit face.
    pub face_background_delta: Option<f32>,
    /// Mesh face-presence score, 0-1.
    pub mesh_presence: f32,
    /// Head pose.
    pub pose: Pose,
}

/// A small luma copy of the whole image, made once per image and shared by its faces (background
/// brightness).
#[derive(Debug, Clone)]
pub struct Thumbnail {
    luma: Vec<f32>,
    width: usize,
    lb: Letterbox,
}

impl Thumbnail {
    /// The image scaled to fit `size` pixels (long side), as luma.
    pub fn new(img: &RgbImage, size: u32) -> Thumbnail {
        imgops::with_letterbox(img, size, |rgb, lb| {
            let (iw, ih) = lb.inner(img.width(), img.height());
            let (px, py, n) = (lb.pad_x as usize, lb.pad_y as usize, size as usize);
            let mut luma = Vec::with_capacity(iw as usize * ih as usize);
            for y in py..py + ih as usize {
                let row = &rgb[(y * n + px) * 3..(y * n + px + iw as usize) * 3];
                luma.extend(row.chunks_exact(3).map(imgops::luma));
            }
            Thumbnail {
                luma,
                width: iw as usize,
                lb,
            }
        })
    }

    /// Mean luma outside `rect` (image pixels); `None` when nothing is outside.
    pub fn mean_outside(&self, rect: &Rect) -> Option<f32> {
        let (px, py) = (self.lb.pad_x as f32, self.lb.pad_y as f32);
        let (mut sum, mut count) = (0f64, 0usize);
        for (y, row) in self.luma.chunks_exact(self.width).enumerate() {
            for (x, &l) in row.iter().enumerate() {
                let q = self
                    .lb
                    .to_image(Point::new(x as f32 + px + 0.5, y as f32 + py + 0.5));
                if q.x >= rect.x && q.x < rect.x + rect.w && q.y >= rect.y && q.y < rect.y + rect.h
                {
                    continue;
                }
                sum += l as f64;
                count += 1;
            }
        }
        (count > 0).then(|| (sum / count as f64) as f32)
    }
}

/// Measures the quality of one face; `thumb` is [`Thumbnail::new`] of the same image.
pub fn measure(
    img: &RgbImage,
    thumb: &Thumbnail,
    det: &Detection,
    mesh: &FaceMesh,
    pose: Pose,
    eyes: (Point, Point),
    cfg: &QualityConfig,
) -> Quality {
    let (w, h) = (img.width(), img.height());
    let clipped = det.rect.clip(w, h);
    let box_area = det.rect.area();
    let n = cfg.sharpness_size as usize;
    let to_img = Affine {
        a: det.rect.w / n as f32,
        b: 0.0,
        c: det.rect.x,
        d: 0.0,
        e: det.rect.h / n as f32,
        f: det.rect.y,
    };
    let (sharpness, brightness, contrast) = imgops::with_warp(img, &to_img, n, n, |rgb| {
        let luma: Vec<f32> = rgb.chunks_exact(3).map(imgops::luma).collect();
        let (mean, std) = mean_std(luma.iter().copied());
        (laplacian_variance(&luma, n), mean, std)
    });
    let background = thumb.mean_outside(&det.rect);
    Quality {
        face_area_ratio: clipped.area() / (w as f32 * h as f32),
        inside_ratio: if box_area > 0.0 {
            clipped.area() / box_area
        } else {
            0.0
        },
        eye_distance_px: eyes.0.dist(eyes.1),
        sharpness,
        brightness,
        contrast,
        background_brightness: background,
        face_background_delta: background.map(|b| brightness - b),
        mesh_presence: mesh.presence,
        pose,
    }
}

fn mean_std(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let (mut n, mut s, mut s2) = (0f64, 0f64, 0f64);
    for v in values {
        let v = v as f64;
        n += 1.0;
        s += v;
        s2 += v * v;
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean = s / n;
    (mean as f32, (s2 / n - mean * mean).max(0.0).sqrt() as f32)
}

/// Variance of the 4-neighbour Laplacian over the interior of an `n` x `n` luma image.
fn laplacian_variance(luma: &[f32], n: usize) -> f32 {
    let rows: Vec<&[f32]> = luma.chunks_exact(n).collect();
    let lap = rows.windows(3).flat_map(|r| {
        let (up, mid, down) = (r[0], r[1], r[2]);
        (1..n - 1).map(move |x| up[x] + down[x] + mid[x - 1] + mid[x + 1] - 4.0 * mid[x])
    });
    mean_std(lap).1.powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laplacian_variance_sees_edges_not_flat_areas() {
        let n = 16;
        let flat = vec![100.0; n * n];
        assert_eq!(laplacian_variance(&flat, n), 0.0);
        let checker: Vec<f32> = (0..n * n)
            .map(|i| if (i / n + i % n) % 2 == 0 { 0.0 } else { 255.0 })
            .collect();
        assert!(laplacian_variance(&checker, n) > 1e5);
    }
}
