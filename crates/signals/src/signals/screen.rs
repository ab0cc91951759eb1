//! Screen and print cues on a face crop.
//!
//! Why they work, each partially:
//!
//! - Moire and pixel grids: a screen is a regular grid of sub-pixels and a print a regular
//!   halftone; re-photographed, they add energy at a few sharp spatial frequencies (the grid and
//!   its beat with the camera's own sampling). Skin, hair and natural shading have a smooth,
//!   broadband spectrum. We take the luminance of a power-of-two square from the crop's centre,
//!   Hann-window it, and compare each high-frequency bin of its 2-D power spectrum with the median
//!   power at the same radial frequency: isolated bins far above their ring are periodic
//!   patterns. Bins on the 8-pixel grid of codec blocks (JPEG, H.264) are skipped by default:
//!   compression draws that grid on any face.
//! - Colour: screens add a colour cast and clip or compress the gamut, prints desaturate;
//!   reported as saturation statistics, the Hasler-Suesstrunk colourfulness, the mean
//!   chromaticity and its spread, and the share of clipped pixels.
//! - Specular highlights: skin has small, scattered highlights (nose tip, forehead); glass and
//!   glossy paper add large flat glare regions. Reported as the share of bright, unsaturated
//!   pixels and the size of the largest connected highlight.
//!
//! What they cannot do: all three depend on how the crop was made. A high-resolution print or a
//! screen far from the camera (grid finer than the camera resolves) shows no peak; a downscaled or
//! blurred crop loses the grid; a live face in front of a patterned background or wearing a
//! striped scarf can show peaks if the crop includes them. Colour and glare statistics vary more
//! with lighting and skin tone than with the attack. These are features for the fitted fusion,
//! never a decision on their own, and they must be measured on crops made the same way as in
//! training (same detector box, no resizing before this function).

use crate::error::SignalError;
use crate::math::fft::{Complex, fft2d};
use crate::math::stats;
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Rec. 601 luma weights (R, G, B): the luminance the spectrum is taken of.
const LUMA: [f64; 3] = [0.299, 0.587, 0.114];
/// Period of codec blocks (JPEG 8x8, H.264 4x4/8x8 transform, 16x16 macroblocks): their
/// harmonics fall on multiples of 1/8 cycle per pixel.
const CODEC_BLOCK_PERIOD_PX: f64 = 8.0;
/// Colourfulness weight of the mean chroma against its spread (Hasler and Suesstrunk 2003).
const COLOURFULNESS_MEAN_WEIGHT: f64 = 0.3;

/// Tuning of [`measure_screen_cues`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScreenConfig {
    /// Largest FFT side; larger crops are centre-cropped (never resized: resizing destroys the
    /// grid). 256 covers the face of a 720p selfie.
    pub max_fft_size: u32,
    /// Smallest usable side: below 64 px there are too few high-frequency bins to rank.
    pub min_fft_size: u32,
    /// Radial frequency from which a bin counts as high frequency, cycles per pixel. Skin
    /// texture lives below; sub-pixel grids and halftones above.
    pub high_frequency_min_cpp: f64,
    /// A bin whose power exceeds its ring's median by this factor is a periodic peak. The
    /// largest ratio among ~20,000 bins of pure noise is ~15 (exponential power per bin).
    pub peak_ratio_threshold: f64,
    /// Skip bins within one bin of multiples of 1/8 cycle per pixel (codec block grid).
    pub ignore_codec_block_grid: bool,
    /// A pixel is a highlight if its value (max channel / 255) is at least this...
    pub highlight_min_value: f64,
    /// ...and its saturation at most this (glare is white).
    pub highlight_max_saturation: f64,
    /// A channel at or above this level is clipped.
    pub clip_high: u8,
    /// A channel at or below this level is crushed black.
    pub clip_low: u8,
}

impl Default for ScreenConfig {
    fn default() -> ScreenConfig {
        ScreenConfig {
            max_fft_size: 256,
            min_fft_size: 64,
            high_frequency_min_cpp: 0.15,
            peak_ratio_threshold: 50.0,
            ignore_codec_block_grid: true,
            highlight_min_value: 0.92,
            highlight_max_saturation: 0.15,
            clip_high: 250,
            clip_low: 5,
        }
    }
}

