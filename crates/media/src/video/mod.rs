//! Videos through FFmpeg: probe (demux only) and decode to upright RGB frames.
//!
//! Every decode first demuxes the whole file (cheap: no pixels) to learn the exact frame count and
//! timestamps, so frame, duration and truncation limits are enforced before any frame is decoded,
//! and sampling is exact even for variable-frame-rate phone videos. A caller that validates first
//! and decodes later ([`demux_video`], then [`DemuxedVideo::decode_with`]) demuxes once.

mod convert;
mod io;

use crate::info::{MediaInfo, MediaKind, Warning};
use crate::plan::{AnalysisFrames, Frame, FrameRole, FullFrames, SamplingPlan};
use crate::sniff::{Sniffed, sniff};
use crate::{Limits, MediaError};
use ffmpeg_next::codec::{self, Id, packet::side_data::Type as SideDataType};
use ffmpeg_next::ffi::*;
use ffmpeg_next::{Packet, frame, media};
use io::MemInput;
use std::ffi::{CStr, c_int};
use std::time::{Duration, Instant};

pub(crate) use io::ensure_init;

/// What a streaming decode delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSummary {
    /// Facts from the demuxing pass (exact frame count, duration, real fps) and warnings.
    pub info: MediaInfo,
    /// Frames the decoder produced.
    pub frames_decoded: u64,
    /// Packets the decoder reported as damaged (tolerated up to `Limits::max_decode_errors`).
    pub decode_errors: u32,
    /// Frames delivered at analysis size.
    pub analysis_frames: u64,
    /// Frames delivered at full resolution.
    pub full_frames: u64,
    /// Wall-clock time of the whole call, in seconds.
    pub elapsed_seconds: f64,
}

/// A collected decode: the frames the plan asked for, in presentation order.
#[derive(Debug, Clone)]
pub struct DecodedVideo {
    pub info: MediaInfo,
    /// Frames at analysis size (long side `analysis_long_side`), upright.
    pub analysis: Vec<Frame>,
    /// Frames at full resolution, upright.
    pub full: Vec<Frame>,
    pub frames_decoded: u64,
    pub decode_errors: u32,
    pub elapsed_seconds: f64,
}

/// Reads a video's facts without decoding pixels: container, codec, size, rotation, fps (declared
/// and measured), duration and frame count (from every packet), audio presence.
///
/// Refuses what can be refused without decoding (size, container, codec, dimensions, frame count,
/// too long, truncated, timeout). A too-short clip is reported as [`Warning::TooShort`].
pub fn probe_video(bytes: &[u8], limits: &Limits) -> Result<MediaInfo, MediaError> {
    let deadline = deadline(limits);
    Ok(scan(bytes, limits, deadline, false)?.info)
}

/// A video demuxed once: the facts [`probe_video`] reports, plus the packets and the decoder a
/// decode needs, so validating a video and then decoding it reads the container once.
pub struct DemuxedVideo {
    scan: Scan,
    started: Instant,
    /// `Limits::decode_timeout_seconds` from the start of the demux: one budget for both passes.
    deadline: Instant,
}

/// Demuxes a video, refusing as [`probe_video`] does, and keeps what the decode needs.
pub fn demux_video(bytes: &[u8], limits: &Limits) -> Result<DemuxedVideo, MediaError> {
    let started = Instant::now();
    let deadline = deadline(limits);
    let scan = scan(bytes, limits, deadline, true)?;
    Ok(DemuxedVideo {
        scan,
        started,
        deadline,
    })
}

impl DemuxedVideo {
    /// The video's facts, as [`probe_video`] gives them.
    pub fn info(&self) -> &MediaInfo {
        &self.scan.info
    }

    /// [`decode_video_with`] over the packets already demuxed. `limits` are the demux's.
    pub fn decode_with<F>(
        self,
        plan: &SamplingPlan,
        limits: &Limits,
        sink: F,
    ) -> Result<VideoSummary, MediaError>
    where
        F: FnMut(FrameRole, Frame) -> Result<(), MediaError>,
    {
        decode_demuxed(self, plan, limits, None, sink)
    }
}

/// Decodes a video and returns the frames `plan` selects, refusing as [`probe_video`] does and
/// also when it is shorter than `Limits::min_duration_seconds`, when decoding fails, or when the
/// frames would exceed `Limits::max_output_bytes`.
pub fn decode_video(
    bytes: &[u8],
    plan: &SamplingPlan,
    limits: &Limits,
) -> Result<DecodedVideo, MediaError> {
    let mut analysis = Vec::new();
    let mut full = Vec::new();
    let mut used: u64 = 0;
    let limit = limits.max_output_bytes;
    let demuxed = demux_video(bytes, limits)?;
    let summary = decode_demuxed(demuxed, plan, limits, Some(limit), |role, frame| {
        used += frame.image.as_raw().len() as u64;
        if used > limit {
            return Err(MediaError::OutputTooLarge { bytes: used, limit });
        }
        match role {
            FrameRole::Analysis => analysis.push(frame),
            FrameRole::Full => full.push(frame),
        }
        Ok(())
    })?;
    Ok(DecodedVideo {
        info: summary.info,
        analysis,
        full,
        frames_decoded: summary.frames_decoded,
        decode_errors: summary.decode_errors,
        elapsed_seconds: summary.elapsed_seconds,
    })
}

