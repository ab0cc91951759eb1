//! [`Engine::check`]: one selfie video (and an optional ID photo) to one verdict.

use super::best::{self, CandidateEvidence};
use super::challenge;
use super::document;
use super::evidence::{self, Feature, Temporal, log10_floor, names};
use super::frames::{self, Track, TrackError};
use super::fusion::{self, Fused};
use super::matching;
use super::rules::{self, reason};
use super::verdict::{
    AttackType, Deepfake, FaceTemplate, Liveness, MediaFacts, Reason, ReasonCode, Severity,
    StageTimes, Verdict,
};
use super::{CheckError, CheckRequest, Engine, ms_since};
use crate::math::stats;
use faceproof_media::{MediaError, Warning};
use std::time::Instant;

pub(super) fn check(engine: &Engine, req: &CheckRequest<'_>) -> Result<Verdict, CheckError> {
    // Validation first, in the order a refusal is reported: the video's container (its one
    // demuxing pass, kept for the decode), then the ID photo's header (a refused photo costs
    // milliseconds, not the video's analysis).
    check_demuxed(
        engine,
        req,
        faceproof_media::demux_video(req.video, &engine.limits),
    )
}

/// [`check`] of `req.video` already demuxed (or refused) by the caller: the far / near path
/// validates its clip before the stills and hands the same demux here.
pub(super) fn check_demuxed(
    engine: &Engine,
    req: &CheckRequest<'_>,
    demuxed: Result<faceproof_media::DemuxedVideo, MediaError>,
) -> Result<Verdict, CheckError> {
    let started = Instant::now();
    let cfg = &engine.cfg;
    // A challenge's steps must all fall inside the analysed window.
    let sampling = challenge::sampling(&cfg.sampling, req.challenge);
    let demuxed = demuxed.map_err(TrackError::Media);
    if let (Ok(_), Some(photo)) = (&demuxed, req.id_photo) {
        faceproof_media::probe_image(photo, &engine.limits).map_err(CheckError::IdPhoto)?;
    }
    let (track, mut doc) = track_and_document(engine, req, &sampling, demuxed);
    let track = match track {
        Ok(t) => t,
        Err(TrackError::Media(MediaError::TooShort { seconds, min })) => {
            let mut v = too_short(seconds, min, started);
            // Nothing to judge: an issued challenge was not answered.
            let result = req
                .challenge
                .map(|e| crate::challenge::not_answered(e.spec));
            let cues = challenge::cues(req.telemetry, None, &cfg.challenge);
            challenge::apply(result.as_ref(), &cues, &cfg.challenge, &mut v.codes, None);
            rules::order(&mut v.codes);
            v.challenge = result;
            return Ok(v);
        }
        Err(TrackError::Media(e)) => return Err(CheckError::Video(e)),
        Err(TrackError::Vision(e)) => return Err(CheckError::Vision(e)),
    };
    let mut times = StageTimes {
        decode_ms: track.decode_ms,
        detect_ms: track.times.detect_ms,
        landmarks_ms: track.times.landmarks_ms,
        ..StageTimes::default()
    };
    // Presence is judged over the analysed window (a face "lost" after it is not seen at all).
    let mut codes = rules::presence_reasons(&track.frames, track.analysed_seconds, &cfg.capture);
    // Too few frames with a face (no face, or a crowd of small ones): nothing to judge liveness on.
    let usable = rules::face_share(&track.frames) >= cfg.capture.min_face_frames;
    if usable {
        codes.extend(rules::capture_reasons(&track.frames, &cfg.capture));
    }
    codes.extend(media_warnings(&track));

    let mut verdict = Verdict {
        codes: Vec::new(),
        liveness: None,
        deepfake: None,
        best_frame: None,
        face_match: None,
        media: media_facts(&track),
        capture: rules::measures(&track.frames, &cfg.capture),
        challenge: None,
        timings: StageTimes::default(),
        template: None,
        identity: None,
    };
    if usable {
        let t_signals = Instant::now();
        let temporal = evidence::temporal(&track.frames, &cfg.signals);
        times.signals_ms = ms_since(t_signals);
        let candidates = best::analyse(
            &engine.vision,
            &track,
            &cfg.sampling,
            &cfg.capture,
            &cfg.signals,
        )?;
        times.pad_ms = candidates.models_ms;
        judge(engine, &temporal, &candidates, &mut codes, &mut verdict);

        if let Some(top) = candidates.analysed.first() {
            let frame = &track.candidates[top.candidate];
            let t_embed = Instant::now();
            // The best frame is embedded once, and only for what reads it: the ID photo's match
            // and the 1:N template (never serialised). Its JPEGs are encoded on a second thread
            // meanwhile (both ~15 ms, and nothing else runs at this point of the request).
            let wanted = req.want_template || matches!(&doc, Some(Ok(d)) if d.embedding.is_some());
            let (encoded, selfie) = std::thread::scope(|scope| {
                let encoded = scope.spawn(|| {
                    best::best_frame(&frame.image, frame.pts_seconds, top, req.encode_best_frame)
                });
                let selfie = wanted.then(|| engine.vision.embed(&frame.image, &top.face));
                let encoded = encoded
                    .join()
                    .unwrap_or_else(|_| Err("the best frame's encoding panicked".into()));
                (encoded, selfie)
            });
            verdict.best_frame = Some(encoded.map_err(CheckError::Internal)?);
            let doc = doc.take().transpose()?;
            let selfie = selfie.transpose()?;
            if let Some(doc) = doc {
                codes.extend(doc.reasons);
                if let (Some(id_embedding), Some(selfie)) = (&doc.embedding, &selfie) {
                    let m = matching::compare(
                        selfie,
                        id_embedding,
                        engine.match_threshold(),
                        &engine.far,
                    );
                    if !m.is_match {
                        codes.push(reason(
                            ReasonCode::FaceMismatch,
                            Severity::Error,
                            "cosine_similarity",
                            m.cosine,
                            m.threshold,
                            Some(frame.pts_seconds),
                        ));
                    }
                    verdict.face_match = Some(m);
                }
            }
            if req.want_template {
                verdict.template = selfie.map(|s| FaceTemplate::new(engine, s));
            }
            times.embed_ms = ms_since(t_embed);
        } else if req.id_photo.is_some() {
            // Faces in the analysis frames, none at full resolution: nothing to match.
            codes.push(reason(
                ReasonCode::NoFace,
                Severity::Error,
                "full_resolution_candidates_with_face",
                0.0,
                1.0,
                None,
            ));
        }
    }
    let result = challenge::verify(req.challenge, &track.frames, &cfg.challenge);
    let fps = track.info.fps_real.or(track.info.fps);
    let cues = challenge::cues(req.telemetry, fps, &cfg.challenge);
    challenge::apply(
        result.as_ref(),
        &cues,
        &cfg.challenge,
        &mut codes,
        verdict.liveness.as_mut(),
    );
    verdict.challenge = result;
    rules::order(&mut codes);
    times.total_ms = ms_since(started);
    verdict.codes = codes;
    verdict.timings = times;
    Ok(verdict)
}

