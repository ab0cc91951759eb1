//! Points, boxes and 2-D affine maps.
//!
//! Coordinates are continuous image coordinates in pixels: the pixel in column `i` covers
//! `[i, i + 1)`, so its centre is at `i + 0.5`; x grows to the right, y downwards.

use serde::Serialize;

/// A point in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point {
    /// Horizontal position (pixels from the left edge).
    pub x: f32,
    /// Vertical position (pixels from the top edge).
    pub y: f32,
}

impl Point {
    /// A point.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Midpoint of two points.
    pub fn mid(self, o: Point) -> Point {
        Point::new((self.x + o.x) * 0.5, (self.y + o.y) * 0.5)
    }

    /// Euclidean distance.
    pub fn dist(self, o: Point) -> f32 {
        (self.x - o.x).hypot(self.y - o.y)
    }
}

/// A landmark with depth: x, y in image pixels, z relative depth on the same scale (smaller = nearer
/// the camera; only differences between points of one face are meaningful).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point3 {
    /// Horizontal position, pixels.
    pub x: f32,
    /// Vertical position, pixels.
    pub y: f32,
    /// Depth, pixels (relative).
    pub z: f32,
}

impl Point3 {
    /// The x, y part.
    pub fn xy(&self) -> Point {
        Point::new(self.x, self.y)
    }
}

/// An axis-aligned box: top-left corner and size, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl Rect {
    /// A box from its corners.
    pub fn from_corners(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        Self {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// Centre of the box.
    pub fn center(&self) -> Point {
        Point::new(self.x + self.w * 0.5, self.y + self.h * 0.5)
    }

    /// Area (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Intersection over union with another box.
    pub fn iou(&self, o: &Rect) -> f32 {
        let x0 = self.x.max(o.x);
        let y0 = self.y.max(o.y);
        let x1 = (self.x + self.w).min(o.x + o.w);
        let y1 = (self.y + self.h).min(o.y + o.h);
        let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
        let union = self.area() + o.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }

    /// The part of the box inside a `width` x `height` image.
    pub fn clip(&self, width: u32, height: u32) -> Rect {
        let x0 = self.x.clamp(0.0, width as f32);
        let y0 = self.y.clamp(0.0, height as f32);
        let x1 = (self.x + self.w).clamp(0.0, width as f32);
        let y1 = (self.y + self.h).clamp(0.0, height as f32);
        Rect::from_corners(x0, y0, x1, y1)
    }
}

/// A 2-D affine map `p -> (a*x + b*y + c, d*x + e*y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub d: f32,
    pub e: f32,
    pub f: f32,
}

impl Affine {
    /// The identity.
    pub const IDENTITY: Affine = Affine {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 0.0,
        e: 1.0,
        f: 0.0,
    };

    /// Applies the map.
    #[inline]
    pub fn apply(&self, p: Point) -> Point {
        Point::new(
            self.a * p.x + self.b * p.y + self.c,
            self.d * p.x + self.e * p.y + self.f,
        )
    }

    /// `self` after `first`: `p -> self(first(p))`.
    pub fn then_after(&self, first: &Affine) -> Affine {
        Affine {
            a: self.a * first.a + self.b * first.d,
            b: self.a * first.b + self.b * first.e,
            c: self.a * first.c + self.b * first.f + self.c,
            d: self.d * first.a + self.e * first.d,
            e: self.d * first.b + self.e * first.e,
            f: self.d * first.c + self.e * first.f + self.f,
        }
    }

    /// The inverse map (`None` when singular).
    pub fn inverse(&self) -> Option<Affine> {
        let det = self.a * self.e - self.b * self.d;
        if det.abs() < 1e-12 {
            return None;
        }
        let (a, b, d, e) = (self.e / det, -self.b / det, -self.d / det, self.a / det);
        Some(Affine {
            a,
            b,
            c: -(a * self.c + b * self.f),
            d,
            e,
            f: -(d * self.c + e * self.f),
        })
    }

    /// Mean linear scale factor, `sqrt(|det|)`.
    pub fn scale(&self) -> f32 {
        (self.a * self.e - self.b * self.d).abs().sqrt()
    }

    /// True when the map has no rotation or shear.
    pub fn is_axis_aligned(&self) -> bool {
        self.b == 0.0 && self.d == 0.0
    }

