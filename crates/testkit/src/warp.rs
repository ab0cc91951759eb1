//! Perspective warp by inverse mapping with bilinear sampling: enough to move a photo as a plane.

use image::{Rgb, RgbImage};

/// Row-major 3x3 homography mapping source pixel coordinates to destination coordinates.
pub type Homography = [[f64; 3]; 3];

pub fn multiply(a: &Homography, b: &Homography) -> Homography {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

pub fn invert(m: &Homography) -> Homography {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    assert!(det.abs() > 1e-12, "singular homography");
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [
            c(1, 1, 2, 2) / det,
            -c(0, 1, 2, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 0, 2, 2) / det,
            c(0, 0, 2, 2) / det,
            -c(0, 0, 1, 2) / det,
        ],
        [
            c(1, 0, 2, 1) / det,
            -c(0, 0, 2, 1) / det,
            c(0, 0, 1, 1) / det,
        ],
    ]
}

/// Draws `src` warped by `h` onto `dst`; destination pixels that map outside `src` keep their value.
pub fn warp_onto(src: &RgbImage, h: &Homography, dst: &mut RgbImage) {
    let inv = invert(h);
    let (sw, sh) = (src.width() as f64, src.height() as f64);
    for y in 0..dst.height() {
        for x in 0..dst.width() {
            let (xf, yf) = (x as f64 + 0.5, y as f64 + 0.5);
            let w = inv[2][0] * xf + inv[2][1] * yf + inv[2][2];
            let sx = (inv[0][0] * xf + inv[0][1] * yf + inv[0][2]) / w - 0.5;
            let sy = (inv[1][0] * xf + inv[1][1] * yf + inv[1][2]) / w - 0.5;
            if sx < 0.0 || sy < 0.0 || sx > sw - 1.0 || sy > sh - 1.0 {
                continue;
            }
            dst.put_pixel(x, y, bilinear(src, sx, sy));
        }
    }
}

pub(crate) fn bilinear(src: &RgbImage, x: f64, y: f64) -> Rgb<u8> {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(src.width() - 1),
        (y0 + 1).min(src.height() - 1),
    );
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let p = |xx, yy| src.get_pixel(xx, yy).0;
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0u8; 3];
    for ch in 0..3 {
        let top = a[ch] as f64 * (1.0 - fx) + b[ch] as f64 * fx;
        let bottom = c[ch] as f64 * (1.0 - fx) + d[ch] as f64 * fx;
        out[ch] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_undoes_a_perspective_map() {
        let h = [
            [1.1, 0.05, 3.0],
            [-0.02, 0.95, -7.0],
            [0.0004, -0.0002, 1.0],
        ];
        let id = multiply(&h, &invert(&h));
        for (i, row) in id.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-9, "H * H^-1 [{i}][{j}] = {v}");
            }
        }
    }

    #[test]
    fn translation_moves_pixels() {
        let mut src = RgbImage::new(20, 20);
        src.put_pixel(5, 5, Rgb([255, 0, 0]));
        let mut dst = RgbImage::new(20, 20);
        warp_onto(
            &src,
            &[[1.0, 0.0, 3.0], [0.0, 1.0, 2.0], [0.0, 0.0, 1.0]],
            &mut dst,
        );
        assert_eq!(dst.get_pixel(8, 7).0, [255, 0, 0]);
        assert_eq!(dst.get_pixel(5, 5).0, [0, 0, 0]);
    }
}
