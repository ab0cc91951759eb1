//! Video -> per-frame observations of the main face.
//!
//! FFmpeg decodes on the calling thread while a second thread runs the per-frame models, so on two
//! cores decoding hides behind inference. The short-range detector runs on every
//! `redetect_frames`-th frame, on every face-count frame and whenever the face is lost; between
//! detections the main face's box is carried along by its own mesh (`tracker`). Every analysed
//! frame with a face gets one mesh pass, the quality measures and the iris of the larger eye;
//! every `face_count_interval_s` the full-range detector also counts faces (the short-range one
//! misses small faces behind the customer). Full-resolution frames are kept only as best-frame
//! candidates.

use super::config::SamplingConfig;
use super::ms_since;
use super::observation::{self, FaceObs, FrameObs};
use super::regions;
use super::tracker::Tracker;
use faceproof_media::{
    AnalysisFrames, DemuxedVideo, Frame, FrameRole, FullFrames, Limits, MediaError, MediaInfo,
    SamplingPlan,
};
use faceproof_vision::{AnalyzeOptions, Face, Range, Vision, VisionError};
use std::sync::mpsc;
use std::time::Instant;

/// Everything the rest of the check reads from the video.
#[derive(Debug)]
pub(super) struct Track {
    pub info: MediaInfo,
    pub frames: Vec<FrameObs>,
    /// Full-resolution best-frame candidates, in time order.
    pub candidates: Vec<Frame>,
    /// Seconds of the clip that were analysed: the window, or the whole clip when shorter.
    pub analysed_seconds: f64,
    /// Frames the decoder produced (the window's, plus the few it decodes ahead).
    pub frames_decoded: u64,
    pub decode_ms: f64,
    pub times: ModelTimes,
}

/// Why tracking stopped.
#[derive(Debug)]
pub(super) enum TrackError {
    Media(MediaError),
    Vision(VisionError),
}

/// The frames a check decodes from a video with these facts: every `stride`-th frame at analysis
/// size (the configured analysis rate from the real frame rate) and the best-frame candidates, all
/// within the analysis window (see [`SamplingConfig::analysis_window_s`]). Returns the plan, the
/// stride and the frame rate it was computed from.
pub(super) fn plan(info: &MediaInfo, sampling: &SamplingConfig) -> (SamplingPlan, u32, f64) {
    let fps = info.fps_real.or(info.fps).unwrap_or(30.0).max(1.0);
    let stride = (fps / sampling.analysis_fps.max(1.0)).round().max(1.0) as u32;
    let plan = SamplingPlan {
        analysis: AnalysisFrames::EveryNth(stride),
        analysis_long_side: Some(sampling.analysis_long_side),
        full: FullFrames::Evenly(sampling.best_frame_candidates),
        window_seconds: Some(window_seconds(fps, stride, sampling)),
    };
    (plan, stride, fps)
}

/// Seconds analysed from the start of a clip at `fps` sampled every `stride`-th frame: the
/// configured window, shortened so that it holds at most `max_analysis_frames` analysis frames.
fn window_seconds(fps: f64, stride: u32, sampling: &SamplingConfig) -> f64 {
    let rate = fps / f64::from(stride.max(1));
    let by_count = f64::from(sampling.max_analysis_frames.max(1)) / rate;
    sampling.analysis_window_s.max(0.0).min(by_count)
}

/// Decodes `video` and measures every analysed frame.
pub(super) fn track(
    vision: &Vision,
    video: &[u8],
    sampling: &SamplingConfig,
    second_face_min_relative_area: f64,
    limits: &Limits,
) -> Result<Track, TrackError> {
    let demuxed = faceproof_media::demux_video(video, limits).map_err(TrackError::Media)?;
    track_demuxed(
        vision,
        demuxed,
        sampling,
        second_face_min_relative_area,
        limits,
    )
}