/// Like [`decode_video`], but hands each selected frame to `sink` as soon as it is decoded
/// (presentation order; a full-resolution frame follows the analysis frame of the same time), so
/// the caller holds only what it keeps. An error from `sink` stops the decode and is returned.
pub fn decode_video_with<F>(
    bytes: &[u8],
    plan: &SamplingPlan,
    limits: &Limits,
    sink: F,
) -> Result<VideoSummary, MediaError>
where
    F: FnMut(FrameRole, Frame) -> Result<(), MediaError>,
{
    demux_video(bytes, limits)?.decode_with(plan, limits, sink)
}

fn deadline(limits: &Limits) -> Instant {
    let budget = Duration::try_from_secs_f64(limits.decode_timeout_seconds.max(0.0))
        .unwrap_or(Duration::from_secs(86_400));
    Instant::now() + budget
}

/// The demuxing pass: facts, exact timestamps, and (when decoding) the packets and a decoder
/// context.
struct Scan {
    info: MediaInfo,
    rotation: u32,
    time_base: f64,
    time_base_q: ffmpeg_next::Rational,
    first_ts: i64,
    /// Presentation timestamps of every video packet, sorted (stream time-base units).
    sorted_ts: Vec<i64>,
    /// Median frame interval in time-base units (at least 1).
    median_delta: i64,
    /// Every shown packet carries its own presentation timestamp, all distinct: a frame's rank
    /// in presentation order is then known from its packet before decoding (see `Skipping`).
    pts_exact: bool,
    packets: Vec<Packet>,
    decoder: Option<(codec::Context, ffmpeg_next::Codec)>,
}

fn timeout(limits: &Limits) -> MediaError {
    MediaError::Timeout {
        seconds: limits.decode_timeout_seconds,
    }
}

fn check_video_input(bytes: &[u8], limits: &Limits) -> Result<(), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() as u64 > limits.max_video_bytes {
        return Err(MediaError::TooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_video_bytes,
        });
    }
    match sniff(bytes) {
        Sniffed::Image(f) => Err(MediaError::UnsupportedFormat {
            format: f.name().into(),
        }),
        Sniffed::UnsupportedImage(name) => Err(MediaError::UnsupportedFormat {
            format: name.into(),
        }),
        Sniffed::Other => Ok(()),
    }
}

fn check_dimensions(width: u32, height: u32, limits: &Limits) -> Result<(), MediaError> {
    if u64::from(width) * u64::from(height) > limits.max_video_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            limit: limits.max_video_pixels,
        });
    }
    if width > limits.max_video_width || height > limits.max_video_height {
        return Err(MediaError::DimensionsTooLarge {
            width,
            height,
            max_width: limits.max_video_width,
            max_height: limits.max_video_height,
        });
    }
    Ok(())
}

