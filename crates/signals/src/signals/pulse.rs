//! Remote photoplethysmography: a heart rate from the colour of the skin.
//!
//! Why it works: each heartbeat changes the blood volume under the skin, which changes how much
//! green (and, less, blue and red) light it absorbs by a fraction of a percent. Averaged over a
//! skin region (forehead, cheeks) the camera sees that as a periodic colour change at the heart
//! rate, 0.7-4 Hz (42-240 bpm). The hard part is that illumination changes and motion change the
//! colour a hundred times more; both methods here cancel them by projecting the colour,
//! normalised by its local mean, onto directions that are insensitive to intensity changes:
//!
//! - POS (Wang et al. 2017, "plane orthogonal to skin"): in each 1.6 s window, the two
//!   projections `G - B` and `G + B - 2R` both contain the pulse and both cancel a white
//!   intensity change; they are combined with weights that cancel the remaining distortion
//!   (`S1 + (sd(S1)/sd(S2)) S2`) and overlap-added.
//! - CHROM (de Haan and Jeanne 2013): chrominance signals `X = 3R - 2G` and
//!   `Y = 1.5R + G - 1.5B`, band-passed, combined as `X - (sd(X)/sd(Y)) Y` per window.
//!
//! The pipeline: resample the variable-frame-rate means to a uniform rate (linear
//! interpolation), project, detrend (smoothness priors), band-pass 0.7-4 Hz, and take the peak of
//! the Hann-windowed power spectrum. The quality is an SNR (de Haan's definition, adapted to short
//! clips): power within +-1 bin (1/duration) of the peak and of its first harmonic against all
//! other power in the band. On a 6 s clip a bin is 1/6 Hz (10 bpm): the peak is located to a few
//! bpm by zero-padding and interpolation, and pure noise's SNR is a few dB below 0, not -inf.
//!
//! What it cannot do: a good screen replay of a live face carries that face's pulse; a printed
//! photo or a mask has none, but a noisy or dark capture also has none (the SNR tells the two
//! apart only when the capture is good). Strong motion, flicker of artificial light at 50/60 Hz
//! aliased into the band, and heavy video compression (which smooths the sub-level colour changes
//! away) all reduce the SNR of live faces. Treat a strong pulse as evidence of live skin and a
//! missing one as weak evidence at most.

use crate::dsp::detrend::{detrend, lambda_for_cutoff};
use crate::dsp::resample::to_uniform;
use crate::dsp::spectrum::{bandpass, power_spectrum};
use crate::error::SignalError;
use crate::input::{check_range, check_timestamps};
use crate::math::stats;
use serde::{Deserialize, Serialize};

const SIGNAL: &str = "pulse";
/// Seconds per minute, for Hz to beats per minute.
const SECONDS_PER_MINUTE: f64 = 60.0;
/// Half-width of the SNR's signal band in bins of the clip (1 / duration): a steady tone's
/// Hann-windowed power lies 92 % within +-1 bin (99.5 % within +-1.5), and a narrower band keeps
/// noise's own SNR (its strongest +-1-bin stretch vs. the rest) near -3 dB on a 6 s clip.
const SNR_PEAK_HALF_WIDTH_BINS: f64 = 1.0;

/// Which projection turns RGB into a pulse signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PulseMethod {
    Pos,
    Chrom,
}

/// Tuning of [`measure_pulse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PulseConfig {
    pub method: PulseMethod,
    /// Uniform rate the variable-frame-rate means are resampled to, Hz. 30 Hz keeps the 4 Hz
    /// band edge far below Nyquist and matches the usual capture rate.
    pub sample_rate_hz: f64,
    /// Lowest plausible heart rate, Hz (0.7 Hz = 42 bpm).
    pub band_low_hz: f64,
    /// Highest plausible heart rate, Hz (4 Hz = 240 bpm).
    pub band_high_hz: f64,
    /// Width of the band-pass filter's raised-cosine edges, Hz.
    pub band_taper_hz: f64,
    /// Window over which colour is normalised and projections are combined, seconds. 1.6 s is
    /// the POS paper's choice: at least one cycle of the slowest heart rate.
    pub window_s: f64,
    /// Cutoff of the detrending high-pass, Hz: below the band, above illumination drift.
    pub detrend_cutoff_hz: f64,
    /// Shortest input accepted, seconds: a spectrum of fewer than ~3 heartbeats at the lowest
    /// rate cannot resolve a peak.
    pub min_duration_s: f64,
    /// FFT length the spectrum is zero-padded to, so the peak is located to ~0.5 bpm.
    pub spectrum_len: usize,
    /// Smallest half-width of the SNR's signal band, Hz; widened to one bin (1 / duration) for
    /// short clips, where the peak itself is that wide.
    pub min_peak_half_width_hz: f64,
}

