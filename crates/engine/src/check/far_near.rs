//! The capture SDK's far / near still pair (ADVANCE-style liveness session).
//!
//! ```text
//! far, near bytes ─ media::decode_image (EXIF upright) ─ scale to max_long_side
//!                 ─ vision.analyze (auto range, refined mesh, anti-spoofing)
//!                 ─ capture rules per still (face count, frame, pose, light, focus; near larger)
//!                 ─ capture times (near after far, within max_gap)
//!                 ─ perspective (signals::perspective) + PAD scores (+ the clip's verdict)
//!                 ─ fusion (far_near/fusion.rs) ─> liveness; best frame = the near still
//! ```

mod fusion;

use super::config::CapturePairConfig;
use super::ms_since;
use super::rules::reason;
use super::{
    AttackType, BestFrame, CheckError, CheckRequest, Engine, Liveness, MediaFacts, Reason,
    ReasonCode, Severity, StageTimes, Verdict,
};
use crate::signals::perspective::{PerspectiveReport, measure_perspective};
use faceproof_media::{ImageOptions, Warning, decode_image};
use faceproof_vision::image::RgbImage;
use faceproof_vision::{AnalyzeOptions, Face, Range, imgops, largest};
use fusion::Evidence;
use std::time::Instant;

/// A far / near capture: two stills of the same face taken as the phone comes closer, their
/// capture times, and optionally a short clip recorded between them.
#[derive(Debug, Clone, Copy)]
pub struct FarNearRequest<'a> {
    /// The far still (JPEG / PNG / WebP).
    pub far: &'a [u8],
    /// The near still.
    pub near: &'a [u8],
    /// Capture times, milliseconds since the Unix epoch, as the SDK reported them.
    pub far_time_ms: Option<i64>,
    pub near_time_ms: Option<i64>,
    /// A short clip between the two stills, when the SDK recorded one.
    pub clip: Option<&'a [u8]>,
    /// Encode the near frame and its face crop as JPEG in the verdict's best frame.
    pub encode_best_frame: bool,
    /// The server-issued challenge, answered in the clip (no clip: the challenge fails).
    pub challenge: Option<crate::challenge::ChallengeEvidence<'a>>,
    /// What the capturing browser reported (injection evidence, never a decision alone).
    pub telemetry: Option<&'a crate::challenge::ClientTelemetry>,
    /// Hand out the near still's face template (`Verdict.template`, for a 1:N search).
    pub want_template: bool,
}

/// Which still of the pair: its name on the wire, in stored artefacts and in measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shot {
    Far,
    Near,
}

impl Shot {
    /// `far` / `near`: the form field, the artefact and the prefix of its measures.
    pub fn name(self) -> &'static str {
        match self {
            Shot::Far => "far",
            Shot::Near => "near",
        }
    }

    /// The measure name for this still out of its far and near spellings (reason measures are
    /// static strings).
    fn pick(self, far: &'static str, near: &'static str) -> &'static str {
        match self {
            Shot::Far => far,
            Shot::Near => near,
        }
    }
}

impl std::fmt::Display for Shot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One analysed still.
struct Still {
    image: RgbImage,
    /// Analysis pixels per original pixel (1 when not scaled).
    factor: f32,
    faces: Vec<Face>,
    warnings: Vec<Warning>,
}

impl Still {
    fn face(&self) -> Option<&Face> {
        largest(&self.faces)
    }
}