/// Periodic-pattern evidence from the luminance spectrum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrumCues {
    /// Side of the analysed square, pixels.
    pub fft_size: u32,
    /// Share of (non-DC) spectral power at or above `high_frequency_min_cpp`.
    pub high_frequency_energy_ratio: f64,
    /// Largest ratio of a high-frequency bin's power to its ring's median.
    pub peak_to_ring_median: f64,
    /// Radial frequency of that bin, cycles per pixel.
    pub peak_frequency_cpp: f64,
    /// Direction of that bin's wave vector, degrees in [0, 180).
    pub peak_orientation_deg: f64,
    /// Number of high-frequency bins above `peak_ratio_threshold` (both halves of the spectrum).
    pub peak_bins: usize,
    /// Their share of high-frequency power.
    pub peak_energy_fraction: f64,
}

/// Colour statistics of the crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColourCues {
    /// HSV saturation, mean and 95th percentile.
    pub mean_saturation: f64,
    pub saturation_p95: f64,
    /// Hasler-Suesstrunk colourfulness (0 for grey, ~30-60 for natural faces).
    pub colourfulness: f64,
    /// Mean (r, g) chromaticity, r = R / (R + G + B): a colour cast moves it.
    pub mean_chromaticity: [f64; 2],
    /// Standard deviation of chromaticity (both coordinates combined): gamut in use.
    pub chromaticity_spread: f64,
    /// Share of pixels with a channel at or above `clip_high` or at or below `clip_low`.
    pub clipped_fraction: f64,
}

/// Specular highlight statistics of the crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecularCues {
    /// Share of pixels that are bright and unsaturated.
    pub highlight_fraction: f64,
    /// Number of 4-connected highlight regions.
    pub highlight_regions: usize,
    /// Share of the crop covered by the largest one.
    pub largest_highlight_fraction: f64,
}

/// All cues measured on one crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenReport {
    pub spectrum: SpectrumCues,
    pub colour: ColourCues,
    pub specular: SpecularCues,
}

/// Measures moire, colour and glare cues on a face crop (as decoded, not resized).
pub fn measure_screen_cues(
    crop: &RgbImage,
    config: &ScreenConfig,
) -> Result<ScreenReport, SignalError> {
    check_crop(crop, config)?;
    Ok(ScreenReport {
        spectrum: spectrum_cues(crop, config),
        colour: colour_cues(crop, config),
        specular: specular_cues(crop, config),
    })
}

/// The moire and glare cues alone, the two the liveness fusion reads: the same values as
/// [`measure_screen_cues`] gives, without the colour statistics (a third of its cost).
pub fn measure_moire_and_glare(
    crop: &RgbImage,
    config: &ScreenConfig,
) -> Result<(SpectrumCues, SpecularCues), SignalError> {
    check_crop(crop, config)?;
    Ok((spectrum_cues(crop, config), specular_cues(crop, config)))
}

fn check_crop(crop: &RgbImage, config: &ScreenConfig) -> Result<(), SignalError> {
    let (w, h) = crop.dimensions();
    if w.min(h) < config.min_fft_size.max(2) {
        return Err(SignalError::CropTooSmall {
            width: w,
            height: h,
            need: config.min_fft_size,
        });
    }
    Ok(())
}