/// [`track`] for a video already demuxed, so a caller that validates its inputs first reads the
/// container once.
pub(super) fn track_demuxed(
    vision: &Vision,
    video: DemuxedVideo,
    sampling: &SamplingConfig,
    second_face_min_relative_area: f64,
    limits: &Limits,
) -> Result<Track, TrackError> {
    let (plan, stride, fps) = plan(video.info(), sampling);
    let count_every = (sampling.face_count_interval_s * fps / f64::from(stride))
        .round()
        .max(1.0) as usize;

    let started = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<(usize, Frame)>(4);
    let mut candidates = Vec::new();
    let ctx = FrameContext {
        vision,
        sampling,
        count_every,
        second_face_min_relative_area,
    };
    let (summary, worker) = std::thread::scope(|scope| {
        let worker = if sampling.frame_threads >= 2 && sampling.redetect_frames <= 1 {
            frame_parallel(scope, &ctx, rx)
        } else {
            in_order(scope, &ctx, rx)
        };
        let mut index = 0usize;
        let summary = video.decode_with(&plan, limits, |role, frame| {
            match role {
                FrameRole::Analysis => {
                    index += 1;
                    // A closed channel means the workers failed: stop decoding, their error wins.
                    tx.send((index - 1, frame))
                        .map_err(|_| MediaError::Internal {
                            detail: "frame analysis stopped".into(),
                        })
                }
                FrameRole::Full => {
                    candidates.push(frame);
                    Ok(())
                }
            }
        });
        drop(tx);
        (summary, worker.join())
    });
    let elapsed = started.elapsed().as_secs_f64() * 1e3;
    let (frames, times) = match worker {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(TrackError::Vision(e)),
        Err(_) => {
            return Err(TrackError::Media(MediaError::Internal {
                detail: "frame analysis thread panicked".into(),
            }));
        }
    };
    let summary = summary.map_err(TrackError::Media)?;
    let duration = summary.info.duration_seconds.unwrap_or(0.0);
    Ok(Track {
        analysed_seconds: plan.window_seconds.map_or(duration, |w| w.min(duration)),
        frames_decoded: summary.frames_decoded,
        info: summary.info,
        frames,
        candidates,
        // Decoding overlaps the models; what is not model time is decode (and waiting).
        decode_ms: (elapsed - times.detect_ms - times.landmarks_ms).max(0.0),
        times,
    })
}

/// What every frame worker needs.
struct FrameContext<'a> {
    vision: &'a Vision,
    sampling: &'a SamplingConfig,
    /// Every this-many-th analysed frame also counts faces with the full-range detector.
    count_every: usize,
    second_face_min_relative_area: f64,
}

impl FrameContext<'_> {
    /// [`see`] on the `index`-th analysed frame (a face-count frame every `count_every`).
    fn see(
        &self,
        img: &image::RgbImage,
        index: usize,
        tracker: &mut Tracker,
        times: &mut ModelTimes,
    ) -> Result<Seen, VisionError> {
        see(
            self.vision,
            img,
            index.is_multiple_of(self.count_every),
            self.second_face_min_relative_area,
            tracker,
            times,
        )
    }
}

type Worker<'scope> =
    std::thread::ScopedJoinHandle<'scope, Result<(Vec<FrameObs>, ModelTimes), VisionError>>;

/// Frames in decode order on one thread (the tracker carries the face from frame to frame), the
/// per-face measures inline or, with `frame_threads` >= 2, on a second thread behind a short
/// queue.
fn in_order<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    ctx: &'scope FrameContext<'env>,
    rx: mpsc::Receiver<(usize, Frame)>,
) -> Worker<'scope> {
    let vision = ctx.vision;
    let two = ctx.sampling.frame_threads >= 2;
    let (tx_seen, rx_seen) = mpsc::sync_channel::<(Frame, Seen)>(4);
    let measures = two.then(|| {
        scope.spawn(move || -> Result<_, VisionError> {
            let mut out = Vec::new();
            let mut times = ModelTimes::default();
            for (frame, seen) in rx_seen {
                out.push(finish(vision, &frame, seen, &mut times)?);
            }
            Ok((out, times))
        })
    });
    scope.spawn(move || -> Result<_, VisionError> {
        let mut out = Vec::new();
        let mut times = ModelTimes::default();
        let mut tracker = Tracker::new(vision, ctx.sampling.redetect_frames);
        for (index, frame) in rx {
            let seen = ctx.see(&frame.image, index, &mut tracker, &mut times)?;
            if two {
                // A closed queue means the measures failed: stop, their error wins.
                if tx_seen.send((frame, seen)).is_err() {
                    break;
                }
            } else {
                out.push(finish(vision, &frame, seen, &mut times)?);
            }
        }
        drop(tx_seen);
        if let Some(m) = measures {
            // A panic there is this thread's panic (reported as such by the caller).
            let (frames, more) = m.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            out = frames;
            times.detect_ms += more.detect_ms;
            times.landmarks_ms += more.landmarks_ms;
        }
        Ok((out, times))
    })
}