pub(super) fn check(engine: &Engine, req: &FarNearRequest<'_>) -> Result<Verdict, CheckError> {
    let cfg = &engine.cfg.capture_pair;
    let start = Instant::now();
    let mut times = StageTimes::default();
    let decode = |which: Shot, bytes: &[u8]| {
        decode_image(bytes, &ImageOptions { auto_rotate: true }, engine.limits())
            .map_err(|error| CheckError::CaptureImage { which, error })
    };
    let (far_img, near_img) = (decode(Shot::Far, req.far)?, decode(Shot::Near, req.near)?);
    // A clip is refused up front even when the stills leave nothing for it to add; its demuxing
    // pass is kept for the clip's own check below.
    let clip_video = req
        .clip
        .map(|clip| faceproof_media::demux_video(clip, engine.limits()))
        .transpose()
        .map_err(CheckError::Video)?;
    times.decode_ms = ms_since(start);

    let t = Instant::now();
    let opts = AnalyzeOptions {
        range: Range::Auto,
        iris: false,
        antispoof: true,
        minifas: true,
        embedding: false,
        refine_mesh: true,
    };
    let analyse = |decoded: faceproof_media::DecodedImage| -> Result<Still, CheckError> {
        let (image, factor) = match imgops::fit_within(&decoded.image, cfg.max_long_side) {
            Some((small, factor)) => (small, factor),
            None => (decoded.image, 1.0),
        };
        let faces = engine.vision().analyze(&image, &opts)?;
        Ok(Still {
            image,
            factor,
            faces,
            warnings: decoded.info.warnings,
        })
    };
    let (far, near) = (analyse(far_img)?, analyse(near_img)?);
    times.detect_ms = ms_since(t);

    let mut codes = Vec::new();
    let rules = Rules { engine, cfg };
    rules.presence(&far, Shot::Far, &mut codes);
    rules.presence(&near, Shot::Near, &mut codes);
    let both = far.face().zip(near.face());
    if let Some((f, n)) = both {
        rules.quality(f, Shot::Far, &mut codes);
        rules.quality(n, Shot::Near, &mut codes);
    }
    for w in far.warnings.iter().chain(&near.warnings) {
        if let Warning::LowResolution {
            width,
            height,
            min_width,
            min_height,
        } = w
        {
            codes.push(reason(
                ReasonCode::LowResolution,
                Severity::Warning,
                "image_short_side_px",
                f64::from((*width).min(*height)),
                f64::from((*min_width).min(*min_height)),
                None,
            ));
        }
    }
    let timing = rules.timing(req, &mut codes);

    let t = Instant::now();
    let perspective = match both {
        Some((f, n)) => Some(
            measure_perspective(&points(f), &points(n), &cfg.perspective).map_err(|e| {
                CheckError::Internal(format!("perspective of a detected face pair: {e}"))
            })?,
        ),
        None => None,
    };
    if let (Some(p), Some(_)) = (&perspective, both) {
        rules.scale(p, &mut codes);
    }
    times.signals_ms = ms_since(t);

    let clip = match (req.clip.zip(clip_video), cfg.use_clip) {
        (Some((bytes, video)), true) if both.is_some() => Some(super::selfie::check_demuxed(
            engine,
            &CheckRequest {
                encode_best_frame: false,
                challenge: req.challenge,
                ..CheckRequest::video(bytes)
            },
            Ok(video),
        )?),
        _ => None,
    };

    let liveness = match (both, &perspective) {
        (Some((f, n)), Some(p)) => Some(judge(
            engine,
            cfg,
            &Evidence {
                pad: [f.pad_score, n.pad_score],
                perspective: p,
                clip: clip.as_ref().and_then(|v| v.liveness.as_ref()),
                timing_broken: timing,
            },
            &mut codes,
        )),
        _ => None,
    };
    let mut liveness = liveness;
    if let Some(v) = &clip {
        codes.extend(
            v.codes
                .iter()
                .filter(|r| r.code.stage() == super::Stage::Liveness)
                .cloned(),
        );
    }
    // The challenge is answered in the clip: its result (and a failure's attack type) comes
    // from the clip's check; without a clip it was not answered. The telemetry is judged here
    // once, against the clip's frame rate.
    let challenge = req.challenge.map(|e| {
        clip.as_ref()
            .and_then(|v| v.challenge.clone())
            .unwrap_or_else(|| crate::challenge::not_answered(e.spec))
    });
    if let (Some(l), Some(r)) = (liveness.as_mut(), &challenge)
        && !r.passed
    {
        l.is_live = false;
        if let Some(t) = clip
            .as_ref()
            .and_then(|v| v.liveness.as_ref())
            .and_then(|c| c.attack_type)
        {
            l.attack_type = Some(t);
        }
    }
    let clip_fps = clip.as_ref().map(|v| v.media.fps).filter(|f| *f > 0.0);
    let cues = super::challenge::cues(req.telemetry, clip_fps, &engine.config().challenge);
    let clip_failed = clip
        .as_ref()
        .is_some_and(|v| v.has(ReasonCode::ChallengeFailed));
    super::challenge::apply(
        // A clip's failure is already among the copied reasons.
        challenge.as_ref().filter(|_| !clip_failed),
        &cues,
        &engine.config().challenge,
        &mut codes,
        liveness.as_mut(),
    );
    // Errors first, then in decision order (capture, liveness, match); stable within each.
    super::rules::order(&mut codes);

    let t = Instant::now();
    let best_frame = match both {
        Some((_, n)) => Some(best_frame(req, cfg, &near, n)?),
        None => None,
    };
    // The near still's template, for a 1:N search (never serialised): embedded only when asked.
    let template = match both {
        Some((_, n)) if req.want_template => Some(super::verdict::FaceTemplate::new(
            engine,
            engine.vision().embed(&near.image, n)?,
        )),
        _ => None,
    };
    times.embed_ms = ms_since(t);
    times.total_ms = ms_since(start);
    let (width, height) = near.image.dimensions();
    Ok(Verdict {
        codes,
        liveness,
        deepfake: clip.as_ref().and_then(|v| v.deepfake.clone()),
        best_frame,
        face_match: None,
        media: MediaFacts {
            width: (width as f32 / near.factor).round() as u32,
            height: (height as f32 / near.factor).round() as u32,
            duration_seconds: 0.0,
            fps: 0.0,
            frames_analysed: 2,
            frames_with_face: usize::from(far.face().is_some())
                + usize::from(near.face().is_some()),
            ..MediaFacts::default()
        },
        capture: both.map(|(_, n)| near_measures(n)),
        challenge,
        timings: times,
        template,
        identity: None,
    })
}