fn spectrum_cues(crop: &RgbImage, config: &ScreenConfig) -> SpectrumCues {
    let (w, h) = crop.dimensions();
    let limit = w.min(h).min(config.max_fft_size.max(2));
    let n = 1usize << (usize::BITS - 1 - (limit as usize).leading_zeros());
    let (x0, y0) = ((w as usize - n) / 2, (h as usize - n) / 2);
    let mut luma: Vec<f64> = Vec::with_capacity(n * n);
    for y in 0..n {
        for x in 0..n {
            let p = crop.get_pixel((x0 + x) as u32, (y0 + y) as u32).0;
            luma.push((0..3).map(|c| LUMA[c] * f64::from(p[c])).sum());
        }
    }
    let mean = stats::mean(&luma);
    let window = crate::dsp::spectrum::hann(n);
    let mut grid: Vec<Complex> = luma
        .iter()
        .enumerate()
        .map(|(i, v)| Complex::new((v - mean) * window[i % n] * window[i / n], 0.0))
        .collect();
    fft2d(&mut grid, n, n, false);

    // Signed frequency index of bin k along one axis.
    let signed = |k: usize| {
        if k <= n / 2 {
            k as f64
        } else {
            k as f64 - n as f64
        }
    };
    let block_step = n as f64 / CODEC_BLOCK_PERIOD_PX;
    let on_block_grid = |k: f64| {
        let m = (k.abs() / block_step).round();
        m >= 1.0 && (k.abs() - m * block_step).abs() <= 1.0
    };
    let rings = (n as f64 * std::f64::consts::FRAC_1_SQRT_2).ceil() as usize + 1;
    let mut ring_power: Vec<Vec<f64>> = vec![Vec::new(); rings];
    let mut bins = Vec::with_capacity(n * n);
    for v in 0..n {
        for u in 0..n {
            let (fu, fv) = (signed(u), signed(v));
            let radius = (fu * fu + fv * fv).sqrt();
            if radius == 0.0 {
                continue;
            }
            let power = grid[v * n + u].norm_sqr();
            let ring = radius.round() as usize;
            ring_power[ring].push(power);
            let skip = config.ignore_codec_block_grid && (on_block_grid(fu) || on_block_grid(fv));
            bins.push((fu, fv, radius / n as f64, ring, power, skip));
        }
    }
    let ring_median: Vec<f64> = ring_power.iter().map(|r| stats::median(r)).collect();
    let total: f64 = bins.iter().map(|b| b.4).sum();
    let (mut hf_total, mut peak_total, mut peak_bins) = (0.0, 0.0, 0);
    let mut best = (0.0f64, 0.0, 0.0, 0.0);
    for &(fu, fv, cpp, ring, power, skip) in &bins {
        if cpp < config.high_frequency_min_cpp {
            continue;
        }
        hf_total += power;
        if skip {
            continue;
        }
        let ratio = power / ring_median[ring].max(f64::MIN_POSITIVE);
        if ratio > config.peak_ratio_threshold {
            peak_bins += 1;
            peak_total += power;
        }
        if ratio > best.0 {
            best = (ratio, cpp, fu, fv);
        }
    }
    let orientation = best.3.atan2(best.2).to_degrees().rem_euclid(180.0);
    SpectrumCues {
        fft_size: n as u32,
        high_frequency_energy_ratio: if total > 0.0 { hf_total / total } else { 0.0 },
        peak_to_ring_median: best.0,
        peak_frequency_cpp: best.1,
        peak_orientation_deg: orientation,
        peak_bins,
        peak_energy_fraction: if hf_total > 0.0 {
            peak_total / hf_total
        } else {
            0.0
        },
    }
}

/// HSV saturation of a pixel: (max - min) / max.
fn saturation(p: [u8; 3]) -> f64 {
    let max = *p.iter().max().expect("three channels");
    let min = *p.iter().min().expect("three channels");
    if max == 0 {
        0.0
    } else {
        f64::from(max - min) / f64::from(max)
    }
}

fn colour_cues(crop: &RgbImage, config: &ScreenConfig) -> ColourCues {
    let pixels: Vec<[u8; 3]> = crop.pixels().map(|p| p.0).collect();
    let count = pixels.len() as f64;
    let saturations: Vec<f64> = pixels.iter().map(|&p| saturation(p)).collect();
    let rg: Vec<f64> = pixels
        .iter()
        .map(|p| f64::from(p[0]) - f64::from(p[1]))
        .collect();
    let yb: Vec<f64> = pixels
        .iter()
        .map(|p| 0.5 * (f64::from(p[0]) + f64::from(p[1])) - f64::from(p[2]))
        .collect();
    let colourfulness = (stats::variance(&rg) + stats::variance(&yb)).sqrt()
        + COLOURFULNESS_MEAN_WEIGHT * (stats::mean(&rg).powi(2) + stats::mean(&yb).powi(2)).sqrt();
    let (mut r, mut g) = (Vec::new(), Vec::new());
    for p in &pixels {
        let sum: f64 = p.iter().map(|&v| f64::from(v)).sum();
        if sum > 0.0 {
            r.push(f64::from(p[0]) / sum);
            g.push(f64::from(p[1]) / sum);
        }
    }
    let clipped = pixels
        .iter()
        .filter(|p| {
            p.iter()
                .any(|&v| v >= config.clip_high || v <= config.clip_low)
        })
        .count();
    ColourCues {
        mean_saturation: stats::mean(&saturations),
        saturation_p95: stats::quantile(&saturations, 0.95),
        colourfulness,
        mean_chromaticity: if r.is_empty() {
            [0.0; 2]
        } else {
            [stats::mean(&r), stats::mean(&g)]
        },
        chromaticity_spread: if r.is_empty() {
            0.0
        } else {
            (stats::variance(&r) + stats::variance(&g)).sqrt()
        },
        clipped_fraction: clipped as f64 / count,
    }
}

