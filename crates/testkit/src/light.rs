//! Relights real frames as a phone screen showing a colour sequence would: the colour challenge's
//! test material, made at test time from the shared clips.
//!
//! The model, in linear light (sRGB decoded), per pixel `p` of a frame at time `t`:
//!
//! ```text
//! screen(t)  = the step's colour on screen at t - latency, averaged over the frame's exposure
//! reach(p)   = 1 / (1 + (|p - face centre| / face radius)^2)^2      (inverse-square-like falloff)
//! lit(p)     = pixel(p) * (1 + amplitude * reach(p) * screen(t))     (light adds in proportion to
//!                                                                     the surface's reflectance)
//! awb(t)     = per-channel gain drifting towards grey-world with time constant tau, undoing
//!              `awb_strength` of the frame's colour cast
//! out(p)     = awb(t) * lit(p), re-encoded to sRGB
//! ```
//!
//! The face (near the screen, at the centre of the falloff) takes the full colour; the background
//! beyond twice the face radius gets under a twentieth of it; the camera's white balance pulls the
//! whole frame back towards grey, as phone cameras do within a second.

use image::RgbImage;

/// Where the face is in one frame (pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceSpot {
    pub cx: f32,
    pub cy: f32,
    /// About half the face box's diagonal.
    pub radius: f32,
}

/// One colour shown on the screen from `start` to `end` seconds (recording time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shown {
    pub rgb: [u8; 3],
    pub start: f64,
    pub end: f64,
}

/// The light model's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Light {
    /// Screen light at the face centre relative to the ambient light, for a full channel.
    pub amplitude: f64,
    /// Display and camera latency: a colour shown at t lights the frame captured at t + latency.
    pub latency_s: f64,
    /// Share of the frame's colour cast the auto white balance removes once settled (0-1).
    pub awb_strength: f64,
    /// Time constant of the auto white balance, seconds.
    pub awb_tau_s: f64,
    /// Exposure time of one frame, seconds (the light is averaged over it).
    pub exposure_s: f64,
}

impl Default for Light {
    fn default() -> Self {
        Self {
            amplitude: 0.15,
            latency_s: 0.1,
            awb_strength: 0.6,
            awb_tau_s: 0.5,
            exposure_s: 1.0 / 30.0,
        }
    }
}

fn to_linear(v: u8) -> f32 {
    let c = f32::from(v) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(c: f32) -> u8 {
    let c = c.clamp(0.0, 1.0);
    let v = if c <= 0.003_130_8 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    };
    (v * 255.0).round() as u8
}

/// The screen's colour (channels 0-1, zero between steps) averaged over the exposure ending at `t`.
fn screen_at(steps: &[Shown], t: f64, light: &Light) -> [f64; 3] {
    const SUB: usize = 8;
    let mut acc = [0.0; 3];
    for k in 0..SUB {
        let ts = t - light.latency_s - light.exposure_s * (k as f64 + 0.5) / SUB as f64;
        if let Some(s) = steps.iter().find(|s| ts >= s.start && ts < s.end) {
            for (a, v) in acc.iter_mut().zip(s.rgb) {
                *a += f64::from(v) / 255.0 / SUB as f64;
            }
        }
    }
    acc
}

/// Relights `frames` (at `fps`, the first at t = 0) for the colour sequence `steps`; `spots[i]`
/// is the face in frame `i` (the last one is reused when shorter).
pub fn relight(
    frames: &[RgbImage],
    fps: f64,
    spots: &[FaceSpot],
    steps: &[Shown],
    light: &Light,
) -> Vec<RgbImage> {
    let lut: Vec<f32> = (0..=255u8).map(to_linear).collect();
    let mut gain = [1.0f64; 3];
    let dt = 1.0 / fps;
    let mut out = Vec::with_capacity(frames.len());
    for (i, frame) in frames.iter().enumerate() {
        let t = i as f64 * dt;
        let spot = spots[i.min(spots.len().saturating_sub(1))];
        let screen = screen_at(steps, t, light);
        let (w, h) = frame.dimensions();
        let mut lit = vec![[0f32; 3]; (w * h) as usize];
        let (mut mean, mut mean0) = ([0f64; 3], [0f64; 3]);
        for (x, y, p) in frame.enumerate_pixels() {
            let d2 = ((x as f32 - spot.cx).powi(2) + (y as f32 - spot.cy).powi(2))
                / spot.radius.max(1.0).powi(2);
            let reach = 1.0 / (1.0 + d2).powi(2);
            let px = &mut lit[(y * w + x) as usize];
            for c in 0..3 {
                let v0 = lut[p.0[c] as usize];
                let v = v0 * (1.0 + (light.amplitude * screen[c]) as f32 * reach);
                px[c] = v;
                mean[c] += f64::from(v);
                mean0[c] += f64::from(v0);
            }
        }
        // Auto white balance: it had settled on the unlit scene, so it reacts to the change of
        // the frame's mean chromaticity, undoing `awb_strength` of it with a first-order lag.
        let (sum, sum0) = (mean.iter().sum::<f64>(), mean0.iter().sum::<f64>());
        let alpha = 1.0 - (-dt / light.awb_tau_s.max(1e-3)).exp();
        for c in 0..3 {
            let cast = (mean[c] / sum.max(1e-9)) / (mean0[c] / sum0.max(1e-9)).max(1e-9);
            let target = 1.0 + light.awb_strength * (1.0 / cast.max(1e-9) - 1.0);
            gain[c] += alpha * (target - gain[c]);
        }
        let mut img = RgbImage::new(w, h);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let v = lit[(y * w + x) as usize];
            for c in 0..3 {
                p.0[c] = to_srgb(v[c] * gain[c] as f32);
            }
        }
        out.push(img);
    }
    out
}