fn codec_name(id: Id) -> String {
    // SAFETY: FFmpeg returns a static string for every id.
    unsafe {
        let p = avcodec_get_name(id.into());
        if p.is_null() {
            "unknown".into()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

fn find_decoder(id: Id) -> Option<ffmpeg_next::Codec> {
    if id == Id::AV1 {
        // FFmpeg 5.1's own AV1 decoder needs hardware; dav1d decodes in software.
        if let Some(c) = codec::decoder::find_by_name("libdav1d") {
            return Some(c);
        }
    }
    codec::decoder::find(id)
}

/// Clockwise degrees that make the picture upright, from the stream's display matrix, as the
/// ffmpeg CLI's autorotate computes them.
fn rotation_of(stream: &ffmpeg_next::format::stream::Stream) -> (u32, Option<f64>) {
    for side in stream.side_data() {
        if side.kind() == SideDataType::DisplayMatrix && side.data().len() >= 36 {
            let mut matrix = [0i32; 9];
            for (i, m) in matrix.iter_mut().enumerate() {
                let b = &side.data()[i * 4..i * 4 + 4];
                *m = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            }
            // SAFETY: nine i32 values, as the function reads.
            let angle = unsafe { av_display_rotation_get(matrix.as_ptr()) };
            if !angle.is_finite() {
                return (0, None);
            }
            let theta = (-angle.round()).rem_euclid(360.0);
            for r in [0u32, 90, 180, 270, 360] {
                if (theta - f64::from(r)).abs() < 1.0 {
                    return (r % 360, None);
                }
            }
            return (0, Some(theta));
        }
    }
    (0, None)
}

fn container_name(
    demuxer: &str,
    bytes: &[u8],
    input: &ffmpeg_next::format::context::Input,
) -> String {
    match demuxer {
        "matroska,webm" => {
            let head = &bytes[..bytes.len().min(64)];
            if head.windows(4).any(|w| w == b"webm") {
                "webm".into()
            } else {
                "matroska".into()
            }
        }
        "avi" => "avi".into(),
        _ => match input.metadata().get("major_brand") {
            Some(b) if b.starts_with("qt") => "mov".into(),
            _ => "mp4".into(),
        },
    }
}

fn scan(
    bytes: &[u8],
    limits: &Limits,
    deadline: Instant,
    for_decoding: bool,
) -> Result<Scan, MediaError> {
    check_video_input(bytes, limits)?;
    let mut mem = MemInput::open(bytes, limits, deadline)?;
    let container = container_name(mem.demuxer, bytes, mem.input());

    // The video stream with the most pixels; cover art is not video.
    let pick = |input: &ffmpeg_next::format::context::Input| {
        let mut best: Option<(usize, u64)> = None;
        let mut has_audio = false;
        for s in input.streams() {
            let p = s.parameters();
            match p.medium() {
                media::Type::Audio => has_audio = true,
                media::Type::Video => {
                    if s.disposition()
                        .contains(ffmpeg_next::format::stream::Disposition::ATTACHED_PIC)
                    {
                        continue;
                    }
                    // SAFETY: reading plain codec parameter fields.
                    let (w, h) = unsafe { ((*p.as_ptr()).width, (*p.as_ptr()).height) };
                    let px = u64::from(w.max(0) as u32) * u64::from(h.max(0) as u32);
                    if best.is_none_or(|(_, b)| px > b) {
                        best = Some((s.index(), px));
                    }
                }
                _ => {}
            }
        }
        (best.map(|b| b.0), has_audio)
    };
    let (index, _) = pick(mem.input());
    let index = index.ok_or(MediaError::NoVideoStream)?;
    let header = |input: &ffmpeg_next::format::context::Input| {
        let s = input.stream(index).expect("index from this input");
        let p = s.parameters();
        // SAFETY: reading plain codec parameter fields.
        let (w, h, f) = unsafe {
            let p = p.as_ptr();
            ((*p).width, (*p).height, (*p).format)
        };
        (p.id(), w.max(0) as u32, h.max(0) as u32, f)
    };
    let (id, w, h, _) = header(mem.input());
    let codec = codec_name(id);
    if !limits.video_codecs.contains(&codec) {
        return Err(MediaError::UnsupportedCodec { codec });
    }
    if w > 0 && h > 0 {
        check_dimensions(w, h, limits)?;
    }

    mem.find_stream_info(limits)?;
    let (index2, has_audio) = pick(mem.input());
    if index2 != Some(index) {
        return Err(MediaError::corrupt(
            "the video stream changed during analysis",
        ));
    }
    let (id, width, height, format) = header(mem.input());
    if width == 0 || height == 0 {
        return Err(MediaError::corrupt(
            "the video stream declares no frame size",
        ));
    }
    check_dimensions(width, height, limits)?;
    let decoder_codec = find_decoder(id).ok_or_else(|| MediaError::UnsupportedCodec {
        codec: codec.clone(),
    })?;

    let (rotation, odd_rotation, tb, time_base, declared_frames, fps, decoder) = {
        let stream = mem.input().stream(index).expect("index from this input");
        let (rotation, odd_rotation) = rotation_of(&stream);
        let tb = stream.time_base();
        if tb.numerator() <= 0 || tb.denominator() <= 0 {
            return Err(MediaError::corrupt(
                "the video stream has no valid time base",
            ));
        }
        let time_base = f64::from(tb.numerator()) / f64::from(tb.denominator());
        let declared_frames = stream.frames().max(0) as u64;
        let avg = stream.avg_frame_rate();
        let fps = (avg.numerator() > 0 && avg.denominator() > 0)
            .then(|| f64::from(avg.numerator()) / f64::from(avg.denominator()));
        let decoder = if for_decoding {
            let ctx = codec::Context::from_parameters(stream.parameters())
                .map_err(|e| MediaError::corrupt(format!("unusable codec parameters: {e}")))?;
            Some((ctx, decoder_codec))
        } else {
            None
        };
        (
            rotation,
            odd_rotation,
            tb,
            time_base,
            declared_frames,
            fps,
            decoder,
        )
    };

    // Demux every packet: exact count and timestamps, truncation, limits, before decoding.
    let mut packets = Vec::new();
    let mut stamps: Vec<i64> = Vec::new();
    let mut count: u64 = 0;
    let mut presented: u64 = 0;
    let mut damaged: u64 = 0;
    let mut min_ts = i64::MAX;
    let mut pts_exact = true;
    let max_ts_span = limits.max_duration_seconds / time_base;
    loop {
        if Instant::now() >= deadline {
            return Err(timeout(limits));
        }
        let mut packet = Packet::empty();
        match packet.read(mem.input()) {
            Ok(()) => {}
            Err(ffmpeg_next::Error::Eof) => break,
            Err(e) => {
                return Err(if mem.timed_out() {
                    timeout(limits)
                } else {
                    MediaError::corrupt(format!("demuxing stopped after {count} video frames: {e}"))
                });
            }
        }
        if packet.stream() != index {
            continue;
        }
        count += 1;
        if count > limits.max_frames {
            return Err(MediaError::TooManyFrames {
                frames: count,
                limit: limits.max_frames,
            });
        }
        if packet.is_corrupt() {
            damaged += 1;
        }
        // Packets an edit list cuts away are decoded (later frames may refer to them) but never
        // shown: they are not frames of the clip.
        // SAFETY: reading the flags of a packet just read.
        let discarded = unsafe {
            (*ffmpeg_next::packet::Ref::as_ptr(&packet)).flags & AV_PKT_FLAG_DISCARD != 0
        };
        if !discarded {
            presented += 1;
        }
        if !discarded && packet.pts().is_none() {
            pts_exact = false;
        }
        if !discarded && let Some(ts) = packet.pts().or(packet.dts()) {
            stamps.push(ts);
            min_ts = min_ts.min(ts);
            let span = ts.saturating_sub(min_ts) as f64;
            if span > max_ts_span {
                return Err(MediaError::TooLong {
                    seconds: span * time_base,
                    max: limits.max_duration_seconds,
                });
            }
        }
        if for_decoding {
            packets.push(packet);
        }
    }
    if count == 0 {
        return Err(MediaError::corrupt("the video stream holds no frames"));
    }
    // MP4/MOV sample tables are exact; AVI headers are often off by one and Matroska declares none.
    if mem.demuxer.starts_with("mov") && declared_frames > count {
        return Err(MediaError::corrupt(format!(
            "truncated: the header announces {declared_frames} frames, {count} are present"
        )));
    }
    if damaged > 0 {
        return Err(MediaError::corrupt(format!(
            "truncated: {damaged} video packets are cut short"
        )));
    }
    if stamps.is_empty() {
        return Err(MediaError::corrupt(
            "the video frames carry no timestamps, or none is meant to be shown",
        ));
    }
    stamps.sort_unstable();
    let pts_exact = pts_exact && stamps.windows(2).all(|w| w[0] < w[1]);
    let mut deltas: Vec<i64> = stamps
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|d| *d > 0)
        .collect();
    deltas.sort_unstable();
    let median_delta = if deltas.is_empty() {
        match fps {
            Some(f) => ((1.0 / f) / time_base).round().max(1.0) as i64,
            None => 1,
        }
    } else {
        deltas[deltas.len() / 2].max(1)
    };
    let first_ts = stamps[0];
    let last_ts = *stamps.last().expect("not empty");
    let span_ts = last_ts.saturating_sub(first_ts);
    let duration = to_seconds(span_ts.saturating_add(median_delta), tb);
    if duration > limits.max_duration_seconds {
        return Err(MediaError::TooLong {
            seconds: duration,
            max: limits.max_duration_seconds,
        });
    }
    let fps_real = (stamps.len() > 1 && span_ts > 0).then(|| {
        (stamps.len() - 1) as f64 * f64::from(tb.denominator())
            / (span_ts as f64 * f64::from(tb.numerator()))
    });
    let variable = !deltas.is_empty()
        && deltas
            .iter()
            .any(|d| (d - median_delta).abs() as f64 > 0.2 * median_delta as f64);

    let mut warnings = Vec::new();
    if let Some(degrees) = odd_rotation {
        warnings.push(Warning::OddRotation { degrees });
    }
    if width.min(height) < limits.min_video_short_side {
        warnings.push(Warning::LowResolution {
            width,
            height,
            min_width: limits.min_video_short_side,
            min_height: limits.min_video_short_side,
        });
    }
    if let Some(f) = fps_real.or(fps)
        && f < limits.min_video_fps
    {
        warnings.push(Warning::LowFrameRate {
            fps: f,
            min: limits.min_video_fps,
        });
    }
    if duration + 1e-3 < limits.min_duration_seconds {
        warnings.push(Warning::TooShort {
            seconds: duration,
            min: limits.min_duration_seconds,
        });
    }
    // SAFETY: `format` is the stream's pixel format value, valid as an enum value or -1 (none).
    let pixel_format = (format >= 0).then(|| {
        convert::pixel_name(unsafe { std::mem::transmute::<c_int, AVPixelFormat>(format) })
    });
    let info = MediaInfo {
        kind: MediaKind::Video,
        container,
        codec,
        width,
        height,
        rotation,
        mirrored: false,
        fps,
        fps_real,
        variable_frame_rate: Some(variable),
        duration_seconds: Some(duration),
        frames: Some(presented),
        has_audio,
        pixel_format,
        bytes: bytes.len() as u64,
        warnings,
    };
    Ok(Scan {
        info,
        rotation,
        time_base,
        time_base_q: tb,
        first_ts,
        sorted_ts: stamps,
        median_delta,
        pts_exact,
        packets,
        decoder,
    })
}

/// A timestamp difference in seconds, dividing last so exact values (0.04 s at 1/15360) stay exact.
fn to_seconds(ts: i64, tb: ffmpeg_next::Rational) -> f64 {
    ts as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator())
}

/// Size of an analysis frame: long side at most `long`, aspect kept, never upscaled.
fn analysis_size(width: u32, height: u32, long: u32) -> (u32, u32) {
    let current = width.max(height);
    if long == 0 || current <= long {
        return (width, height);
    }
    let scale = f64::from(long) / f64::from(current);
    let w = ((f64::from(width) * scale).round() as u32).max(1);
    let h = ((f64::from(height) * scale).round() as u32).max(1);
    (w, h)
}

/// Which decoded frames are converted, decided from the exact timestamps of the demuxing pass.
struct Selection {
    analysis_stride: u64,
    analysis_cap: u64,
    /// For `AtMost`: the frame indices to deliver, evenly spread over the exact frame count.
    analysis_indices: Option<Vec<u64>>,
    analysis_long: u32,
    full_stride: u64,
    /// Timestamps (time-base units) to deliver at full resolution, each at most once.
    full_targets: Vec<(i64, bool)>,
    full_cap: u64,
    tolerance: i64,
    /// Frames presented at or after this timestamp (time-base units) are not delivered, and
    /// decoding stops at the first one output; `i64::MAX` when the plan has no window.
    window_end_ts: i64,
    /// Frames of the clip inside the window (every frame without one).
    window_frames: u64,
}

impl Selection {
    fn new(scan: &Scan, plan: &SamplingPlan, limits: &Limits) -> Self {
        let window_end_ts = match plan.window_seconds {
            Some(w) if w.is_finite() && w > 0.0 => {
                let end = scan.first_ts as f64 + w / scan.time_base;
                if end >= i64::MAX as f64 {
                    i64::MAX
                } else {
                    end.ceil() as i64
                }
            }
            Some(_) => scan.first_ts,
            None => i64::MAX,
        };
        let in_window = scan.sorted_ts.partition_point(|t| *t < window_end_ts) as u64;
        let window_frames = if window_end_ts == i64::MAX {
            scan.info.frames.unwrap_or(0)
        } else {
            in_window
        };
        let frames = window_frames.max(1);
        let (analysis_stride, analysis_cap) = match plan.analysis {
            AnalysisFrames::None => (0, 0),
            AnalysisFrames::All => (1, u64::MAX),
            AnalysisFrames::EveryNth(n) => (u64::from(n.max(1)), u64::MAX),
            AnalysisFrames::AtMost(0) => (0, 0),
            AnalysisFrames::AtMost(n) => (1, u64::from(n).min(frames)),
        };
        let analysis_indices = match plan.analysis {
            AnalysisFrames::AtMost(n) if n > 0 => {
                let n = u64::from(n).min(frames);
                Some((0..n).map(|j| j * frames / n).collect())
            }
            _ => None,
        };
        let full_cap = u64::from(limits.max_full_frames);
        let nearest = |target: f64| -> i64 {
            let ts = &scan.sorted_ts;
            let i = ts.partition_point(|t| (*t as f64) < target);
            let candidates = [i.checked_sub(1), (i < ts.len()).then_some(i)];
            candidates
                .into_iter()
                .flatten()
                .map(|j| ts[j])
                .min_by(|a, b| {
                    (*a as f64 - target)
                        .abs()
                        .total_cmp(&(*b as f64 - target).abs())
                })
                .unwrap_or(scan.first_ts)
        };
        let mut targets: Vec<i64> = Vec::new();
        let mut full_stride = 0;
        match &plan.full {
            FullFrames::None => {}
            FullFrames::EveryNth(k) => full_stride = u64::from((*k).max(1)),
            FullFrames::AtTimestamps(times) => {
                for t in times.iter().filter(|t| t.is_finite()) {
                    targets.push(nearest(scan.first_ts as f64 + t / scan.time_base));
                }
            }
            FullFrames::Evenly(n) => {
                let n = u64::from(*n).min(full_cap).min(frames);
                let first = scan.first_ts as f64;
                // The last frame inside the window (the clip's last without one).
                let last = scan
                    .sorted_ts
                    .get((in_window as usize).max(1) - 1)
                    .copied()
                    .unwrap_or(scan.first_ts) as f64;
                for j in 0..n {
                    let t = first + (last - first) * (2 * j + 1) as f64 / (2 * n) as f64;
                    targets.push(nearest(t));
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        targets.retain(|t| *t < window_end_ts && seen.insert(*t));
        targets.truncate(full_cap as usize);
        Selection {
            analysis_stride,
            analysis_cap,
            analysis_indices,
            analysis_long: plan.analysis_long_side.unwrap_or(limits.analysis_long_side),
            full_stride,
            full_targets: targets.into_iter().map(|t| (t, false)).collect(),
            full_cap,
            tolerance: scan.median_delta / 2,
            window_end_ts,
            window_frames,
        }
    }

    /// Whether a frame presented at `ts` lies past the window.
    fn past_window(&self, ts: i64) -> bool {
        ts >= self.window_end_ts
    }

    /// Bytes of RGB output this selection will produce for frames of the given size.
    fn output_bytes(&self, frames: u64, width: u32, height: u32) -> u64 {
        let analysis = if self.analysis_stride == 0 {
            0
        } else {
            frames.div_ceil(self.analysis_stride).min(self.analysis_cap)
        };
        let full = if self.full_stride > 0 {
            frames.div_ceil(self.full_stride).min(self.full_cap)
        } else {
            self.full_targets.len() as u64
        };
        let (aw, ah) = analysis_size(width, height, self.analysis_long);
        analysis * u64::from(aw) * u64::from(ah) * 3
            + full * u64::from(width) * u64::from(height) * 3
    }

    /// Whether the frame of presentation rank `rank` shown at `ts` is one the plan never takes:
    /// not an analysis frame (whatever the cap), near no full-resolution target, or past the
    /// window. Errs towards "wanted".
    fn never_wanted(&self, rank: u64, ts: i64) -> bool {
        if self.past_window(ts) {
            return true;
        }
        let analysis = self.analysis_stride != 0
            && match &self.analysis_indices {
                Some(indices) => indices.binary_search(&rank).is_ok(),
                None => rank.is_multiple_of(self.analysis_stride),
            };
        let full = if self.full_stride > 0 {
            rank.is_multiple_of(self.full_stride)
        } else {
            self.full_targets
                .iter()
                .any(|(t, _)| ts.saturating_sub(*t).abs() <= self.tolerance)
        };
        !analysis && !full
    }

    fn wants_analysis(&self, index: u64, delivered: u64) -> bool {
        if self.analysis_stride == 0 || delivered >= self.analysis_cap {
            return false;
        }
        match &self.analysis_indices {
            Some(indices) => indices.binary_search(&index).is_ok(),
            None => index.is_multiple_of(self.analysis_stride),
        }
    }

    fn wants_full(&mut self, index: u64, delivered: u64, ts: i64) -> bool {
        if delivered >= self.full_cap {
            return false;
        }
        if self.full_stride > 0 {
            return index.is_multiple_of(self.full_stride);
        }
        for (target, used) in self.full_targets.iter_mut() {
            if !*used && ts.saturating_sub(*target).abs() <= self.tolerance {
                *used = true;
                return true;
            }
        }
        false
    }
}

fn decode_demuxed<F>(
    demuxed: DemuxedVideo,
    plan: &SamplingPlan,
    limits: &Limits,
    output_limit: Option<u64>,
    mut sink: F,
) -> Result<VideoSummary, MediaError>
where
    F: FnMut(FrameRole, Frame) -> Result<(), MediaError>,
{
    let DemuxedVideo {
        mut scan,
        started,
        deadline,
    } = demuxed;
    let duration = scan.info.duration_seconds.unwrap_or(0.0);
    if duration + 1e-3 < limits.min_duration_seconds {
        return Err(MediaError::TooShort {
            seconds: duration,
            min: limits.min_duration_seconds,
        });
    }
    let mut selection = Selection::new(&scan, plan, limits);
    // The frames the decode is expected to produce: those of the window.
    let frames = selection.window_frames;
    if let Some(limit) = output_limit {
        let bytes = selection.output_bytes(frames, scan.info.width, scan.info.height);
        if bytes > limit {
            return Err(MediaError::OutputTooLarge { bytes, limit });
        }
    }

    let (mut ctx, codec) = scan.decoder.take().expect("scan for decoding");
    // SAFETY: setting plain fields of a context that is not open yet.
    unsafe {
        let c = ctx.as_mut_ptr();
        (*c).max_pixels = limits.max_video_pixels.min(i64::MAX as u64) as i64;
        (*c).thread_count = limits.threads.min(64) as c_int;
        (*c).thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
        (*c).pkt_timebase = scan.time_base_q.into();
    }
    let mut decoder = ctx
        .decoder()
        .open_as(codec)
        .and_then(|o| o.video())
        .map_err(|e| {
            MediaError::corrupt(format!(
                "the {} decoder refused the stream: {e}",
                scan.info.codec
            ))
        })?;

    let mut state = DecodeState {
        // The selection above was the last reader of the demux's timestamps: moved, not copied.
        ranks: (limits.skip_unused_frames && scan.pts_exact)
            .then(|| std::mem::take(&mut scan.sorted_ts)),
        limits,
        deadline,
        rotation: scan.rotation,
        time_base_q: scan.time_base_q,
        first_ts: scan.first_ts,
        median_delta: scan.median_delta,
        packets: scan.packets.len() as u64,
        decoded: 0,
        past_window: false,
        decoded_past_window: 0,
        errors: 0,
        last_ts: None,
        analysis_sent: 0,
        full_sent: 0,
        analysis_conv: convert::Converter::new(false),
        full_conv: convert::Converter::new(true),
        frame: frame::Video::empty(),
    };
    let packets = std::mem::take(&mut scan.packets);
    // Frames in the window the decoder was allowed to skip (it skips them only if non-reference).
    let mut skippable_in_window: u64 = 0;
    for packet in &packets {
        state.check_deadline()?;
        if let Some(sorted) = &state.ranks {
            let skip = packet_skippable(packet, sorted, &selection);
            if skip && packet.pts().is_some_and(|ts| !selection.past_window(ts)) {
                skippable_in_window += 1;
            }
            // SAFETY: a plain field of the open decoder's context, read per packet (frame
            // threads copy it from this context when the packet is handed to them).
            unsafe {
                (*decoder.as_mut_ptr()).skip_frame = if skip {
                    AVDiscard::AVDISCARD_NONREF
                } else {
                    AVDiscard::AVDISCARD_DEFAULT
                };
            }
        }
        match decoder.send_packet(packet) {
            Ok(()) => {}
            Err(ffmpeg_next::Error::Other { errno })
                if errno == ffmpeg_next::util::error::EAGAIN =>
            {
                state.drain(&mut decoder, &mut selection, &mut sink)?;
                if decoder.send_packet(packet).is_err() {
                    state.count_error()?;
                }
            }
            Err(ffmpeg_next::Error::Eof) => break,
            Err(_) => state.count_error()?,
        }
        state.drain(&mut decoder, &mut selection, &mut sink)?;
        if state.past_window {
            // Frames come out in presentation order: everything the plan wants is delivered.
            break;
        }
    }
    drop(packets);
    if !state.past_window {
        // Ignoring a failed EOF: draining still returns whatever the decoder holds.
        let _ = decoder.send_eof();
        state.drain(&mut decoder, &mut selection, &mut sink)?;
    }
    // Frames output past the window were decoded but are not frames of the window.
    let decoded_in_window = state.decoded - state.decoded_past_window;

    if state.decoded == 0 {
        return Err(MediaError::corrupt("no frame could be decoded"));
    }
    // A skipped non-reference frame is not a failed one.
    if decoded_in_window * 2 < frames.saturating_sub(skippable_in_window) {
        return Err(MediaError::corrupt(format!(
            "only {decoded_in_window} of {frames} frames could be decoded"
        )));
    }
    let mut info = scan.info;
    if state.errors > 0 {
        info.warnings.push(Warning::DecodeErrors {
            count: state.errors,
        });
    }
    let requested = if selection.full_stride > 0 {
        0
    } else {
        selection.full_targets.len() as u64
    };
    if state.full_sent < requested {
        info.warnings.push(Warning::MissingFullFrames {
            requested: requested as u32,
            delivered: state.full_sent as u32,
        });
    }
    Ok(VideoSummary {
        info,
        frames_decoded: state.decoded,
        decode_errors: state.errors,
        analysis_frames: state.analysis_sent,
        full_frames: state.full_sent,
        elapsed_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Whether the decoder may skip this packet's frame: shown (not cut by an edit list), and one the
/// plan never takes. The decoder then skips it only when no other frame refers to it
/// (`AVDISCARD_NONREF`), so every frame that is decoded comes out bit for bit as without
/// skipping. Phones' H.264 without B-frames has no such frame; a B-frame stream sampled at half
/// its rate can skip about half its frames (x264's default GOP: every non-reference B-frame sits
/// between two frames the plan takes).
fn packet_skippable(packet: &Packet, sorted: &[i64], selection: &Selection) -> bool {
    // SAFETY: reading the flags of a demuxed packet.
    let discarded =
        unsafe { (*ffmpeg_next::packet::Ref::as_ptr(packet)).flags & AV_PKT_FLAG_DISCARD != 0 };
    match packet.pts() {
        Some(ts) if !discarded => {
            let rank = sorted.partition_point(|t| *t < ts) as u64;
            selection.never_wanted(rank, ts)
        }
        _ => false,
    }
}

struct DecodeState<'l> {
    /// Presentation timestamps of every shown frame, sorted, when frames may be skipped: a
    /// frame's index is then its rank here (skipped frames are never output, so counting the
    /// output would shift every later index). `None`: the output count is the index.
    ranks: Option<Vec<i64>>,
    limits: &'l Limits,
    deadline: Instant,
    rotation: u32,
    time_base_q: ffmpeg_next::Rational,
    first_ts: i64,
    median_delta: i64,
    packets: u64,
    decoded: u64,
    /// Set once the decoder has output a frame past the plan's window: decoding stops there.
    past_window: bool,
    /// Frames output past the window (decoded ahead by reordering and frame threads).
    decoded_past_window: u64,
    errors: u32,
    last_ts: Option<i64>,
    analysis_sent: u64,
    full_sent: u64,
    analysis_conv: convert::Converter,
    full_conv: convert::Converter,
    frame: frame::Video,
}

impl DecodeState<'_> {
    fn check_deadline(&self) -> Result<(), MediaError> {
        if Instant::now() >= self.deadline {
            Err(timeout(self.limits))
        } else {
            Ok(())
        }
    }

    fn count_error(&mut self) -> Result<(), MediaError> {
        self.errors += 1;
        if self.errors > self.limits.max_decode_errors {
            return Err(MediaError::corrupt(format!(
                "the decoder failed on {} packets",
                self.errors
            )));
        }
        Ok(())
    }

    fn drain<F>(
        &mut self,
        decoder: &mut ffmpeg_next::decoder::Video,
        selection: &mut Selection,
        sink: &mut F,
    ) -> Result<(), MediaError>
    where
        F: FnMut(FrameRole, Frame) -> Result<(), MediaError>,
    {
        loop {
            self.check_deadline()?;
            match decoder.receive_frame(&mut self.frame) {
                Ok(()) => self.deliver(selection, sink)?,
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(ffmpeg_next::Error::Other { errno })
                    if errno == ffmpeg_next::util::error::EAGAIN =>
                {
                    return Ok(());
                }
                Err(_) => self.count_error()?,
            }
        }
    }

    fn deliver<F>(&mut self, selection: &mut Selection, sink: &mut F) -> Result<(), MediaError>
    where
        F: FnMut(FrameRole, Frame) -> Result<(), MediaError>,
    {
        let output_index = self.decoded;
        self.decoded += 1;
        if self.decoded > self.packets.saturating_mul(2) + 16 {
            return Err(MediaError::corrupt(format!(
                "the decoder produced {} frames from {} packets",
                self.decoded, self.packets
            )));
        }
        let (w, h) = (self.frame.width(), self.frame.height());
        check_dimensions(w, h, self.limits)?;
        let ts = match self.frame.timestamp() {
            Some(ts) => ts,
            None => self
                .last_ts
                .map_or(self.first_ts, |t| t.saturating_add(self.median_delta)),
        };
        self.last_ts = Some(ts);
        let index = match &self.ranks {
            Some(sorted) => sorted.partition_point(|t| *t < ts) as u64,
            None => output_index,
        };
        if selection.past_window(ts) {
            self.past_window = true;
            self.decoded_past_window += 1;
            return Ok(());
        }
        let pts_seconds = to_seconds(ts.saturating_sub(self.first_ts), self.time_base_q);

        if selection.wants_analysis(index, self.analysis_sent) {
            let (aw, ah) = analysis_size(w, h, selection.analysis_long);
            let image = self
                .analysis_conv
                .convert(&self.frame, aw, ah, self.rotation)?;
            self.analysis_sent += 1;
            sink(FrameRole::Analysis, Frame { pts_seconds, image })?;
        }
        if selection.wants_full(index, self.full_sent, ts) {
            let image = self.full_conv.convert(&self.frame, w, h, self.rotation)?;
            self.full_sent += 1;
            sink(FrameRole::Full, Frame { pts_seconds, image })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_size_keeps_aspect_and_never_upscales() {
        assert_eq!(analysis_size(1920, 1080, 640), (640, 360));
        assert_eq!(analysis_size(1080, 1920, 640), (360, 640));
        assert_eq!(analysis_size(320, 240, 640), (320, 240));
        assert_eq!(analysis_size(368, 656, 640), (359, 640));
        assert_eq!(analysis_size(10000, 1, 640), (640, 1));
    }
}
