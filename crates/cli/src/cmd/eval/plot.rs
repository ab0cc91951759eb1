//! DET and ROC plots as PNG, drawn pixel by pixel with the `image` crate: axes, a grid at the
//! labelled ticks, and tick labels in a built-in 3x5 digit font (no font crate).
//!
//! - `det.png`: PAD DET curve, BPCER (x) against pooled APCER (y), both on the normal-deviate
//!   (probit) scale from 0.1 % to 90 %, the usual way to show both error rates at once.
//! - `roc.png`: PAD ROC (x BPCER, y share of attacks caught) in red and, when the set has genuine
//!   and impostor pairs, the face-match ROC (x FAR, y TAR) in blue, on linear axes.

use super::report::{Outcome, match_scores, pad_samples};
use faceproof_engine::metrics::{curves, pad};
use faceproof_vision::image::{Rgb, RgbImage};
use std::path::Path;

const SIZE: u32 = 480;
const MARGIN: u32 = 48;
const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
const AXIS: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([220, 220, 220]);
pub const PAD_COLOUR: Rgb<u8> = Rgb([200, 30, 30]);
pub const MATCH_COLOUR: Rgb<u8> = Rgb([30, 60, 200]);
/// DET axes span the deviates of 0.1 % and 90 %.
const DET_RANGE: (f64, f64) = (-3.090_232, 1.281_552);

/// A square plot with one coordinate range on both axes.
pub struct Plot {
    pub img: RgbImage,
    range: (f64, f64),
}

impl Plot {
    /// Empty axes over `range`, with grid lines and labels at `ticks` (value, label).
    pub fn new(range: (f64, f64), ticks: &[(f64, &str)]) -> Plot {
        let mut p = Plot {
            img: RgbImage::from_pixel(SIZE, SIZE, BACKGROUND),
            range,
        };
        for &(v, label) in ticks {
            let (x, y) = (p.px(v), p.py(v));
            for t in MARGIN..=SIZE - MARGIN {
                p.img.put_pixel(x, t, GRID);
                p.img.put_pixel(t, y, GRID);
            }
            for d in 0..5 {
                p.img.put_pixel(x, SIZE - MARGIN + d, AXIS);
                p.img.put_pixel(MARGIN - d, y, AXIS);
            }
            let w = text_width(label);
            p.text(x.saturating_sub(w / 2), SIZE - MARGIN + 8, label);
            p.text(MARGIN.saturating_sub(w + 8), y.saturating_sub(5), label);
        }
        for t in MARGIN..=SIZE - MARGIN {
            p.img.put_pixel(MARGIN, t, AXIS);
            p.img.put_pixel(t, SIZE - MARGIN, AXIS);
        }
        p
    }

    /// Pixel column of `v` on the x axis (clamped to the plot area).
    pub fn px(&self, v: f64) -> u32 {
        let f = ((v - self.range.0) / (self.range.1 - self.range.0)).clamp(0.0, 1.0);
        MARGIN + (f * f64::from(SIZE - 2 * MARGIN)).round() as u32
    }

    /// Pixel row of `v` on the y axis (up is larger).
    pub fn py(&self, v: f64) -> u32 {
        SIZE - self.px(v)
    }

    /// A polyline through `points` (data coordinates), 2 px wide.
    pub fn curve(&mut self, points: &[(f64, f64)], colour: Rgb<u8>) {
        for w in points.windows(2) {
            let (x0, y0) = (f64::from(self.px(w[0].0)), f64::from(self.py(w[0].1)));
            let (x1, y1) = (f64::from(self.px(w[1].0)), f64::from(self.py(w[1].1)));
            let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1.0) as u32;
            for s in 0..=steps {
                let f = f64::from(s) / f64::from(steps);
                let (x, y) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (px, py) = (x as u32 + dx, y as u32 + dy);
                    if px < SIZE && py < SIZE {
                        self.img.put_pixel(px, py, colour);
                    }
                }
            }
        }
    }

    fn text(&mut self, x: u32, y: u32, s: &str) {
        let mut cx = x;
        for ch in s.chars() {
            if let Some(rows) = glyph(ch) {
                for (r, bits) in rows.iter().enumerate() {
                    for c in 0..3 {
                        if bits & (0b100 >> c) != 0 {
                            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                                let (px, py) = (cx + 2 * c + dx, y + 2 * r as u32 + dy);
                                if px < SIZE && py < SIZE {
                                    self.img.put_pixel(px, py, AXIS);
                                }
                            }
                        }
                    }
                }
            }
            cx += 8;
        }
    }
}

fn text_width(s: &str) -> u32 {
    8 * s.chars().count() as u32
}

/// 3x5 bitmaps, one row per entry, most significant of 3 bits on the left.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        '%' => [5, 1, 2, 4, 5],
        _ => return None,
    })
}