/// What the rules measured on the near still (the one judged for size and kept as best frame).
fn near_measures(face: &Face) -> super::verdict::CaptureMeasures {
    let q = &face.quality;
    super::verdict::CaptureMeasures {
        face_area_ratio: Some(f64::from(q.face_area_ratio)),
        inside_ratio: Some(f64::from(q.inside_ratio)),
        sharpness: Some(f64::from(q.sharpness)),
        brightness: Some(f64::from(q.brightness)),
        background_minus_face_brightness: q.face_background_delta.map(|d| -f64::from(d)),
        abs_yaw_degrees: Some(f64::from(face.pose.yaw.abs())),
        abs_pitch_degrees: Some(f64::from(face.pose.pitch.abs())),
        ..Default::default()
    }
}

/// Fuses the evidence into the liveness judgement and adds the `spoof` reason when it fails.
fn judge(
    engine: &Engine,
    cfg: &CapturePairConfig,
    evidence: &Evidence<'_>,
    codes: &mut Vec<Reason>,
) -> Liveness {
    let live_cfg = &engine.config().liveness;
    let fused = fusion::fuse(&cfg.fusion, evidence);
    let liveness_error = codes
        .iter()
        .any(|r| r.severity == Severity::Error && r.code.stage() == super::Stage::Liveness);
    let is_live = fused.spoof_prob < live_cfg.threshold && !liveness_error;
    if fused.spoof_prob >= live_cfg.threshold {
        codes.push(reason(
            ReasonCode::Spoof,
            Severity::Error,
            "capture_spoof_prob",
            fused.spoof_prob,
            live_cfg.threshold,
            None,
        ));
    }
    let attack_type = (!is_live).then_some(if evidence.timing_broken {
        AttackType::Injection
    } else {
        fused.attack_type
    });
    Liveness {
        score: 1.0 - fused.spoof_prob,
        spoof_prob: fused.spoof_prob,
        is_live,
        threshold: live_cfg.threshold,
        need_to_review: (fused.spoof_prob - live_cfg.threshold).abs() < live_cfg.review_band,
        attack_type,
        signals: fused.signals,
    }
}

/// The capture rules, with their thresholds from the engine and pair configs.
struct Rules<'a> {
    engine: &'a Engine,
    cfg: &'a CapturePairConfig,
}

