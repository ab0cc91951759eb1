//! Best-frame candidates at full resolution: which one represents the capture, and what the
//! frame-based evidence (the MiniFASNet anti-spoofing model, screen cues, an operator's deepfake
//! detector when one is plugged in) says on the best few.
//!
//! Each candidate is first ranked by the analysis-frame measurements nearest to it in time
//! (frontal, sharp, eyes open: each scored 0-1 and summed), so the full-resolution models run
//! only on the `pad_frames` best ones.

use super::config::{CaptureConfig, SamplingConfig, SignalConfigs};
use super::frames::Track;
use super::observation::openness;
use super::verdict::BestFrame;
use crate::math::stats;
use crate::signals::screen::measure_moire_and_glare;
use faceproof_vision::{AnalyzeOptions, Face, Range, Vision, VisionError, largest};
use image::RgbImage;
use std::time::Instant;

/// Eye openness of a fully open eye (the mesh lids' gap over width): the best-frame score's
/// "eyes open" term saturates there.
const OPEN_EYE_OPENNESS: f64 = 0.25;
/// Sharpness, in multiples of the capture's minimum, at which the "sharp" term saturates.
const SHARP_MULTIPLE: f64 = 4.0;

/// One candidate analysed at full resolution.
#[derive(Debug, Clone)]
pub(super) struct Analysed {
    pub candidate: usize,
    pub face: Face,
    pub rank_score: f64,
    pub openness: Option<f64>,
}

/// What the candidates gave.
#[derive(Debug, Default)]
pub(super) struct CandidateEvidence {
    /// Best first.
    pub analysed: Vec<Analysed>,
    pub pad_scores: Vec<f64>,
    /// MiniFASNet P(real) per analysed candidate (empty when that model is disabled).
    pub pad_real: Vec<f64>,
    /// The operator's deepfake detector's P(fake) per analysed candidate (empty without one).
    pub fake: Vec<f64>,
    pub screen_peak: Option<f64>,
    pub glare: Option<f64>,
    pub models_ms: f64,
}