impl Default for PulseConfig {
    fn default() -> PulseConfig {
        PulseConfig {
            method: PulseMethod::Pos,
            sample_rate_hz: 30.0,
            band_low_hz: 0.7,
            band_high_hz: 4.0,
            band_taper_hz: 0.15,
            window_s: 1.6,
            detrend_cutoff_hz: 0.4,
            min_duration_s: 3.0,
            spectrum_len: 4096,
            min_peak_half_width_hz: 0.1,
        }
    }
}

/// What [`measure_pulse`] measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulseReport {
    pub method: PulseMethod,
    pub duration_s: f64,
    pub sample_rate_hz: f64,
    /// Frequency of the spectral peak in the band, Hz, and the same in beats per minute.
    pub peak_frequency_hz: f64,
    pub heart_rate_bpm: f64,
    /// Power near the peak and its harmonic over the rest of the band, dB.
    pub snr_db: f64,
    /// Half-width of the signal band used for the SNR, Hz.
    pub peak_half_width_hz: f64,
    /// The filtered pulse signal on the uniform grid starting at `start_s` (for comparing regions).
    pub start_s: f64,
    pub waveform: Vec<f64>,
}

/// Recovers a pulse from per-frame mean RGB of a skin region (`rgb[i]` at `timestamps[i]`
/// seconds, values in any linear-ish unit, e.g. 0-255).
pub fn measure_pulse(
    timestamps: &[f64],
    rgb: &[[f32; 3]],
    config: &PulseConfig,
) -> Result<PulseReport, SignalError> {
    validate(timestamps, rgb, config)?;
    let fs = config.sample_rate_hz;
    let channels: Vec<Vec<f64>> = (0..3)
        .map(|c| {
            let values: Vec<f64> = rgb.iter().map(|p| f64::from(p[c])).collect();
            to_uniform(timestamps, &values, fs).values
        })
        .collect();
    let window = ((config.window_s * fs).round() as usize).clamp(2, channels[0].len());
    let raw = match config.method {
        PulseMethod::Pos => pos(&channels, window),
        PulseMethod::Chrom => chrom(&channels, window, config),
    };
    let detrended = detrend(&raw, lambda_for_cutoff(config.detrend_cutoff_hz, fs));
    let waveform = bandpass(
        &detrended,
        fs,
        config.band_low_hz,
        config.band_high_hz,
        config.band_taper_hz,
    );
    let duration_s = timestamps[timestamps.len() - 1] - timestamps[0];
    let spectrum = power_spectrum(&waveform, fs, config.spectrum_len);
    let band = spectrum.bins_between(config.band_low_hz, config.band_high_hz);
    let peak = band
        .clone()
        .max_by(|&a, &b| spectrum.power[a].total_cmp(&spectrum.power[b]))
        .expect("the band holds at least one bin");
    let peak_frequency_hz = refine_peak(&spectrum.power, peak) * spectrum.resolution_hz;
    let half_width = config
        .min_peak_half_width_hz
        .max(SNR_PEAK_HALF_WIDTH_BINS / duration_s);
    let near = |f: f64, centre: f64| (f - centre).abs() <= half_width;
    let (mut signal, mut noise) = (0.0, 0.0);
    for bin in band {
        let f = spectrum.frequency(bin);
        if near(f, peak_frequency_hz) || near(f, 2.0 * peak_frequency_hz) {
            signal += spectrum.power[bin];
        } else {
            noise += spectrum.power[bin];
        }
    }
    Ok(PulseReport {
        method: config.method,
        duration_s,
        sample_rate_hz: fs,
        peak_frequency_hz,
        heart_rate_bpm: peak_frequency_hz * SECONDS_PER_MINUTE,
        snr_db: 10.0 * (signal / noise.max(f64::MIN_POSITIVE)).log10(),
        peak_half_width_hz: half_width,
        start_s: timestamps[0],
        waveform,
    })
}

