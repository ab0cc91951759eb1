//! [`ClientTelemetry`]: what only the capturing browser can report, read as evidence of an
//! injected stream (a virtual camera, an automated browser, a replaced track). A client can lie
//! about all of it, so it is never a decision on its own: it adds `injection_suspected` for a
//! reviewer, and names the attack when the video itself fails.

use super::StepShown;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::marker::PhantomData;

/// Longest string field accepted, characters (a camera label or a user agent is far shorter).
pub const MAX_STRING_CHARS: usize = 512;
/// Most events accepted (a capture of a few seconds has a handful).
pub const MAX_EVENTS: usize = 256;
/// Most challenge-log entries accepted (a challenge has at most a few dozen steps).
pub const MAX_LOG_ENTRIES: usize = 64;

/// The telemetry the capture SDK uploads with a recording. Every field is optional; unknown fields
/// are ignored (newer SDKs may send more); strings and lists are bounded
/// ([`MAX_STRING_CHARS`], [`MAX_EVENTS`], [`MAX_LOG_ENTRIES`]): longer ones are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientTelemetry {
    #[serde(deserialize_with = "bounded_string")]
    pub sdk_version: Option<String>,
    pub camera: Option<CameraTelemetry>,
    pub frames: Option<FrameTelemetry>,
    #[serde(deserialize_with = "bounded_list::<_, MAX_EVENTS, _>")]
    pub events: Vec<TelemetryEvent>,
    pub webdriver: Option<bool>,
    #[serde(deserialize_with = "bounded_string")]
    pub user_agent: Option<String>,
    pub recording: Option<RecordingTelemetry>,
    /// When each challenge step appeared, ms since the recording started.
    #[serde(deserialize_with = "bounded_list::<_, MAX_LOG_ENTRIES, _>")]
    pub challenge_log: Vec<StepShown>,
}

/// The camera track as the browser reported it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CameraTelemetry {
    #[serde(deserialize_with = "bounded_string")]
    pub label: Option<String>,
    #[serde(deserialize_with = "bounded_string")]
    pub facing_mode: Option<String>,
    pub requested: Option<CameraSettings>,
    pub actual: Option<CameraSettings>,
}

/// Width, height and frame rate (requested constraints or the track's actual settings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CameraSettings {
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub frame_rate: Option<f64>,
}

/// Frame timing as `requestVideoFrameCallback` saw it during the recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FrameTelemetry {
    pub count: Option<f64>,
    pub mean_interval_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub dropped: Option<f64>,
    pub max_gap_ms: Option<f64>,
}

/// A track or page event during the capture.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TelemetryEvent {
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Milliseconds since the recording started (negative: before it).
    #[serde(default)]
    pub at_ms: Option<f64>,
}

/// Kinds of events; unknown kinds are kept as `Other` and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    DeviceChange,
    TrackMute,
    TrackUnmute,
    TrackEnded,
    VisibilityHidden,
    #[serde(other)]
    Other,
}

/// The recording as the SDK made it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordingTelemetry {
    #[serde(deserialize_with = "bounded_string")]
    pub mime_type: Option<String>,
    pub started_at_ms: Option<f64>,
    pub duration_ms: Option<f64>,
}

/// Thresholds of the telemetry's injection cues (`[engine.challenge.telemetry]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Lower-case words or phrases of virtual-camera and capture-tool device names. One-word
    /// entries match a whole word of the label (so "obs" does not match "Obsbot"... it does
    /// match "OBS Virtual Camera").
    pub virtual_camera_names: Vec<String>,
    /// Camera-reported (or frame-timing) frame rate over the media's, or its inverse, above which
    /// the stream is not what the camera delivered. A webcam's 30 fps recorded as 15 fps
    /// variable-rate media is 2.0; 2.5 leaves that room.
    pub max_frame_rate_ratio: f64,
    /// Frame-interval jitter (ms) below which the timing is too regular for a camera seen
    /// through the browser's frame callbacks (vsync and scheduling alone give ~1 ms); synthetic
    /// frames pushed by a script or a file-fed fake device tick exactly.
    pub min_jitter_ms: f64,
    /// Frames the jitter must be measured over to count.
    pub min_frames_for_jitter: f64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            virtual_camera_names: [
                "virtual",
                "obs",
                "manycam",
                "snap camera",
                "droidcam",
                "xsplit",
                "splitcam",
                "e2esoft",
                "vcam",
                "camtwist",
                "iriun",
                "epoccam",
                "ndi",
                "youcam",
                "fake",
                "dummy",
                "v4l2loopback",
                "loopback",
            ]
            .map(String::from)
            .to_vec(),
            max_frame_rate_ratio: 2.5,
            min_jitter_ms: 0.05,
            min_frames_for_jitter: 30.0,
        }
    }
}

/// One piece of evidence of an injected stream, with what was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InjectionCue {
    /// The measurement's name, as the reason carries it.
    pub measure: &'static str,
    pub value: f64,
    pub threshold: f64,
}