fn specular_cues(crop: &RgbImage, config: &ScreenConfig) -> SpecularCues {
    let (w, h) = (crop.width() as usize, crop.height() as usize);
    let mask: Vec<bool> = crop
        .pixels()
        .map(|p| {
            let value = f64::from(*p.0.iter().max().expect("three channels")) / 255.0;
            value >= config.highlight_min_value
                && saturation(p.0) <= config.highlight_max_saturation
        })
        .collect();
    let highlighted = mask.iter().filter(|&&m| m).count();
    // Connected regions by flood fill (4-neighbourhood).
    let mut seen = vec![false; mask.len()];
    let (mut regions, mut largest) = (0, 0);
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        regions += 1;
        let mut size = 0;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if mask[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        largest = largest.max(size);
    }
    let total = mask.len() as f64;
    SpecularCues {
        highlight_fraction: highlighted as f64 / total,
        highlight_regions: regions,
        largest_highlight_fraction: largest as f64 / total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;
    use image::Rgb;
    use std::f64::consts::TAU;

    /// A smooth skin-coloured shading with camera noise: what a live face crop looks like to
    /// the spectrum (broadband, no periodic structure).
    fn smooth_face(w: u32, h: u32, rng: &mut Rng) -> Vec<[f64; 3]> {
        let mut out = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (x as f64 / w as f64, y as f64 / h as f64);
                let shade = 0.75 + 0.25 * (1.0 - (u - 0.5).powi(2) - (v - 0.45).powi(2) * 1.5);
                let n = 2.0 * rng.normal();
                out.push([190.0 * shade + n, 140.0 * shade + n, 120.0 * shade + n]);
            }
        }
        out
    }

    fn to_image(w: u32, h: u32, pixels: &[[f64; 3]]) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let p = pixels[(y * w + x) as usize];
            Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    }

    /// Adds a screen-like pattern: a slanted grid of period ~3.3 px and a second one of 4.7 px.
    fn with_grid(w: u32, pixels: &[[f64; 3]], amplitude: f64) -> Vec<[f64; 3]> {
        pixels
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (x, y) = ((i as u32 % w) as f64, (i as u32 / w) as f64);
                let g =
                    amplitude * ((TAU * (x / 3.3 + 0.05 * y)).cos() + 0.7 * (TAU * y / 4.7).cos());
                p.map(|v| v + g)
            })
            .collect()
    }

    #[test]
    fn a_fine_grid_stands_out_of_a_smooth_face() {
        let mut rng = Rng::new(51);
        let (w, h) = (300, 280);
        let face = smooth_face(w, h, &mut rng);
        let config = ScreenConfig::default();
        let live = measure_screen_cues(&to_image(w, h, &face), &config)
            .unwrap()
            .spectrum;
        let screen = measure_screen_cues(&to_image(w, h, &with_grid(w, &face, 6.0)), &config)
            .unwrap()
            .spectrum;
        eprintln!("live {live:?}\nscreen {screen:?}");
        assert_eq!(live.fft_size, 256);
        assert!(live.peak_to_ring_median < 30.0, "{live:?}");
        assert_eq!(live.peak_bins, 0);
        assert!(screen.peak_to_ring_median > 1000.0, "{screen:?}");
        // The strongest peak is the 3.3 px grid: |f| = sqrt(1/3.3^2 + 0.05^2) cycles per pixel.
        let want = ((1.0f64 / 3.3).powi(2) + 0.05f64.powi(2)).sqrt();
        assert!(
            (screen.peak_frequency_cpp - want).abs() < 1.5 / 256.0,
            "{}",
            screen.peak_frequency_cpp
        );
        assert!(screen.peak_energy_fraction > 0.5);
        assert!(screen.high_frequency_energy_ratio > 2.0 * live.high_frequency_energy_ratio);
        // The engine's cheaper call gives the same moire and glare cues as the full report.
        let gridded = to_image(w, h, &with_grid(w, &face, 6.0));
        let full = measure_screen_cues(&gridded, &config).unwrap();
        let (spectrum, specular) = measure_moire_and_glare(&gridded, &config).unwrap();
        assert_eq!((spectrum, specular), (full.spectrum, full.specular));
        assert!(measure_moire_and_glare(&RgbImage::new(40, 300), &config).is_err());
    }

    #[test]
    fn codec_block_staircases_are_not_taken_for_a_screen() {
        let mut rng = Rng::new(52);
        let (w, h) = (256u32, 256u32);
        // Heavy compression flattens each 8x8 block of a smooth gradient to its mean: a
        // staircase with an exact 8-pixel period, then sensor noise on top.
        let smooth = smooth_face(w, h, &mut Rng::new(0));
        let block_mean = |bx: usize, by: usize, c: usize| {
            let mut sum = 0.0;
            for y in by * 8..by * 8 + 8 {
                for x in bx * 8..bx * 8 + 8 {
                    sum += smooth[y * w as usize + x][c];
                }
            }
            sum / 64.0
        };
        let blocky: Vec<[f64; 3]> = (0..(w * h) as usize)
            .map(|i| {
                let (x, y) = (i % w as usize, i / w as usize);
                let n = 2.0 * rng.normal();
                [0, 1, 2].map(|c| 4.0 * (block_mean(x / 8, y / 8, c) - 150.0) + 150.0 + n)
            })
            .collect();
        let image = to_image(w, h, &blocky);
        let ignoring = measure_screen_cues(&image, &ScreenConfig::default())
            .unwrap()
            .spectrum;
        let counting = ScreenConfig {
            ignore_codec_block_grid: false,
            ..ScreenConfig::default()
        };
        let counting = measure_screen_cues(&image, &counting).unwrap().spectrum;
        eprintln!("ignoring {ignoring:?}\ncounting {counting:?}");
        assert!(ignoring.peak_bins == 0, "{ignoring:?}");
        assert!(counting.peak_bins > 0, "{counting:?}");
        // The peaks it would have counted sit on multiples of 1/8 cycle per pixel.
        let harmonic = (counting.peak_frequency_cpp * 8.0).round() / 8.0;
        assert!(harmonic > 0.0 && (counting.peak_frequency_cpp - harmonic).abs() < 2.0 / 256.0);
    }

    #[test]
    fn colour_statistics_separate_grey_vivid_and_clipped() {
        let grey = RgbImage::from_pixel(64, 64, Rgb([128, 128, 128]));
        let c = measure_screen_cues(&grey, &ScreenConfig::default())
            .unwrap()
            .colour;
        assert_eq!(
            (c.mean_saturation, c.colourfulness, c.clipped_fraction),
            (0.0, 0.0, 0.0)
        );
        assert!((c.mean_chromaticity[0] - 1.0 / 3.0).abs() < 1e-12);
        let mut half = RgbImage::from_pixel(64, 64, Rgb([200, 120, 90]));
        for y in 0..32 {
            for x in 0..64 {
                half.put_pixel(x, y, Rgb([255, 255, 255]));
            }
        }
        let c = measure_screen_cues(&half, &ScreenConfig::default())
            .unwrap()
            .colour;
        assert!((c.clipped_fraction - 0.5).abs() < 1e-12);
        assert!((c.mean_saturation - 0.5 * 110.0 / 200.0).abs() < 1e-12);
        assert!(c.colourfulness > 30.0 && c.chromaticity_spread > 0.05);
    }

    #[test]
    fn glare_is_measured_as_bright_unsaturated_regions() {
        let mut image = RgbImage::from_pixel(128, 128, Rgb([190, 140, 120]));
        for (cx, cy, r) in [(40.0, 40.0, 10.0), (90.0, 80.0, 5.0)] {
            for y in 0..128 {
                for x in 0..128 {
                    if (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) <= r * r {
                        image.put_pixel(x, y, Rgb([250, 248, 245]));
                    }
                }
            }
        }
        let s = measure_screen_cues(&image, &ScreenConfig::default())
            .unwrap()
            .specular;
        let total = 128.0 * 128.0;
        let big = std::f64::consts::PI * 100.0 / total;
        let small = std::f64::consts::PI * 25.0 / total;
        assert_eq!(s.highlight_regions, 2);
        assert!(
            (s.largest_highlight_fraction / big - 1.0).abs() < 0.1,
            "{s:?}"
        );
        assert!(
            (s.highlight_fraction / (big + small) - 1.0).abs() < 0.1,
            "{s:?}"
        );
    }

    #[test]
    fn refuses_a_crop_too_small_to_rank_frequencies() {
        let err =
            measure_screen_cues(&RgbImage::new(100, 40), &ScreenConfig::default()).unwrap_err();
        assert_eq!(
            err,
            SignalError::CropTooSmall {
                width: 100,
                height: 40,
                need: 64
            }
        );
    }
}
