//! BlazeFace face detection (MediaPipe short range 128x128 and full range 192x192).
//!
//! Contract of a detector model: one input `[1, 3, S, S]` (RGB, `x / 127.5 - 1`, the whole image
//! letterboxed), outputs `[1, A, 16]` regressors and `[1, A, 1]` logits, in that order, where `A`
//! is the anchor count of the layout below. Per anchor the regressors are `[cx, cy, w, h, kp0x,
//! kp0y, ..., kp5x, kp5y]` in input pixels relative to the anchor centre (w and h absolute).

use crate::config::{DetectorThresholds, Range};
use crate::error::Result;
use crate::geometry::{Point, Rect};
use crate::imgops::{self, Letterbox};
use crate::pack::Role;
use crate::runtime::Model;
use image::RgbImage;
use serde::Serialize;

/// Number of keypoints BlazeFace predicts.
pub const KEYPOINTS: usize = 6;

/// BlazeFace keypoint order. "Right"/"left" are the subject's: in an unmirrored photo the subject's
/// right eye is on the image's left.
pub mod kp {
    /// Subject's right eye (image left).
    pub const RIGHT_EYE: usize = 0;
    /// Subject's left eye (image right).
    pub const LEFT_EYE: usize = 1;
    /// Nose tip.
    pub const NOSE: usize = 2;
    /// Mouth centre.
    pub const MOUTH: usize = 3;
    /// Subject's right ear tragion (image left).
    pub const RIGHT_EAR: usize = 4;
    /// Subject's left ear tragion (image right).
    pub const LEFT_EAR: usize = 5;
}

/// One detected face, in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Face box (may extend past the image border for faces cut by it).
    pub rect: Rect,
    /// Face score in [0, 1] (sigmoid of the best anchor's logit).
    pub score: f32,
    /// The six BlazeFace keypoints, in [`kp`] order.
    pub keypoints: [Point; KEYPOINTS],
    /// Which detector found it.
    pub range: Range,
}

/// A BlazeFace detector with its anchors.
#[derive(Debug)]
pub struct Detector {
    model: Model,
    size: usize,
    anchors: Vec<Point>,
    thresholds: DetectorThresholds,
    /// Keep weak candidates (the caller verifies them).
    weak: bool,
    range: Range,
}

/// Anchor centres (normalised to [0, 1]) of a BlazeFace layout: for each run of equal strides, a
/// grid of `size / stride` cells, row-major (y outer), with `anchors_per_layer` anchors per cell
/// per layer of that stride.
pub fn anchors(size: usize, strides: &[usize], anchors_per_layer: usize) -> Vec<Point> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < strides.len() {
        let mut j = i;
        while j < strides.len() && strides[j] == strides[i] {
            j += 1;
        }
        let per_cell = (j - i) * anchors_per_layer;
        let cells = size / strides[i];
        for y in 0..cells {
            for x in 0..cells {
                let c = Point::new(
                    (x as f32 + 0.5) / cells as f32,
                    (y as f32 + 0.5) / cells as f32,
                );
                out.extend(std::iter::repeat_n(c, per_cell));
            }
        }
        i = j;
    }
    out
}

struct Candidate {
    score: f32,
    // corners and keypoints in normalised input coordinates
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    kps: [Point; KEYPOINTS],
}

impl Candidate {
    fn rect(&self) -> Rect {
        Rect::from_corners(self.x0, self.y0, self.x1, self.y1)
    }
}

impl Detector {
    /// Wraps a loaded detector model, checking its contract. `range` selects the anchor layout:
    /// short range = strides [8, 16, 16, 16] with 2 anchors per layer (896 anchors at 128);
    /// full range = stride 4 with 1 anchor (2304 anchors at 192). `weak_candidates`: also return
    /// faces scoring between `candidate_min_score` and `min_score` (for a caller that verifies them).
    pub fn new(
        model: Model,
        range: Range,
        thresholds: DetectorThresholds,
        weak_candidates: bool,
    ) -> Result<Detector> {
        let (h, w) = model.image_input()?;
        if h != w {
            return Err(model.contract(format!("input must be square, is {w}x{h}")));
        }
        let anchors = match range {
            Range::Short => anchors(h, &[8, 16, 16, 16], 2),
            _ => anchors(h, &[4], 1),
        };
        let n = anchors.len();
        model.expect_outputs(&[n * 16, n])?;
        let range = if range == Range::Short {
            Range::Short
        } else {
            Range::Full
        };
        debug_assert!(matches!(
            model.role(),
            Role::DetectorShort | Role::DetectorFull
        ));
        Ok(Detector {
            model,
            size: h,
            anchors,
            thresholds,
            weak: weak_candidates,
            range,
        })
    }