fn validate(timestamps: &[f64], rgb: &[[f32; 3]], config: &PulseConfig) -> Result<(), SignalError> {
    if timestamps.len() != rgb.len() {
        return Err(SignalError::LengthMismatch {
            signal: SIGNAL,
            left_name: "timestamps",
            left: timestamps.len(),
            right_name: "RGB means",
            right: rgb.len(),
        });
    }
    check_timestamps(SIGNAL, timestamps, 2)?;
    if let Some(index) = rgb.iter().position(|p| p.iter().any(|v| !v.is_finite())) {
        return Err(SignalError::NonFinite {
            signal: SIGNAL,
            index,
        });
    }
    // Normalising by the mean colour needs every channel positive.
    if let Some(index) = rgb.iter().position(|p| p.iter().any(|v| *v <= 0.0)) {
        return Err(SignalError::NonPositiveColour {
            signal: SIGNAL,
            index,
        });
    }
    check_range(
        "pulse.sample_rate_hz",
        config.sample_rate_hz,
        1.0..=1000.0,
        "in [1, 1000] Hz",
    )?;
    check_range(
        "pulse.band_high_hz",
        config.band_high_hz,
        config.band_low_hz.max(0.0)..=config.sample_rate_hz / 2.0,
        "above band_low_hz and below the Nyquist frequency",
    )?;
    let duration = timestamps[timestamps.len() - 1] - timestamps[0];
    if duration < config.min_duration_s {
        return Err(SignalError::TooShort {
            signal: SIGNAL,
            seconds: duration,
            need: config.min_duration_s,
        });
    }
    Ok(())
}

/// POS: per sliding window (hop of one sample), temporally normalised colour projected on the
/// plane orthogonal to skin tone, alpha-tuned, overlap-added.
fn pos(channels: &[Vec<f64>], window: usize) -> Vec<f64> {
    let n = channels[0].len();
    let mut out = vec![0.0; n];
    for start in 0..=n - window {
        let normalised: Vec<[f64; 3]> = normalise_window(channels, start, window);
        let s1: Vec<f64> = normalised.iter().map(|c| c[1] - c[2]).collect();
        let s2: Vec<f64> = normalised
            .iter()
            .map(|c| c[1] + c[2] - 2.0 * c[0])
            .collect();
        let alpha = ratio_of_spreads(&s1, &s2);
        let h: Vec<f64> = s1.iter().zip(&s2).map(|(a, b)| a + alpha * b).collect();
        let mean = stats::mean(&h);
        for (k, v) in h.iter().enumerate() {
            out[start + k] += v - mean;
        }
    }
    out
}

/// CHROM: chrominance signals of the locally normalised colour, band-passed over the whole
/// series, combined per half-overlapping Hann window and overlap-added.
fn chrom(channels: &[Vec<f64>], window: usize, config: &PulseConfig) -> Vec<f64> {
    let n = channels[0].len();
    let local_mean: Vec<Vec<f64>> = channels.iter().map(|c| moving_mean(c, window)).collect();
    let norm = |c: usize, i: usize| channels[c][i] / local_mean[c][i];
    let x: Vec<f64> = (0..n)
        .map(|i| 3.0 * norm(0, i) - 2.0 * norm(1, i))
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 1.5 * norm(0, i) + norm(1, i) - 1.5 * norm(2, i))
        .collect();
    let band = |s: &[f64]| {
        bandpass(
            s,
            config.sample_rate_hz,
            config.band_low_hz,
            config.band_high_hz,
            config.band_taper_hz,
        )
    };
    let (xf, yf) = (band(&x), band(&y));
    let hop = (window / 2).max(1);
    let taper = crate::dsp::spectrum::hann(window);
    let mut out = vec![0.0; n];
    let mut start = 0;
    while start + window <= n {
        let (xw, yw) = (&xf[start..start + window], &yf[start..start + window]);
        let alpha = ratio_of_spreads(xw, yw);
        for k in 0..window {
            out[start + k] += taper[k] * (xw[k] - alpha * yw[k]);
        }
        start += hop;
    }
    out
}