impl Rules<'_> {
    /// No face, or a second face large enough to be a second person.
    fn presence(&self, still: &Still, which: Shot, codes: &mut Vec<Reason>) {
        let c = &self.engine.config().capture;
        let Some(main) = still.face() else {
            let measure = which.pick("far_face_count", "near_face_count");
            codes.push(reason(
                ReasonCode::NoFace,
                Severity::Error,
                measure,
                0.0,
                1.0,
                None,
            ));
            return;
        };
        let others = still
            .faces
            .iter()
            .filter(|f| {
                !std::ptr::eq(*f, main)
                    && f64::from(f.area() / main.area()) >= c.second_face_min_relative_area
            })
            .count();
        if others > 0 {
            let measure = which.pick("far_face_count", "near_face_count");
            codes.push(reason(
                ReasonCode::MultipleFaces,
                Severity::Error,
                measure,
                (others + 1) as f64,
                1.0,
                None,
            ));
        }
    }

    /// Frame, pose, light and focus of one still's face; the size rule only for the near one
    /// (the far face is small by design).
    fn quality(&self, face: &Face, which: Shot, codes: &mut Vec<Reason>) {
        let c = &self.engine.config().capture;
        let q = &face.quality;
        let named = |far, near| which.pick(far, near);
        let mut check = |bad: bool, code, measure, value: f64, threshold: f64| {
            if bad {
                codes.push(reason(
                    code,
                    Severity::Error,
                    measure,
                    value,
                    threshold,
                    None,
                ));
            }
        };
        let inside = f64::from(q.inside_ratio);
        check(
            inside < c.min_inside_ratio,
            ReasonCode::FaceOutOfFrame,
            named("far_inside_ratio", "near_inside_ratio"),
            inside,
            c.min_inside_ratio,
        );
        let (yaw, pitch) = (f64::from(face.pose.yaw), f64::from(face.pose.pitch));
        check(
            yaw.abs() > c.max_yaw_deg,
            ReasonCode::NotFrontal,
            named("far_yaw_degrees", "near_yaw_degrees"),
            yaw,
            c.max_yaw_deg,
        );
        check(
            pitch.abs() > c.max_pitch_deg,
            ReasonCode::NotFrontal,
            named("far_pitch_degrees", "near_pitch_degrees"),
            pitch,
            c.max_pitch_deg,
        );
        let light = f64::from(q.brightness);
        check(
            light < c.min_brightness,
            ReasonCode::FaceTooDark,
            named("far_brightness", "near_brightness"),
            light,
            c.min_brightness,
        );
        check(
            light > c.max_brightness,
            ReasonCode::FaceTooBright,
            named("far_brightness", "near_brightness"),
            light,
            c.max_brightness,
        );
        if let Some(delta) = q.face_background_delta.map(f64::from) {
            check(
                -delta > c.backlit_delta,
                ReasonCode::Backlit,
                named("far_background_minus_face", "near_background_minus_face"),
                -delta,
                c.backlit_delta,
            );
        }
        let sharp = f64::from(q.sharpness);
        check(
            sharp < c.min_sharpness,
            ReasonCode::FaceBlurry,
            named("far_sharpness", "near_sharpness"),
            sharp,
            c.min_sharpness,
        );
        if which == Shot::Near {
            let area = f64::from(q.face_area_ratio);
            check(
                area < c.min_face_area_ratio,
                ReasonCode::FaceTooSmall,
                "near_face_area_ratio",
                area,
                c.min_face_area_ratio,
            );
        }
    }

    /// The near face must be clearly larger than the far one: the user did not come closer.
    fn scale(&self, p: &PerspectiveReport, codes: &mut Vec<Reason>) {
        if p.scale_ratio < self.cfg.min_near_far_scale {
            codes.push(reason(
                ReasonCode::FaceTooSmall,
                Severity::Error,
                "near_far_scale_ratio",
                p.scale_ratio,
                self.cfg.min_near_far_scale,
                None,
            ));
        }
    }

    /// Capture times: the near still after the far one, within the allowed gap. A pair out of
    /// order or from far apart was not captured as the SDK prescribes: treated as an injection
    /// (`spoof`), since no retake of a live user produces it. Returns whether a rule broke.
    fn timing(&self, req: &FarNearRequest<'_>, codes: &mut Vec<Reason>) -> bool {
        let (Some(far), Some(near)) = (req.far_time_ms, req.near_time_ms) else {
            return false;
        };
        let gap = near.saturating_sub(far);
        if gap < 0 {
            codes.push(reason(
                ReasonCode::Spoof,
                Severity::Error,
                "near_minus_far_capture_ms",
                gap as f64,
                0.0,
                None,
            ));
            true
        } else if gap > self.cfg.max_capture_gap_ms {
            codes.push(reason(
                ReasonCode::Spoof,
                Severity::Error,
                "near_minus_far_capture_ms",
                gap as f64,
                self.cfg.max_capture_gap_ms as f64,
                None,
            ));
            true
        } else {
            false
        }
    }
}

/// The near still as the best frame, with its aligned face crop.
fn best_frame(
    req: &FarNearRequest<'_>,
    cfg: &CapturePairConfig,
    near: &Still,
    face: &Face,
) -> Result<BestFrame, CheckError> {
    let (jpeg, face_jpeg) = if req.encode_best_frame {
        super::best::frame_jpegs(&near.image, face, cfg.jpeg_quality)
            .map_err(CheckError::Internal)?
    } else {
        (Vec::new(), Vec::new())
    };
    let r = face.detection.rect;
    let k = near.factor;
    let timestamp = match (req.far_time_ms, req.near_time_ms) {
        (Some(f), Some(n)) if n >= f => (n - f) as f64 / 1000.0,
        _ => 0.0,
    };
    Ok(BestFrame {
        timestamp,
        jpeg,
        face_jpeg,
        face_box: [r.x / k, r.y / k, r.w / k, r.h / k],
        yaw: face.pose.yaw,
        pitch: face.pose.pitch,
        sharpness: face.quality.sharpness,
        eye_openness: openness(face),
        score: f64::from(face.detection.score),
    })
}

/// Eye openness from the mesh's eyelids (no iris model run on stills).
fn openness(face: &Face) -> Option<f64> {
    super::observation::openness(&points(face))
}

fn points(face: &Face) -> Vec<crate::Point2> {
    super::observation::mesh_points(face)
}