impl ClientTelemetry {
    /// Every injection cue in the telemetry; `media_fps` is the uploaded media's real frame rate.
    pub fn injection_cues(
        &self,
        media_fps: Option<f64>,
        cfg: &TelemetryConfig,
    ) -> Vec<InjectionCue> {
        let mut cues = Vec::new();
        let mut cue = |measure, value, threshold| {
            cues.push(InjectionCue {
                measure,
                value,
                threshold,
            })
        };
        if let Some(label) = self.camera.as_ref().and_then(|c| c.label.as_deref()) {
            if is_virtual_camera(label, &cfg.virtual_camera_names) {
                cue("camera_label_virtual", 1.0, 0.0);
            }
            if is_file_path(label) {
                cue("camera_label_file_path", 1.0, 0.0);
            }
        }
        if self.webdriver == Some(true) {
            cue("navigator_webdriver", 1.0, 0.0);
        }
        let duration = self.recording.as_ref().and_then(|r| r.duration_ms);
        let during = |at: Option<f64>| match (at, duration) {
            (Some(t), Some(d)) => t >= 0.0 && t <= d,
            (Some(t), None) => t >= 0.0,
            // An event without a time: it happened during the capture session.
            (None, _) => true,
        };
        let swaps = self
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::TrackEnded | EventKind::DeviceChange | EventKind::TrackMute
                ) && during(e.at_ms)
            })
            .count();
        if swaps > 0 {
            cue("track_events_during_recording", swaps as f64, 0.0);
        }
        if let Some(media) = media_fps.filter(|f| f.is_finite() && *f > 0.0) {
            let reported = self
                .camera
                .as_ref()
                .and_then(|c| c.actual.and_then(|a| a.frame_rate))
                .or_else(|| {
                    self.frames
                        .and_then(|f| f.mean_interval_ms)
                        .filter(|m| *m > 0.0)
                        .map(|m| 1000.0 / m)
                })
                .filter(|f| f.is_finite() && *f > 0.0);
            if let Some(r) = reported {
                let ratio = (r / media).max(media / r);
                if ratio > cfg.max_frame_rate_ratio {
                    cue(
                        "camera_to_media_frame_rate_ratio",
                        ratio,
                        cfg.max_frame_rate_ratio,
                    );
                }
            }
        }
        let timing = self.frames.and_then(|f| f.jitter_ms.zip(f.count));
        if let Some((jitter, count)) = timing
            && count >= cfg.min_frames_for_jitter
            && (0.0..cfg.min_jitter_ms).contains(&jitter)
        {
            cue("frame_interval_jitter_ms", jitter, cfg.min_jitter_ms);
        }
        cues
    }
}

/// Whether a camera label names a virtual camera or capture tool.
fn is_virtual_camera(label: &str, names: &[String]) -> bool {
    let lower = label.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    names.iter().any(|n| {
        let n = n.to_lowercase();
        if n.contains(' ') {
            lower.contains(&n)
        } else {
            words.iter().any(|w| *w == n)
        }
    })
}

/// Whether a camera label is a file path or URL (a file fed in as the camera).
fn is_file_path(label: &str) -> bool {
    let l = label.trim().to_lowercase();
    let b = l.as_bytes();
    let drive =
        b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    let media_ext = [
        ".mp4", ".mov", ".webm", ".mkv", ".avi", ".y4m", ".mjpeg", ".mjpg", ".gif", ".jpg",
        ".jpeg", ".png",
    ]
    .iter()
    .any(|e| l.ends_with(e));
    l.starts_with('/')
        || l.starts_with("~/")
        || l.starts_with("file:")
        || l.starts_with("\\\\")
        || drive
        || media_ext
}

/// An optional string of at most [`MAX_STRING_CHARS`] characters.
fn bounded_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    if let Some(s) = &s {
        let n = s.chars().count();
        if n > MAX_STRING_CHARS {
            return Err(de::Error::custom(format!(
                "a string of {n} characters (at most {MAX_STRING_CHARS})"
            )));
        }
    }
    Ok(s)
}