/// The window's colour divided by its own mean per channel.
fn normalise_window(channels: &[Vec<f64>], start: usize, window: usize) -> Vec<[f64; 3]> {
    let means: Vec<f64> = channels
        .iter()
        .map(|c| stats::mean(&c[start..start + window]))
        .collect();
    (start..start + window)
        .map(|i| [0, 1, 2].map(|c| channels[c][i] / means[c]))
        .collect()
}

/// sd(a) / sd(b), or 0 when b is flat.
fn ratio_of_spreads(a: &[f64], b: &[f64]) -> f64 {
    let sb = stats::std_dev(b);
    if sb > 0.0 {
        stats::std_dev(a) / sb
    } else {
        0.0
    }
}

/// Centred moving average over `window` samples (shrinking at the ends).
fn moving_mean(x: &[f64], window: usize) -> Vec<f64> {
    let half = window / 2;
    let mut prefix = vec![0.0; x.len() + 1];
    for (i, v) in x.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
    }
    (0..x.len())
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(x.len()));
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// Sub-bin peak position by a parabola through the peak bin and its neighbours.
fn refine_peak(power: &[f64], peak: usize) -> f64 {
    if peak == 0 || peak + 1 >= power.len() {
        return peak as f64;
    }
    let (a, b, c) = (power[peak - 1], power[peak], power[peak + 1]);
    let curvature = a - 2.0 * b + c;
    if curvature >= 0.0 {
        return peak as f64;
    }
    peak as f64 + (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
}

/// Agreement between two regions' pulses (forehead vs cheeks): a live face has one heart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulseConsistency {
    pub heart_rate_difference_bpm: f64,
    /// Pearson correlation of the filtered waveforms over their common time span.
    pub waveform_correlation: f64,
}