/// The video's track and, on a thread of its own beside it, the ID photo's analysis (decode,
/// detector, mesh, embedding). The photo does not depend on the video; analysed after the
/// candidates, as it was, it was a serial tail of ~40 ms on the request's critical path. Only
/// when the video's header was accepted and a photo was sent; its result (or refusal) is read
/// where the match needs it, so the order in which refusals are reported does not change.
fn track_and_document(
    engine: &Engine,
    req: &CheckRequest<'_>,
    sampling: &super::config::SamplingConfig,
    demuxed: Result<faceproof_media::DemuxedVideo, TrackError>,
) -> (
    Result<Track, TrackError>,
    Option<Result<document::Document, CheckError>>,
) {
    let cfg = &engine.cfg;
    std::thread::scope(|scope| {
        let photo = req.id_photo.filter(|_| demuxed.is_ok());
        let doc = photo.map(|photo| {
            scope.spawn(move || {
                document::analyse(
                    &engine.vision,
                    photo,
                    req.id_auto_rotate,
                    &cfg.document,
                    &engine.limits,
                )
            })
        });
        let track = demuxed.and_then(|video| {
            frames::track_demuxed(
                &engine.vision,
                video,
                sampling,
                cfg.capture.second_face_min_relative_area,
                &engine.limits,
            )
        });
        let doc = doc.map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(CheckError::Internal(
                    "the ID photo's analysis panicked".into(),
                ))
            })
        });
        (track, doc)
    })
}