    /// Side of the square model input.
    pub fn input_size(&self) -> usize {
        self.size
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Detects faces; best score first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Detection>> {
        if img.width() == 0 || img.height() == 0 {
            return Ok(Vec::new());
        }
        let n = self.size;
        imgops::with_letterbox(img, n as u32, |rgb, lb| {
            self.model.run(
                [1, 3, n, n],
                |input| imgops::to_chw(rgb, 1.0 / 127.5, -1.0, input),
                |out| self.decode(out[0], out[1], &lb),
            )
        })
    }

    fn decode(&self, reg: &[f32], logits: &[f32], lb: &Letterbox) -> Vec<Detection> {
        let t = self.thresholds;
        let floor = if self.weak {
            t.candidate_min_score
        } else {
            t.min_score
        };
        // score > floor  <=>  logit > logit(floor): no sigmoid for background anchors
        let min_logit = (floor / (1.0 - floor)).ln();
        let inv = 1.0 / self.size as f32;
        let mut cands: Vec<Candidate> = Vec::new();
        for ((&logit, r), a) in logits.iter().zip(reg.chunks_exact(16)).zip(&self.anchors) {
            if logit <= min_logit {
                continue;
            }
            let score = 1.0 / (1.0 + (-logit.clamp(-80.0, 80.0)).exp());
            let cx = r[0] * inv + a.x;
            let cy = r[1] * inv + a.y;
            let (hw, hh) = (r[2] * inv * 0.5, r[3] * inv * 0.5);
            let mut kps = [Point::default(); KEYPOINTS];
            for (k, p) in kps.iter_mut().enumerate() {
                *p = Point::new(r[4 + 2 * k] * inv + a.x, r[5 + 2 * k] * inv + a.y);
            }
            cands.push(Candidate {
                score,
                x0: cx - hw,
                y0: cy - hh,
                x1: cx + hw,
                y1: cy + hh,
                kps,
            });
        }
        cands.sort_by(|a, b| b.score.total_cmp(&a.score));
        let merged = weighted_nms(cands, t.nms_iou, t.min_score);
        let s = self.size as f32;
        let to_img = |p: Point| lb.to_image(Point::new(p.x * s, p.y * s));
        merged
            .into_iter()
            .map(|c| {
                let p0 = to_img(Point::new(c.x0, c.y0));
                let p1 = to_img(Point::new(c.x1, c.y1));
                Detection {
                    rect: Rect::from_corners(p0.x, p0.y, p1.x, p1.y),
                    score: c.score,
                    keypoints: c.kps.map(to_img),
                    range: self.range,
                }
            })
            .collect()
    }
}

/// MediaPipe's weighted non-maximum suppression: the best remaining candidate absorbs every
/// candidate overlapping it by more than `iou`; the merged box and keypoints are the score-weighted
/// mean of the seed and the absorbed candidates scoring at least `avg_min` (weaker ones are only
/// suppressed, so they cannot drag a face's box); the score is the seed's. `cands` must be sorted by
/// score, best first.
fn weighted_nms(cands: Vec<Candidate>, iou: f32, avg_min: f32) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut used = vec![false; cands.len()];
    for i in 0..cands.len() {
        if used[i] {
            continue;
        }
        let best = cands[i].rect();
        let (mut wsum, mut x0, mut y0, mut x1, mut y1) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut kps = [Point::default(); KEYPOINTS];
        for j in i..cands.len() {
            if used[j] || cands[j].rect().iou(&best) <= iou {
                continue;
            }
            used[j] = true;
            let c = &cands[j];
            if j != i && c.score < avg_min {
                continue;
            }
            let w = c.score;
            wsum += w;
            x0 += c.x0 * w;
            y0 += c.y0 * w;
            x1 += c.x1 * w;
            y1 += c.y1 * w;
            for (k, p) in kps.iter_mut().enumerate() {
                p.x += c.kps[k].x * w;
                p.y += c.kps[k].y * w;
            }
        }
        let inv = 1.0 / wsum;
        out.push(Candidate {
            score: cands[i].score,
            x0: x0 * inv,
            y0: y0 * inv,
            x1: x1 * inv,
            y1: y1 * inv,
            kps: kps.map(|p| Point::new(p.x * inv, p.y * inv)),
        });
    }
    out
}

/// Merges detections of two detectors: a face found by both (IoU above `iou`) is kept once, with
/// the higher score. Result sorted by score, best first.
pub fn merge(mut a: Vec<Detection>, b: Vec<Detection>, iou: f32) -> Vec<Detection> {
    for d in b {
        match a.iter_mut().find(|x| x.rect.iou(&d.rect) > iou) {
            Some(x) => {
                if d.score > x.score {
                    *x = d;
                }
            }
            None => a.push(d),
        }
    }
    a.sort_by(|x, y| y.score.total_cmp(&x.score));
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(score: f32, x0: f32) -> Candidate {
        Candidate {
            score,
            x0,
            y0: 0.0,
            x1: x0 + 1.0,
            y1: 1.0,
            kps: [Point::new(x0, 0.5); KEYPOINTS],
        }
    }

    #[test]
    fn weighted_nms_averages_strong_candidates_only() {
        // two strong overlapping candidates, one weak one overlapping them, one weak one apart
        let cands = vec![
            cand(0.9, 0.0),
            cand(0.6, 0.2),
            cand(0.4, 0.4),
            cand(0.35, 5.0),
        ];
        let out = weighted_nms(cands, 0.3, 0.5);
        assert_eq!(out.len(), 2);
        let want = 0.6 * 0.2 / 1.5; // (0.9 * 0 + 0.6 * 0.2) / (0.9 + 0.6)
        assert!((out[0].x0 - want).abs() < 1e-6, "{}", out[0].x0);
        assert_eq!(out[0].score, 0.9);
        assert!((out[0].kps[2].x - want).abs() < 1e-6);
        assert_eq!(out[1].score, 0.35);
        assert_eq!(out[1].x0, 5.0);
    }

    #[test]
    fn anchor_layouts_have_the_documented_counts() {
        let short = anchors(128, &[8, 16, 16, 16], 2);
        assert_eq!(short.len(), 896);
        assert_eq!(short[0], Point::new(0.5 / 16.0, 0.5 / 16.0));
        assert_eq!(short[1], short[0]);
        assert_eq!(short[2], Point::new(1.5 / 16.0, 0.5 / 16.0));
        assert_eq!(short[512], Point::new(0.5 / 8.0, 0.5 / 8.0));
        assert_eq!(short[517], short[512]);
        assert_eq!(short[518], Point::new(1.5 / 8.0, 0.5 / 8.0));
        let full = anchors(192, &[4], 1);
        assert_eq!(full.len(), 2304);
        assert_eq!(full[48], Point::new(0.5 / 48.0, 1.5 / 48.0));
    }
}