/// Compares two [`PulseReport`]s measured on the same frames (same grid start and rate).
pub fn pulse_consistency(a: &PulseReport, b: &PulseReport) -> PulseConsistency {
    let n = a.waveform.len().min(b.waveform.len());
    PulseConsistency {
        heart_rate_difference_bpm: (a.heart_rate_bpm - b.heart_rate_bpm).abs(),
        waveform_correlation: stats::correlation(&a.waveform[..n], &b.waveform[..n]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, vfr_timestamps};
    use std::f64::consts::TAU;

    /// Relative pulsatile amplitude per channel (R, G, B) of skin: green strongest.
    const PULSE_DIRECTION: [f64; 3] = [0.33, 0.77, 0.53];
    /// Mean skin colour of a forehead patch, 0-255.
    const SKIN: [f64; 3] = [170.0, 120.0, 100.0];

    /// Per-frame noise of a region's mean colour, 0-255 levels: a 5000-pixel patch with 5 levels
    /// of pixel noise averages to 0.07; 0.1 leaves room for compression.
    const REGION_NOISE: f64 = 0.1;

    /// A skin region's mean colour at `bpm` under drifting light, with per-frame sensor noise.
    fn skin_trace(ts: &[f64], bpm: Option<f64>, rng: &mut Rng) -> Vec<[f32; 3]> {
        let phase = rng.uniform(0.0, TAU);
        ts.iter()
            .map(|&t| {
                // Illumination: a slow ramp and a 0.2 Hz wobble, 10x the pulse amplitude.
                let light = 1.0 + 0.04 * t / 6.0 + 0.02 * (TAU * 0.2 * t).sin();
                let beat = bpm.map_or(0.0, |b| {
                    let f = b / 60.0;
                    (TAU * f * t + phase).sin() + 0.3 * (2.0 * TAU * f * t + 2.0 * phase).sin()
                });
                [0, 1, 2].map(|c| {
                    let clean = SKIN[c] * light * (1.0 + 0.006 * PULSE_DIRECTION[c] * beat);
                    (clean + REGION_NOISE * rng.normal()) as f32
                })
            })
            .collect()
    }

    #[test]
    fn recovers_72_bpm_with_both_methods_on_variable_frame_rate() {
        let mut rng = Rng::new(41);
        for method in [PulseMethod::Pos, PulseMethod::Chrom] {
            let ts = vfr_timestamps(&mut rng, 190, 0.025, 0.042);
            let rgb = skin_trace(&ts, Some(72.0), &mut rng);
            let config = PulseConfig {
                method,
                ..PulseConfig::default()
            };
            let report = measure_pulse(&ts, &rgb, &config).unwrap();
            eprintln!(
                "{method:?}: {:.1} bpm, SNR {:.1} dB",
                report.heart_rate_bpm, report.snr_db
            );
            assert!(
                (report.heart_rate_bpm - 72.0).abs() <= 3.0,
                "{method:?}: {}",
                report.heart_rate_bpm
            );
            assert!(report.snr_db > 3.0, "{method:?}: SNR {}", report.snr_db);
        }
    }

    #[test]
    fn recovers_rates_across_the_band() {
        let mut rng = Rng::new(42);
        let ts: Vec<f64> = (0..180).map(|i| i as f64 / 30.0).collect();
        for bpm in [48.0, 65.0, 90.0, 120.0, 160.0] {
            let rgb = skin_trace(&ts, Some(bpm), &mut rng);
            let report = measure_pulse(&ts, &rgb, &PulseConfig::default()).unwrap();
            assert!(
                (report.heart_rate_bpm - bpm).abs() <= 3.0,
                "{bpm}: {}",
                report.heart_rate_bpm
            );
        }
    }

    #[test]
    fn noise_and_drift_alone_have_low_snr() {
        let mut rng = Rng::new(43);
        let ts: Vec<f64> = (0..180).map(|i| i as f64 / 30.0).collect();
        let mut noise_snr = Vec::new();
        let mut pulse_snr = Vec::new();
        for _ in 0..20 {
            let rgb = skin_trace(&ts, None, &mut rng);
            noise_snr.push(
                measure_pulse(&ts, &rgb, &PulseConfig::default())
                    .unwrap()
                    .snr_db,
            );
            let rgb = skin_trace(&ts, Some(75.0), &mut rng);
            pulse_snr.push(
                measure_pulse(&ts, &rgb, &PulseConfig::default())
                    .unwrap()
                    .snr_db,
            );
        }
        let worst_noise = noise_snr.iter().cloned().fold(f64::MIN, f64::max);
        let worst_pulse = pulse_snr.iter().cloned().fold(f64::MAX, f64::min);
        eprintln!("noise SNR max {worst_noise:.1} dB, pulse SNR min {worst_pulse:.1} dB");
        assert!(worst_noise < 0.0, "noise SNR up to {worst_noise}");
        assert!(
            worst_pulse > worst_noise + 3.0,
            "pulse {worst_pulse} vs noise {worst_noise}"
        );
    }

    #[test]
    fn two_regions_of_one_face_agree_and_a_noise_region_does_not() {
        let mut rng = Rng::new(44);
        let ts: Vec<f64> = (0..180).map(|i| i as f64 / 30.0).collect();
        // One heartbeat seen in two regions: the same trace plus each region's own noise.
        let clean = skin_trace(&ts, Some(80.0), &mut Rng::new(7));
        let region = |rng: &mut Rng| -> Vec<[f32; 3]> {
            clean
                .iter()
                .map(|p| p.map(|v| v + (REGION_NOISE * rng.normal()) as f32))
                .collect()
        };
        let config = PulseConfig::default();
        let forehead = measure_pulse(&ts, &region(&mut rng), &config).unwrap();
        let cheek = measure_pulse(&ts, &region(&mut rng), &config).unwrap();
        let background = measure_pulse(&ts, &skin_trace(&ts, None, &mut rng), &config).unwrap();
        let same = pulse_consistency(&forehead, &cheek);
        assert!(same.heart_rate_difference_bpm < 3.0);
        assert!(same.waveform_correlation > 0.8, "{same:?}");
        let other = pulse_consistency(&forehead, &background);
        assert!(other.waveform_correlation.abs() < 0.5, "{other:?}");
    }

    #[test]
    fn refuses_a_clip_too_short_for_a_spectrum() {
        let ts: Vec<f64> = (0..40).map(|i| i as f64 / 30.0).collect();
        let rgb = vec![[100.0f32, 90.0, 80.0]; 40];
        let err = measure_pulse(&ts, &rgb, &PulseConfig::default()).unwrap_err();
        assert!(
            matches!(err, SignalError::TooShort { need: 3.0, .. }),
            "{err:?}"
        );
        let ts6: Vec<f64> = (0..180).map(|i| i as f64 / 30.0).collect();
        let err = measure_pulse(
            &ts6,
            &vec![[0.0f32, 0.0, 0.0]; 180],
            &PulseConfig::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            SignalError::NonPositiveColour { index: 0, .. }
        ));
    }
}
