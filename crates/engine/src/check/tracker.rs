//! Following the main face from frame to frame so the detector runs only every few frames.
//!
//! On a detection frame the engine works as without tracking (detector, one mesh pass on the
//! detector's ROI). On the frames between, the mesh runs on the ROI of the previous frame's face
//! box, and this frame's box is the last detection carried along by the similarity (translation,
//! scale, roll) that moved the mesh since that detection. The mesh thus always sees a
//! detector-style ROI (box x 1.5, levelled on the eyes): measured on real clips, running it on
//! MediaPipe's landmark ROI instead (larger, tighter on the landmarks) shifted planarity by
//! +50-70 % and the fused spoof probability by up to +0.08, against a calibration fitted on
//! detector ROIs.
//!
//! The detector still runs on every `redetect_frames`-th frame, on every face-count frame and
//! whenever the mesh loses the face (its presence score drops below `mesh.min_presence`).

use faceproof_vision::{Detection, FaceMesh, Point, Rect, Roi, Vision, VisionError};
use image::RgbImage;

/// The main face's track.
#[derive(Debug)]
pub(super) struct Tracker {
    roi_scale: f32,
    min_presence: f32,
    redetect_frames: u32,
    /// The last detection of the main face and its mesh's ROI in that frame.
    anchor: Option<(Detection, Roi)>,
    /// The main face's box in the previous frame (detected or carried).
    last_box: Option<Detection>,
    frames_since_detection: u32,
}

impl Tracker {
    pub fn new(vision: &Vision, redetect_frames: u32) -> Tracker {
        let cfg = vision.config();
        Tracker {
            roi_scale: cfg.mesh.roi_scale,
            min_presence: cfg.mesh.min_presence,
            redetect_frames: redetect_frames.max(1),
            anchor: None,
            last_box: None,
            frames_since_detection: 0,
        }
    }

    /// Whether this frame needs the detector: nothing is followed, or it is its turn.
    pub fn detection_due(&self) -> bool {
        self.anchor.is_none() || self.frames_since_detection + 1 >= self.redetect_frames
    }

    /// The main face's mesh in `img` on the previous frame's box, and its box here; `None` when
    /// nothing is followed or the mesh no longer sees a face there (the track is dropped).
    pub fn follow(
        &mut self,
        vision: &Vision,
        img: &RgbImage,
    ) -> Result<Option<(FaceMesh, Detection)>, VisionError> {
        let (Some(prev), Some((det, from))) = (&self.last_box, &self.anchor) else {
            return Ok(None);
        };
        let mesh = vision.mesh(img, prev, 0)?;
        if mesh.presence < self.min_presence {
            self.drop_track();
            return Ok(None);
        }
        let here = carry(det, from, &mesh.refined_roi(self.roi_scale));
        Ok(Some((mesh, here)))
    }

    /// Records a detection frame's main face.
    pub fn detected(&mut self, mesh: &FaceMesh, det: &Detection) {
        self.anchor = Some((det.clone(), mesh.refined_roi(self.roi_scale)));
        self.last_box = Some(det.clone());
        self.frames_since_detection = 0;
    }

    /// Records a followed frame's main face.
    pub fn followed(&mut self, det: &Detection) {
        self.last_box = Some(det.clone());
        self.frames_since_detection += 1;
    }

    /// Forgets the face (it left, or the mesh lost it): the next frame detects.
    pub fn drop_track(&mut self) {
        self.anchor = None;
        self.last_box = None;
        self.frames_since_detection = 0;
    }
}

/// `det` moved by the similarity that takes ROI `from` to ROI `to` (the box stays axis-aligned:
/// its centre moves, its sides scale).
fn carry(det: &Detection, from: &Roi, to: &Roi) -> Detection {
    let scale = if from.size > 0.0 {
        to.size / from.size
    } else {
        1.0
    };
    let (sin, cos) = (to.angle - from.angle).sin_cos();
    let map = |p: Point| {
        let (dx, dy) = (p.x - from.center.x, p.y - from.center.y);
        Point::new(
            to.center.x + scale * (cos * dx - sin * dy),
            to.center.y + scale * (sin * dx + cos * dy),
        )
    };
    let c = map(det.rect.center());
    let (w, h) = (det.rect.w * scale, det.rect.h * scale);
    Detection {
        rect: Rect::from_corners(c.x - w * 0.5, c.y - h * 0.5, c.x + w * 0.5, c.y + h * 0.5),
        score: det.score,
        keypoints: det.keypoints.map(map),
        range: det.range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceproof_vision::Range;

    #[test]
    fn a_detection_moves_scales_and_turns_with_its_roi() {
        let det = Detection {
            rect: Rect::from_corners(90.0, 90.0, 110.0, 110.0),
            score: 0.9,
            keypoints: [Point::new(110.0, 100.0); 6],
            range: Range::Short,
        };
        let from = Roi {
            center: Point::new(100.0, 100.0),
            size: 50.0,
            angle: 0.0,
        };
        let to = Roi {
            center: Point::new(200.0, 150.0),
            size: 100.0,
            angle: std::f32::consts::FRAC_PI_2,
        };
        let moved = carry(&det, &from, &to);
        let c = moved.rect.center();
        assert!((c.x - 200.0).abs() < 1e-4 && (c.y - 150.0).abs() < 1e-4);
        assert!((moved.rect.w - 40.0).abs() < 1e-4 && (moved.rect.h - 40.0).abs() < 1e-4);
        // 10 px right of the centre, doubled and turned a quarter: 20 px below.
        let k = moved.keypoints[0];
        assert!(
            (k.x - 200.0).abs() < 1e-3 && (k.y - 170.0).abs() < 1e-3,
            "{k:?}"
        );
    }
}