/// Fuses the evidence into liveness and deepfake judgements and adds their reasons.
fn judge(
    engine: &Engine,
    temporal: &Temporal,
    candidates: &CandidateEvidence,
    codes: &mut Vec<Reason>,
    verdict: &mut Verdict,
) {
    let cfg = &engine.cfg;
    let features = features(temporal, candidates);
    let fused = fusion::fuse(&engine.calibration.fusion.liveness, &features);
    let df = fusion::fuse(&engine.calibration.fusion.deepfake, &features);
    // Still: neither the mesh's shape nor the eyelids change (the mesh alone under-reads eyelids,
    // so a live face holding its head still can score as little as a still on it).
    let lids_still = temporal
        .openness_spread
        .is_none_or(|s| s < cfg.liveness.still_openness_spread);
    let still = temporal
        .nonrigid_iod
        .filter(|&v| v < cfg.liveness.still_nonrigid_iod && lids_still);
    if let Some(v) = still {
        codes.push(reason(
            ReasonCode::StillImage,
            Severity::Error,
            "nonrigid_iod",
            v,
            cfg.liveness.still_nonrigid_iod,
            None,
        ));
    }
    let model_fake = stats::median_or_none(&candidates.fake);
    let (deepfake_prob, by_model) = cfg.deepfake.prob(df.prob, model_fake);
    let is_deepfake = deepfake_prob >= cfg.deepfake.threshold;
    if is_deepfake {
        codes.push(reason(
            ReasonCode::Deepfake,
            Severity::Error,
            if by_model {
                "deepfake_model_median"
            } else {
                "deepfake_prob"
            },
            deepfake_prob,
            cfg.deepfake.threshold,
            None,
        ));
    }
    let minifas = feature(&features, names::PAD_MINIFAS);
    let (spoof_prob, vetoed) = cfg.liveness.spoof_prob(fused.prob, minifas);
    let spoof = spoof_prob >= cfg.liveness.threshold;
    if spoof && still.is_none() {
        // Name what decided: the PAD net's veto, or the fused probability.
        let (measured, value, limit) = match (vetoed, minifas) {
            (true, Some(p)) => (names::PAD_MINIFAS, p, cfg.liveness.minifas_real_below),
            _ => ("spoof_prob", fused.prob, cfg.liveness.threshold),
        };
        codes.push(reason(
            ReasonCode::Spoof,
            Severity::Error,
            measured,
            value,
            limit,
            None,
        ));
    }
    let attack_type = if still.is_some() {
        Some(AttackType::Injection)
    } else if is_deepfake {
        Some(AttackType::Deepfake)
    } else if vetoed {
        Some(AttackType::Presentation)
    } else if spoof {
        Some(presentation_or_unsure(&fused))
    } else {
        None
    };
    verdict.liveness = Some(Liveness {
        score: 1.0 - spoof_prob,
        spoof_prob,
        is_live: !spoof && still.is_none() && !is_deepfake,
        threshold: cfg.liveness.threshold,
        need_to_review: (spoof_prob - cfg.liveness.threshold).abs() < cfg.liveness.review_band,
        attack_type,
        signals: fused.signals,
    });
    verdict.deepfake = Some(Deepfake {
        prob: deepfake_prob,
        is_deepfake,
        threshold: cfg.deepfake.threshold,
        signals: df.signals,
        model_prob: model_fake,
    });
}