/// A list of at most `N` items (`null` or absent: empty), refused as soon as it grows past `N`
/// (nothing beyond is allocated).
fn bounded_list<'de, T, const N: usize, D>(d: D) -> Result<Vec<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    struct Bounded<T, const N: usize>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Bounded<T, N> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a list of at most {N} items, or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Vec<T>, D2::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                if out.len() == N {
                    return Err(de::Error::custom(format!("more than {N} items")));
                }
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_option(Bounded::<T, N>(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"sdk_version": "0.1.0",
       "camera": {"label": "FaceTime HD Camera", "facing_mode": "user",
                  "requested": {"width": 640, "height": 480, "frame_rate": 30},
                  "actual": {"width": 640, "height": 480, "frame_rate": 30}},
       "frames": {"count": 180, "mean_interval_ms": 33.4, "jitter_ms": 2.1, "dropped": 0, "max_gap_ms": 41.0},
       "events": [{"type": "device_change", "at_ms": 1234.0}, {"type": "something_new"}],
       "webdriver": false,
       "user_agent": "Mozilla/5.0",
       "recording": {"mime_type": "video/mp4;codecs=avc1", "started_at_ms": 1733480000000, "duration_ms": 5000},
       "challenge_log": [{"index": 0, "shown_at_ms": 512.0}, {"index": 1, "shown_at_ms": 915.0}],
       "a_future_field": {"x": [1, 2]}}"#;

    fn cues(json: &str, fps: f64) -> Vec<&'static str> {
        let t: ClientTelemetry = serde_json::from_str(json).unwrap();
        t.injection_cues(Some(fps), &TelemetryConfig::default())
            .into_iter()
            .map(|c| c.measure)
            .collect()
    }

    #[test]
    fn the_contract_example_parses() {
        let t: ClientTelemetry = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(
            t.camera.as_ref().unwrap().label.as_deref(),
            Some("FaceTime HD Camera")
        );
        assert_eq!(t.events.len(), 2);
        assert_eq!(t.events[1].kind, EventKind::Other);
        assert_eq!(
            t.challenge_log[1],
            StepShown {
                index: 1,
                shown_at_ms: 915.0
            }
        );
        assert_eq!(t.frames.unwrap().jitter_ms, Some(2.1));
        // The device change during the recording is the only cue.
        assert_eq!(cues(EXAMPLE, 30.0), vec!["track_events_during_recording"]);
    }

    #[test]
    fn every_field_is_optional_and_null_is_absent() {
        let t: ClientTelemetry = serde_json::from_str("{}").unwrap();
        assert_eq!(t, ClientTelemetry::default());
        let t: ClientTelemetry =
            serde_json::from_str(r#"{"camera": null, "events": null, "challenge_log": null}"#)
                .unwrap();
        assert!(t.events.is_empty() && t.camera.is_none());
        assert!(cues("{}", 30.0).is_empty());
    }

    #[test]
    fn oversized_and_malformed_telemetry_is_refused() {
        let long = format!(
            r#"{{"user_agent": "{}"}}"#,
            "x".repeat(MAX_STRING_CHARS + 1)
        );
        assert!(serde_json::from_str::<ClientTelemetry>(&long).is_err());
        let events = vec![r#"{"type":"track_mute"}"#; MAX_EVENTS + 1].join(",");
        let many = format!(r#"{{"events": [{events}]}}"#);
        let err = serde_json::from_str::<ClientTelemetry>(&many).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
        assert!(serde_json::from_str::<ClientTelemetry>(r#"{"webdriver": "yes"}"#).is_err());
        assert!(serde_json::from_str::<ClientTelemetry>(r#"{"events": [{"at_ms": 1}]}"#).is_err());
    }

    #[test]
    fn virtual_cameras_and_file_paths_are_cues() {
        for label in [
            "OBS Virtual Camera",
            "ManyCam Virtual Webcam",
            "Snap Camera",
            "DroidCam Source 3",
            "fake_device_0",
        ] {
            let json = format!(r#"{{"camera": {{"label": "{label}"}}}}"#);
            assert_eq!(cues(&json, 30.0), vec!["camera_label_virtual"], "{label}");
        }
        for label in [
            "/tmp/face.y4m",
            "C:\\\\videos\\\\me.mp4",
            "file:///home/a/b",
            "clip.mjpeg",
        ] {
            let json = format!(r#"{{"camera": {{"label": "{label}"}}}}"#);
            assert!(
                cues(&json, 30.0).contains(&"camera_label_file_path"),
                "{label}"
            );
        }
        for label in [
            "FaceTime HD Camera",
            "Integrated Webcam",
            "Obsbot Tiny 2",
            "Front Camera",
        ] {
            let json = format!(r#"{{"camera": {{"label": "{label}"}}}}"#);
            assert!(cues(&json, 30.0).is_empty(), "{label}");
        }
    }

    #[test]
    fn automation_frame_rate_and_timing_are_cues() {
        assert_eq!(
            cues(r#"{"webdriver": true}"#, 30.0),
            vec!["navigator_webdriver"]
        );
        let rate = r#"{"camera": {"actual": {"frame_rate": 30}}}"#;
        assert!(cues(rate, 25.0).is_empty());
        assert_eq!(cues(rate, 5.0), vec!["camera_to_media_frame_rate_ratio"]);
        let regular = r#"{"frames": {"count": 150, "mean_interval_ms": 33.333, "jitter_ms": 0.0}}"#;
        assert_eq!(cues(regular, 30.0), vec!["frame_interval_jitter_ms"]);
        let few = r#"{"frames": {"count": 5, "jitter_ms": 0.0}}"#;
        assert!(cues(few, 30.0).is_empty());
        // Events outside the recording (before it started) are not cues.
        let before = r#"{"events": [{"type": "track_ended", "at_ms": -50}], "recording": {"duration_ms": 5000}}"#;
        assert!(cues(before, 30.0).is_empty());
    }
}