    /// Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
    /// taking `src[i]` to `dst[i]` (Umeyama's closed form in 2-D).
    pub fn similarity(src: &[Point], dst: &[Point]) -> Option<Affine> {
        let n = src.len();
        if n < 2 || n != dst.len() {
            return None;
        }
        let inv_n = 1.0 / n as f32;
        let (mut sx, mut sy, mut dx, mut dy) = (0.0, 0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            sx += s.x;
            sy += s.y;
            dx += d.x;
            dy += d.y;
        }
        let (sx, sy, dx, dy) = (sx * inv_n, sy * inv_n, dx * inv_n, dy * inv_n);
        let (mut norm, mut p, mut q) = (0.0f32, 0.0f32, 0.0f32);
        for (s, d) in src.iter().zip(dst) {
            let (ux, uy) = (s.x - sx, s.y - sy);
            let (vx, vy) = (d.x - dx, d.y - dy);
            norm += ux * ux + uy * uy;
            p += ux * vx + uy * vy;
            q += ux * vy - uy * vx;
        }
        if norm < 1e-9 {
            return None;
        }
        let (a, b) = (p / norm, q / norm);
        Some(Affine {
            a,
            b: -b,
            c: dx - (a * sx - b * sy),
            d: b,
            e: a,
            f: dy - (b * sx + a * sy),
        })
    }
}

/// A square region of interest, possibly rotated: centre, side and the angle of its x axis in the
/// image (radians, positive = clockwise on screen since y points down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Roi {
    /// Centre in image pixels.
    pub center: Point,
    /// Side length in image pixels.
    pub size: f32,
    /// Rotation of the ROI's x axis relative to the image's x axis, radians.
    pub angle: f32,
}

impl Roi {
    /// Map from a `n` x `n` crop of this ROI (continuous crop pixels) to the image.
    pub fn crop_to_image(&self, n: usize) -> Affine {
        let s = self.size / n as f32;
        let (sin, cos) = self.angle.sin_cos();
        let half = n as f32 * 0.5;
        // p_img = center + s * R * (p_crop - half)
        let (a, b, d, e) = (s * cos, -s * sin, s * sin, s * cos);
        Affine {
            a,
            b,
            c: self.center.x - (a * half + b * half),
            d,
            e,
            f: self.center.y - (d * half + e * half),
        }
    }

    /// As [`Roi::crop_to_image`], with the crop mirrored left-right.
    pub fn mirrored_crop_to_image(&self, n: usize) -> Affine {
        let flip = Affine {
            a: -1.0,
            b: 0.0,
            c: n as f32,
            d: 0.0,
            e: 1.0,
            f: 0.0,
        };
        self.crop_to_image(n).then_after(&flip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_a_known_transform() {
        let t = Affine {
            a: 0.8,
            b: -0.3,
            c: 12.0,
            d: 0.3,
            e: 0.8,
            f: -4.0,
        };
        let src = [
            Point::new(10.0, 20.0),
            Point::new(50.0, 22.0),
            Point::new(30.0, 40.0),
            Point::new(15.0, 60.0),
        ];
        let dst: Vec<Point> = src.iter().map(|&p| t.apply(p)).collect();
        let got = Affine::similarity(&src, &dst).unwrap();
        for (x, y) in [
            (got.a, t.a),
            (got.b, t.b),
            (got.c, t.c),
            (got.d, t.d),
            (got.e, t.e),
            (got.f, t.f),
        ] {
            assert!((x - y).abs() < 1e-3, "{got:?} != {t:?}");
        }
    }

    #[test]
    fn inverse_and_roi_maps_round_trip() {
        let roi = Roi {
            center: Point::new(100.0, 80.0),
            size: 64.0,
            angle: 0.4,
        };
        let m = roi.crop_to_image(192);
        // the crop's centre is the ROI's centre; a crop corner is size/sqrt(2) away from it
        let c = m.apply(Point::new(96.0, 96.0));
        assert!(c.dist(roi.center) < 1e-3);
        assert!((m.apply(Point::new(0.0, 0.0)).dist(roi.center) - 64.0 / 2f32.sqrt()).abs() < 1e-3);
        let inv = m.inverse().unwrap();
        let p = Point::new(17.0, 150.0);
        assert!(inv.apply(m.apply(p)).dist(p) < 1e-3);
        // the mirrored crop maps crop x to n - x
        let mm = roi.mirrored_crop_to_image(192);
        assert!(
            mm.apply(Point::new(10.0, 5.0))
                .dist(m.apply(Point::new(182.0, 5.0)))
                < 1e-3
        );
    }
}
