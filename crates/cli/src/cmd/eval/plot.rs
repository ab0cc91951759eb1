//! DET and ROC plots as PNG, drawn pixel by pixel with the `image` crate: axes, a grid at the
//! labelled ticks, tick labels, axis labels and a legend in a built-in 3x5 font (no font crate).
//!
//! - `det.png`: one PAD DET curve per attack species, BPCER (x) against that species' APCER (y),
//!   both on the normal-deviate (probit) scale from 0.1 % to 90 %.
//! - `roc.png`: one PAD ROC per attack species (x BPCER, y share of the species caught) and, when
//!   the set has genuine and impostor pairs, the face-match ROC (x FAR, y TAR), on linear axes.

use super::report::{Outcome, match_scores, pad_samples};
use faceproof_engine::evaluation::{curves, pad};
use faceproof_vision::image::{Rgb, RgbImage};
use std::path::Path;

const SIZE: u32 = 480;
const MARGIN: u32 = 48;
const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
const AXIS: Rgb<u8> = Rgb([0, 0, 0]);
const GRID: Rgb<u8> = Rgb([220, 220, 220]);
pub const PAD_COLOUR: Rgb<u8> = Rgb([200, 30, 30]);
pub const MATCH_COLOUR: Rgb<u8> = Rgb([30, 60, 200]);
/// Colours of the attack species, in name order (the first is `PAD_COLOUR`).
const SPECIES_COLOURS: [Rgb<u8>; 6] = [
    PAD_COLOUR,
    Rgb([20, 140, 60]),
    Rgb([230, 130, 0]),
    Rgb([130, 50, 170]),
    Rgb([0, 150, 170]),
    Rgb([120, 90, 40]),
];
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

    /// Axis names: `x` centred under the tick labels, `y` above the y axis.
    pub fn axis_labels(&mut self, x: &str, y: &str) {
        let w = text_width(x);
        self.text((SIZE - w) / 2, SIZE - MARGIN + 24, x);
        self.text(4, MARGIN - 20, y);
    }

    /// A legend of (name, colour), top right inside the plot area.
    pub fn legend(&mut self, entries: &[(String, Rgb<u8>)]) {
        let width = entries.iter().map(|e| text_width(&e.0)).max().unwrap_or(0) + 24;
        let x0 = SIZE - MARGIN - width - 4;
        for (i, (name, colour)) in entries.iter().enumerate() {
            let y = MARGIN + 8 + 14 * i as u32;
            for dx in 0..16 {
                for dy in 4..6 {
                    self.img.put_pixel(x0 + dx, y + dy, *colour);
                }
            }
            self.text(x0 + 22, y, name);
        }
    }

    fn text(&mut self, x: u32, y: u32, s: &str) {
        let mut cx = x;
        for ch in s.chars() {
            if let Some(rows) = glyph(ch.to_ascii_uppercase()) {
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
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '(' => [1, 2, 2, 2, 1],
        ')' => [4, 2, 2, 2, 4],
        '-' => [0, 0, 7, 0, 0],
        '/' => [1, 1, 2, 4, 4],
        ',' => [0, 0, 0, 2, 4],
        ' ' => [0, 0, 0, 0, 0],
        _ => return None,
    })
}

/// Attack scores per species (name order) and the bona fide scores.
fn per_species(outcomes: &[Outcome]) -> (Vec<(String, Vec<f64>)>, Vec<f64>) {
    let samples = pad_samples(outcomes);
    let (_, bona_fide) = pad::pooled_scores(&samples);
    let mut species: Vec<String> = samples
        .iter()
        .filter_map(|s| match &s.presentation {
            pad::Presentation::Attack(name) => Some(name.clone()),
            pad::Presentation::BonaFide => None,
        })
        .collect();
    species.sort();
    species.dedup();
    let scores = species
        .into_iter()
        .map(|name| {
            let v = samples
                .iter()
                .filter(|s| s.presentation == pad::Presentation::Attack(name.clone()))
                .map(|s| s.score)
                .collect();
            (name, v)
        })
        .collect();
    (scores, bona_fide)
}

/// The DET plot of the PAD scores, one curve per attack species.
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
    let (species, bona_fide) = per_species(outcomes);
    let mut legend = Vec::new();
    for ((name, attacks), colour) in species.iter().zip(SPECIES_COLOURS.iter().cycle()) {
        let Ok(det) = curves::det_curve(attacks, &bona_fide) else {
            continue;
        };
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
        plot.curve(&points, *colour);
        legend.push((format!("{name} ({})", attacks.len()), *colour));
    }
    plot.legend(&legend);
    plot.axis_labels("BPCER (bona fide rejected)", "APCER (attacks accepted)");
    plot
}

/// A legend name, positive and negative scores, and a colour.
type Curve = (String, Vec<f64>, Vec<f64>, Rgb<u8>);

/// The ROC plot: PAD per attack species and, when there are pairs, face match.
pub fn roc_plot(outcomes: &[Outcome]) -> Plot {
    let ticks = [
        (0.0, "0"),
        (0.25, ".25"),
        (0.5, ".5"),
        (0.75, ".75"),
        (1.0, "1"),
    ];
    let mut plot = Plot::new((0.0, 1.0), &ticks);
    let (species, bona_fide) = per_species(outcomes);
    let (genuine, impostors) = match_scores(outcomes);
    let mut curves_to_draw: Vec<Curve> = species
        .into_iter()
        .zip(SPECIES_COLOURS.iter().cycle())
        .map(|((name, attacks), colour)| {
            let n = attacks.len();
            (format!("{name} ({n})"), attacks, bona_fide.clone(), *colour)
        })
        .collect();
    curves_to_draw.push(("face match".into(), genuine, impostors, MATCH_COLOUR));
    let mut legend = Vec::new();
    for (name, pos, neg, colour) in curves_to_draw {
        if let Ok(roc) = curves::roc_curve(&pos, &neg) {
            let points: Vec<(f64, f64)> = roc
                .iter()
                .map(|p| (p.false_positive_rate, p.true_positive_rate))
                .collect();
            plot.curve(&points, colour);
            legend.push((name, colour));
        }
    }
    plot.legend(&legend);
    plot.axis_labels("BPCER or FAR", "attacks caught or TAR");
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