/// Frames shared out to `frame_threads` workers, each doing a frame's whole work (detectors,
/// mesh, per-face measures), the results put back in decode order. Only when every frame detects
/// (`redetect_frames` 1): then no frame depends on the one before it. The per-frame models keep a
/// session per worker (`vision.frame_model_sessions`), so the workers do not queue on them.
fn frame_parallel<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    ctx: &'scope FrameContext<'env>,
    rx: mpsc::Receiver<(usize, Frame)>,
) -> Worker<'scope> {
    // Each worker holds the receiver; when the last one stops (done or failed) it is dropped and
    // the decoder's next send fails, so a failure never leaves the decoder blocked.
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let workers: Vec<_> = (0..ctx.sampling.frame_threads.max(2))
        .map(|_| {
            let rx = rx.clone();
            scope.spawn(move || -> Result<_, VisionError> {
                let mut out = Vec::new();
                let mut times = ModelTimes::default();
                let mut tracker = Tracker::new(ctx.vision, 1);
                loop {
                    let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((index, frame)) = next else { break };
                    let seen = ctx.see(&frame.image, index, &mut tracker, &mut times)?;
                    out.push((index, finish(ctx.vision, &frame, seen, &mut times)?));
                }
                Ok((out, times))
            })
        })
        .collect();
    drop(rx);
    scope.spawn(move || -> Result<_, VisionError> {
        let mut all = Vec::new();
        let mut times = ModelTimes::default();
        let mut first_error = None;
        for w in workers {
            match w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
                Ok((frames, t)) => {
                    all.extend(frames);
                    times.detect_ms += t.detect_ms;
                    times.landmarks_ms += t.landmarks_ms;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        all.sort_by_key(|(i, _)| *i);
        Ok((all.into_iter().map(|(_, f)| f).collect(), times))
    })
}

/// Milliseconds spent per model stage.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ModelTimes {
    pub detect_ms: f64,
    pub landmarks_ms: f64,
}

/// Detects with one range and measures every detection (mesh, pose, quality).
fn faces_in(
    vision: &Vision,
    img: &image::RgbImage,
    range: Range,
    times: &mut ModelTimes,
) -> Result<Vec<Face>, VisionError> {
    let t0 = Instant::now();
    let dets = vision.detect(img, range)?;
    times.detect_ms += ms_since(t0);
    let t1 = Instant::now();
    let mut faces = Vec::with_capacity(dets.len());
    for det in dets {
        if let Some(face) = vision.analyze_detection(img, det, &AnalyzeOptions::MESH_ONLY)? {
            faces.push(face);
        }
    }
    times.landmarks_ms += ms_since(t1);
    Ok(faces)
}

/// The main face followed from the previous frame, without the detector: the mesh runs on the
/// previous frame's box; `None` when nothing is followed, a detection is due, or the mesh lost
/// the face (then this frame detects).
fn followed_face(
    vision: &Vision,
    img: &image::RgbImage,
    count_faces: bool,
    tracker: &mut Tracker,
    times: &mut ModelTimes,
) -> Result<Option<Face>, VisionError> {
    if count_faces || tracker.detection_due() {
        return Ok(None);
    }
    let t0 = Instant::now();
    let face = match tracker.follow(vision, img)? {
        Some((mesh, det)) => {
            let thumb = vision.thumbnail(img);
            Some(vision.measure_mesh(img, &thumb, det, mesh, &AnalyzeOptions::MESH_ONLY)?)
        }
        None => None,
    };
    times.landmarks_ms += ms_since(t0);
    Ok(face)
}