/// The DET plot of the PAD scores.
pub fn det_plot(outcomes: &[Outcome]) -> Plot {
    let ticks: Vec<(f64, &str)> = [
        (0.001, "0.1%"),
        (0.01, "1%"),
        (0.05, "5%"),
        (0.2, "20%"),
        (0.5, "50%"),
        (0.9, "90%"),
    ]
    .iter()
    .map(|&(r, l)| (faceproof_engine::math::normal::quantile(r), l))
    .collect();
    let mut plot = Plot::new(DET_RANGE, &ticks);
    let (attacks, bona_fide) = pad::pooled_scores(&pad_samples(outcomes));
    if let Ok(det) = curves::det_curve(&attacks, &bona_fide) {
        // Rates of 0 or 1 have no deviate: pinned to the border, where the plot clamps them.
        let edge = |rate: f64, d: Option<f64>| {
            d.unwrap_or(if rate <= 0.0 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        };
        let points: Vec<(f64, f64)> = det
            .iter()
            .map(|p| {
                (
                    edge(p.false_positive_rate, p.false_positive_deviate),
                    edge(p.false_negative_rate, p.false_negative_deviate),
                )
            })
            .collect();
        plot.curve(&points, PAD_COLOUR);
    }
    plot
}

/// The ROC plot: PAD and, when there are pairs, face match.
pub fn roc_plot(outcomes: &[Outcome]) -> Plot {
    let ticks = [
        (0.0, "0"),
        (0.25, ".25"),
        (0.5, ".5"),
        (0.75, ".75"),
        (1.0, "1"),
    ];
    let mut plot = Plot::new((0.0, 1.0), &ticks);
    let (attacks, bona_fide) = pad::pooled_scores(&pad_samples(outcomes));
    let (genuine, impostors) = match_scores(outcomes);
    for ((pos, neg), colour) in [
        ((attacks, bona_fide), PAD_COLOUR),
        ((genuine, impostors), MATCH_COLOUR),
    ] {
        if let Ok(roc) = curves::roc_curve(&pos, &neg) {
            let points: Vec<(f64, f64)> = roc
                .iter()
                .map(|p| (p.false_positive_rate, p.true_positive_rate))
                .collect();
            plot.curve(&points, colour);
        }
    }
    plot
}

pub fn write_plots(dir: &Path, outcomes: &[Outcome]) -> std::io::Result<()> {
    for (name, plot) in [
        ("det.png", det_plot(outcomes)),
        ("roc.png", roc_plot(outcomes)),
    ] {
        plot.img
            .save(dir.join(name))
            .map_err(|e| std::io::Error::other(format!("{name}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::manifest::Label;
    use super::super::report::tests::outcome;
    use super::*;

    #[test]
    fn axes_ticks_and_labels_are_drawn() {
        let p = Plot::new((0.0, 1.0), &[(0.5, "5")]);
        assert_eq!(*p.img.get_pixel(MARGIN, SIZE / 2 + 7), AXIS, "y axis");
        assert_eq!(
            *p.img.get_pixel(SIZE / 2 + 7, SIZE - MARGIN),
            AXIS,
            "x axis"
        );
        assert_eq!(
            *p.img.get_pixel(SIZE / 2, SIZE / 3),
            GRID,
            "grid line at 0.5"
        );
        // The digit 5 below the x tick: its top row is lit across.
        let label_top = SIZE - MARGIN + 8;
        let lit = (SIZE / 2 - 4..SIZE / 2 + 4)
            .filter(|&x| *p.img.get_pixel(x, label_top) == AXIS)
            .count();
        assert!(lit >= 4, "{lit} label pixels");
    }

    #[test]
    fn a_separating_score_draws_the_roc_through_the_top_left_corner() {
        let mut rows: Vec<Outcome> = (0..10)
            .map(|i| outcome(Label::Live, "live", Some(0.01 * f64::from(i)), &[]))
            .collect();
        rows.extend(
            (0..10).map(|i| outcome(Label::Spoof, "still", Some(0.9 + 0.005 * f64::from(i)), &[])),
        );
        let roc = roc_plot(&rows);
        let corner = (roc.px(0.0), roc.py(1.0));
        assert_eq!(*roc.img.get_pixel(corner.0 + 1, corner.1), PAD_COLOUR);
        // Nothing on the chance diagonal's middle.
        assert_ne!(*roc.img.get_pixel(roc.px(0.5), roc.py(0.5)), PAD_COLOUR);
        // DET of the same: every point at an error rate of 0 sits on the plot's border.
        let det = det_plot(&rows);
        let drawn = det.img.pixels().filter(|&&p| p == PAD_COLOUR).count();
        assert!(drawn > 0);
        assert_eq!(
            *det.img
                .get_pixel(det.px(f64::NEG_INFINITY) + 1, det.py(0.0)),
            PAD_COLOUR
        );
    }
}