/// A spoof is a presentation attack when the evidence that pushed it is physical (the model's
/// texture score, screen cues, a planar face); otherwise the kind is unsure.
fn presentation_or_unsure(fused: &Fused) -> AttackType {
    let physical = [
        names::PAD,
        names::PAD_MINIFAS,
        names::SCREEN_PEAK,
        names::GLARE,
        names::PLANARITY,
    ];
    let total: f64 = fused.signals.iter().map(|s| s.contribution.max(0.0)).sum();
    let from_physical: f64 = fused
        .signals
        .iter()
        .filter(|s| physical.contains(&s.name))
        .map(|s| s.contribution.max(0.0))
        .sum();
    if total > 0.0 && from_physical >= 0.5 * total {
        AttackType::Presentation
    } else {
        AttackType::Unsure
    }
}

/// A feature's measured value.
fn feature(features: &[Feature], name: &str) -> Option<f64> {
    features.iter().find(|f| f.0 == name).and_then(|f| f.1)
}

/// Every feature the fusion models may read.
fn features(temporal: &Temporal, candidates: &CandidateEvidence) -> Vec<Feature> {
    let mut f = temporal.features();
    f.push((names::PAD, stats::median_or_none(&candidates.pad_scores)));
    f.push((
        names::PAD_MINIFAS,
        stats::median_or_none(&candidates.pad_real),
    ));
    f.push((names::SCREEN_PEAK, candidates.screen_peak.map(log10_floor)));
    f.push((names::GLARE, candidates.glare));
    f
}

/// Media warnings as reasons.
fn media_warnings(track: &Track) -> Vec<Reason> {
    track
        .info
        .warnings
        .iter()
        .filter_map(|w| match *w {
            Warning::LowResolution {
                width,
                height,
                min_height,
                ..
            } => Some(reason(
                ReasonCode::LowResolution,
                Severity::Warning,
                "video_short_side_pixels",
                f64::from(width.min(height)),
                f64::from(min_height),
                None,
            )),
            Warning::LowFrameRate { fps, min } => Some(reason(
                ReasonCode::LowFrameRate,
                Severity::Warning,
                "frames_per_second",
                fps,
                min,
                None,
            )),
            _ => None,
        })
        .collect()
}

fn media_facts(track: &Track) -> MediaFacts {
    let (width, height) = track.info.upright_size();
    MediaFacts {
        width,
        height,
        duration_seconds: track.info.duration_seconds.unwrap_or(0.0),
        fps: track.info.fps_real.or(track.info.fps).unwrap_or(0.0),
        analysed_seconds: track.analysed_seconds,
        frames_decoded: track.frames_decoded,
        frames_analysed: track.frames.len(),
        frames_with_face: track.frames.iter().filter(|f| f.face.is_some()).count(),
    }
}

fn too_short(seconds: f64, min: f64, started: Instant) -> Verdict {
    Verdict {
        codes: vec![reason(
            ReasonCode::VideoTooShort,
            Severity::Error,
            "duration_seconds",
            seconds,
            min,
            None,
        )],
        liveness: None,
        deepfake: None,
        best_frame: None,
        face_match: None,
        media: MediaFacts {
            width: 0,
            height: 0,
            duration_seconds: seconds,
            fps: 0.0,
            frames_analysed: 0,
            frames_with_face: 0,
            ..MediaFacts::default()
        },
        capture: None,
        challenge: None,
        timings: StageTimes {
            total_ms: ms_since(started),
            ..StageTimes::default()
        },
        template: None,
        identity: None,
    }
}