/// Ranks the candidates and runs the full-resolution models on the best `pad_frames`.
pub(super) fn analyse(
    vision: &Vision,
    track: &Track,
    sampling: &SamplingConfig,
    capture: &CaptureConfig,
    signals: &SignalConfigs,
) -> Result<CandidateEvidence, VisionError> {
    let started = Instant::now();
    let mut ranked: Vec<(usize, f64, Option<f64>)> = track
        .candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let obs = nearest_face(track, c.pts_seconds)?;
            let pose = obs.quality.pose;
            let turn = f64::from(pose.yaw).hypot(f64::from(pose.pitch));
            let frontal = 1.0 - (turn / capture.max_yaw_deg.max(1.0)).min(1.0);
            let sharp = (f64::from(obs.quality.sharpness)
                / (SHARP_MULTIPLE * capture.min_sharpness.max(1.0)))
            .min(1.0);
            let open = openness(&obs.points);
            let eyes = open.map_or(0.0, |o| (o / OPEN_EYE_OPENNESS).min(1.0));
            Some((i, frontal + sharp + eyes, open))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = CandidateEvidence::default();
    let best: Vec<(usize, f64, Option<f64>)> = ranked
        .iter()
        .take(sampling.pad_frames.max(1))
        .copied()
        .collect();
    // The candidates are independent: with two frame threads, two at a time (the per-frame
    // models have a session per thread), results kept in rank order.
    let threads = (sampling.frame_threads.max(1) as usize).min(best.len().max(1));
    // Thread t measures ranks t, t + threads, ...; the results are put back in rank order.
    let mut measured: Vec<(usize, Result<Option<Measured>, VisionError>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let best = &best;
                    scope.spawn(move || {
                        best.iter()
                            .enumerate()
                            .skip(t)
                            .step_by(threads)
                            .map(|(rank, c)| (rank, measure(vision, track, c, signals)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
    measured.sort_by_key(|(rank, _)| *rank);
    let mut screen_peaks = Vec::new();
    let mut glare = Vec::new();
    for (_, m) in measured {
        let Some(m) = m? else { continue };
        if let Some(s) = m.analysed.face.pad_score {
            out.pad_scores.push(f64::from(s));
        }
        if let Some(p) = m.analysed.face.pad_real {
            out.pad_real.push(f64::from(p));
        }
        if let Some(p) = m.fake {
            out.fake.push(p);
        }
        if let Some((peak, g)) = m.screen {
            screen_peaks.push(peak);
            glare.push(g);
        }
        out.analysed.push(m.analysed);
    }
    out.screen_peak = stats::median_or_none(&screen_peaks);
    out.glare = stats::median_or_none(&glare);
    out.models_ms = started.elapsed().as_secs_f64() * 1e3;
    Ok(out)
}

/// What one candidate gave.
struct Measured {
    analysed: Analysed,
    /// Screen peak and glare of the face crop.
    screen: Option<(f64, f64)>,
    /// The operator's deepfake detector's P(fake), when one is plugged in.
    fake: Option<f64>,
}

/// The full-resolution measures of one candidate: `None` when no face is found on it.
fn measure(
    vision: &Vision,
    track: &Track,
    &(i, rank_score, open): &(usize, f64, Option<f64>),
    signals: &SignalConfigs,
) -> Result<Option<Measured>, VisionError> {
    let opts = AnalyzeOptions {
        range: Range::Short,
        iris: false,
        // The DTN score is no longer fused for videos (calibrate::fit::LIVENESS_FEATURES): not run.
        antispoof: false,
        minifas: true,
        embedding: false,
        refine_mesh: true,
    };
    let img = &track.candidates[i].image;
    let faces = vision.analyze(img, &opts)?;
    let Some(face) = largest(&faces).cloned() else {
        return Ok(None);
    };
    let screen = face_crop(img, &face)
        .and_then(|crop| measure_moire_and_glare(&crop, &signals.screen).ok())
        .map(|(spectrum, specular)| (spectrum.peak_to_ring_median, specular.highlight_fraction));
    let fake = vision
        .deepfake()
        .map(|d| d.score(img, &face.detection))
        .transpose()?
        .map(f64::from);
    Ok(Some(Measured {
        analysed: Analysed {
            candidate: i,
            face,
            rank_score,
            openness: open,
        },
        screen,
        fake,
    }))
}

/// The analysis-frame face nearest in time to `t`.
fn nearest_face(track: &Track, t: f64) -> Option<&super::observation::FaceObs> {
    track
        .frames
        .iter()
        .filter(|f| f.face.is_some())
        .min_by(|a, b| (a.t - t).abs().total_cmp(&(b.t - t).abs()))
        .and_then(|f| f.face.as_ref())
}

/// The detector box cut from the frame at native resolution (screen cues must not be resampled).
pub(super) fn face_crop(img: &RgbImage, face: &Face) -> Option<RgbImage> {
    let r = face.detection.rect.clip(img.width(), img.height());
    let (x, y) = (r.x.max(0.0) as u32, r.y.max(0.0) as u32);
    let (w, h) = (r.w as u32, r.h as u32);
    (w >= 8 && h >= 8 && x + w <= img.width() && y + h <= img.height())
        .then(|| image::imageops::crop_imm(img, x, y, w, h).to_image())
}

/// The verdict's best frame, with JPEGs when asked.
pub(super) fn best_frame(
    img: &RgbImage,
    t: f64,
    analysed: &Analysed,
    encode: bool,
) -> Result<BestFrame, String> {
    let face = &analysed.face;
    let r = face.detection.rect;
    let (jpeg, face_jpeg) = if encode {
        frame_jpegs(img, face, JPEG_QUALITY)?
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(BestFrame {
        timestamp: t,
        jpeg,
        face_jpeg,
        face_box: [r.x, r.y, r.w, r.h],
        yaw: face.pose.yaw,
        pitch: face.pose.pitch,
        sharpness: face.quality.sharpness,
        eye_openness: analysed.openness,
        score: analysed.rank_score,
    })
}

/// JPEG quality of returned frames: visually lossless for review, a fifth of PNG's size.
const JPEG_QUALITY: u8 = 90;

/// The frame and the face's aligned 112x112 crop as JPEG.
pub(super) fn frame_jpegs(
    img: &RgbImage,
    face: &Face,
    quality: u8,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let aligned = face
        .landmarks
        .aligned(img)
        .ok_or("the face's landmarks are degenerate")?;
    Ok((jpeg(img, quality)?, jpeg(&aligned, quality)?))
}

fn jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = (img.width(), img.height());
    let too_large = || format!("JPEG encoding failed: {w}x{h} exceeds 65535 pixels a side");
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| too_large())?,
        u16::try_from(h).map_err(|_| too_large())?,
    );
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| format!("JPEG encoding failed: {e}"))?;
    Ok(out)
}
