//! Frequency-domain band-pass filtering and power spectra of uniformly sampled series.

use crate::math::fft::{Complex, fft};
use std::f64::consts::{PI, TAU};

/// Hann window of length `n` (symmetric). It trades a main lobe twice as wide for side lobes that
/// fall off fast, so a strong peak does not leak into the "noise" band of an SNR.
pub fn hann(n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![1.0; n];
    }
    (0..n)
        .map(|i| 0.5 - 0.5 * (TAU * i as f64 / (n - 1) as f64).cos())
        .collect()
}

/// Zero-phase band-pass: keeps `[low_hz, high_hz]`, with raised-cosine edges `taper_hz` wide
/// outside the band (a brick wall would ring). The series is mean-removed and zero-padded to at
/// least twice its length so the circular FFT does not wrap the end onto the start.
pub fn bandpass(x: &[f64], rate: f64, low_hz: f64, high_hz: f64, taper_hz: f64) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let size = (2 * n).next_power_of_two();
    let mean = x.iter().sum::<f64>() / n as f64;
    let mut data = vec![Complex::ZERO; size];
    for (d, v) in data.iter_mut().zip(x) {
        d.re = v - mean;
    }
    fft(&mut data, false);
    for (k, d) in data.iter_mut().enumerate() {
        let bin = k.min(size - k);
        let f = bin as f64 * rate / size as f64;
        let gain = band_gain(f, low_hz, high_hz, taper_hz);
        d.re *= gain;
        d.im *= gain;
    }
    fft(&mut data, true);
    data[..n].iter().map(|z| z.re).collect()
}

fn band_gain(f: f64, low: f64, high: f64, taper: f64) -> f64 {
    let edge = |distance: f64| {
        if distance <= 0.0 {
            1.0
        } else if distance >= taper {
            0.0
        } else {
            0.5 + 0.5 * (PI * distance / taper).cos()
        }
    };
    if f < low {
        edge(low - f)
    } else if f > high {
        edge(f - high)
    } else {
        1.0
    }
}

/// One-sided power spectrum of a Hann-windowed series.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSpectrum {
    /// Frequency step between bins, Hz (rate / padded length).
    pub resolution_hz: f64,
    /// Power per bin from 0 Hz to the Nyquist frequency.
    pub power: Vec<f64>,
}

impl PowerSpectrum {
    pub fn frequency(&self, bin: usize) -> f64 {
        bin as f64 * self.resolution_hz
    }

    /// Bins whose frequency lies in `[lo, hi]`.
    pub fn bins_between(&self, lo: f64, hi: f64) -> std::ops::RangeInclusive<usize> {
        let first = (lo / self.resolution_hz).ceil().max(0.0) as usize;
        let last = ((hi / self.resolution_hz).floor() as usize).min(self.power.len() - 1);
        first..=last
    }
}

/// Power spectrum of `x` (mean removed, Hann-windowed) zero-padded to at least `min_len` points:
/// padding only interpolates the spectrum (it adds no resolution), which lets a peak be located
/// to a fraction of the 1/duration bin spacing.
pub fn power_spectrum(x: &[f64], rate: f64, min_len: usize) -> PowerSpectrum {
    let n = x.len();
    let size = n.max(min_len).max(2).next_power_of_two();
    let mean = x.iter().sum::<f64>() / n.max(1) as f64;
    let window = hann(n);
    let mut data = vec![Complex::ZERO; size];
    for i in 0..n {
        data[i].re = (x[i] - mean) * window[i];
    }
    fft(&mut data, false);
    PowerSpectrum {
        resolution_hz: rate / size as f64,
        power: data[..=size / 2].iter().map(|z| z.norm_sqr()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(x: &[f64]) -> f64 {
        (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn bandpass_keeps_the_band_and_rejects_both_sides() {
        let rate = 30.0;
        let tone = |f: f64| -> Vec<f64> {
            (0..600)
                .map(|i| (TAU * f * i as f64 / rate).sin())
                .collect()
        };
        let through = |f: f64| {
            let y = bandpass(&tone(f), rate, 0.7, 4.0, 0.2);
            rms(&y[100..500]) / rms(&tone(f)[100..500])
        };
        assert!((through(1.5) - 1.0).abs() < 0.02);
        assert!(through(0.2) < 0.02);
        assert!(through(8.0) < 0.02);
    }

    #[test]
    fn spectrum_peaks_at_the_tone_frequency() {
        let rate = 30.0;
        let x: Vec<f64> = (0..180)
            .map(|i| (TAU * 1.37 * i as f64 / rate).cos())
            .collect();
        let s = power_spectrum(&x, rate, 4096);
        let peak = (0..s.power.len())
            .max_by(|&a, &b| s.power[a].total_cmp(&s.power[b]))
            .unwrap();
        assert!((s.frequency(peak) - 1.37).abs() <= s.resolution_hz);
    }
}