/// What the detectors and the mesh saw in one frame, before the per-face measures.
struct Seen {
    faces: Vec<Face>,
    faces_short: Option<usize>,
    faces_full: Option<usize>,
}

/// Detectors and meshes of one frame: the followed main face, or every short-range face and,
/// on face-count frames (or when the short range sees nothing), the full-range count.
fn see(
    vision: &Vision,
    img: &image::RgbImage,
    count_faces: bool,
    second_face_min_relative_area: f64,
    tracker: &mut Tracker,
    times: &mut ModelTimes,
) -> Result<Seen, VisionError> {
    if let Some(face) = followed_face(vision, img, count_faces, tracker, times)? {
        tracker.followed(&face.detection);
        return Ok(Seen {
            faces: vec![face],
            faces_short: None,
            faces_full: None,
        });
    }
    let mut faces = faces_in(vision, img, Range::Short, times)?;
    // The full-range pass also runs wherever the short-range one found nothing: small or far
    // faces are its range.
    let faces_full = if count_faces || faces.is_empty() {
        let full = faces_in(vision, img, Range::Full, times)?;
        let counted = count_large(&full, second_face_min_relative_area);
        if faces.is_empty() {
            // The short-range detector missed a face the full-range one found: use it.
            faces = full;
        }
        Some(counted)
    } else {
        None
    };
    let faces_short = Some(count_large(&faces, second_face_min_relative_area));
    match faces.iter().max_by(|a, b| a.area().total_cmp(&b.area())) {
        Some(main) => tracker.detected(&main.mesh, &main.detection),
        None => tracker.drop_track(),
    }
    Ok(Seen {
        faces,
        faces_short,
        faces_full,
    })
}

/// The per-face measures of the largest face: iris, colours, nose position.
fn finish(
    vision: &Vision,
    frame: &Frame,
    seen: Seen,
    times: &mut ModelTimes,
) -> Result<FrameObs, VisionError> {
    let img = &frame.image;
    let face = match seen
        .faces
        .into_iter()
        .max_by(|a, b| a.area().total_cmp(&b.area()))
    {
        Some(f) => {
            let t0 = Instant::now();
            // One eye per frame: blinks close both, and the iris model is the costliest per-frame
            // call (two eyes took as long as detection and mesh together).
            let (eye, _) = vision.iris_model().run_larger(img, &f.mesh)?;
            times.landmarks_ms += ms_since(t0);
            let openness = observation::iris_openness(&eye);
            Some(face_obs(img, f, openness))
        }
        None => None,
    };
    Ok(FrameObs {
        t: frame.pts_seconds,
        face,
        faces_short: seen.faces_short,
        faces_full: seen.faces_full,
    })
}

fn nose_position(det: &faceproof_vision::Detection) -> Option<f64> {
    use faceproof_vision::detector::kp;
    let k = |i: usize| {
        let p = det.keypoints[i];
        (f64::from(p.x), f64::from(p.y))
    };
    let (r, l, n) = (k(kp::RIGHT_EYE), k(kp::LEFT_EYE), k(kp::NOSE));
    let (dx, dy) = (l.0 - r.0, l.1 - r.1);
    let len2 = dx * dx + dy * dy;
    (len2 > 1.0).then(|| ((n.0 - r.0) * dx + (n.1 - r.1) * dy) / len2)
}

/// Faces at least `min_relative` of the largest one's area.
fn count_large(faces: &[Face], min_relative: f64) -> usize {
    let Some(largest) = faces.iter().map(Face::area).reduce(f32::max) else {
        return 0;
    };
    faces
        .iter()
        .filter(|f| f64::from(f.area()) >= min_relative * f64::from(largest))
        .count()
}

fn face_obs(img: &image::RgbImage, face: Face, openness: Option<f64>) -> FaceObs {
    let points = observation::mesh_points(&face);
    let colours = regions::face_colours(img, &points);
    let nose_position = nose_position(&face.detection);
    FaceObs {
        nose_position,
        points,
        quality: face.quality,
        colours,
        openness,
    }
}
