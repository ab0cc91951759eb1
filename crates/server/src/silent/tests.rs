//! The silent adapter on hand-built verdicts.

use faceproof_engine::check::{ReasonCode, Severity};
use serde_json::Value;

use super::codes::{DETECTION_FAILED, FACE_OCCLUSION, LIVENESS_FAILED, media_code};
use super::response::{Switches, from_verdict};
use crate::testutil::{live, reason, spoof, still, unusable, with_match};

const ALL: Switches = Switches {
    check_quality: true,
    return_image: true,
    return_face_image: true,
    return_status: true,
};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn passed_with_every_switch() {
    let r = from_verdict(&with_match(live(), 0.8, 0.35), ALL, "rid").unwrap();
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(
        keys(&j),
        [
            "base64_face_image",
            "base64_image",
            "code",
            "image_timestamp",
            "liveness_score",
            "liveness_status",
            "passed",
            "request_id",
            "verification_score"
        ]
    );
    assert_eq!(j["code"], 1000);
    assert_eq!(j["passed"], true);
    assert_eq!(j["liveness_status"], "ok");
    assert_eq!(j["liveness_score"], 0.9985);
    assert_eq!(j["verification_score"], 0.83);
    assert_eq!(j["image_timestamp"], 1.5);
    assert_eq!(j["base64_image"], "/9j/2gACAQID/9k=");
    assert_eq!(j["request_id"], "rid");
}

#[test]
fn optional_fields_follow_their_switches() {
    let v = with_match(live(), 0.8, 0.35);
    let none = from_verdict(&v, Switches::default(), "r").unwrap();
    let j = serde_json::to_value(&none).unwrap();
    assert_eq!(
        keys(&j),
        [
            "code",
            "liveness_score",
            "passed",
            "request_id",
            "verification_score"
        ]
    );
    let only_face = Switches {
        return_face_image: true,
        ..Switches::default()
    };
    let j = serde_json::to_value(from_verdict(&v, only_face, "r").unwrap()).unwrap();
    assert!(j.get("base64_face_image").is_some());
    assert!(j.get("base64_image").is_none() && j.get("image_timestamp").is_none());
}

#[test]
fn a_mismatch_still_passes_liveness_with_a_low_score() {
    let j = serde_json::to_value(from_verdict(&with_match(live(), 0.1, 0.35), ALL, "r").unwrap())
        .unwrap();
    assert_eq!(j["passed"], true);
    assert_eq!(j["verification_score"], 0.12);
}

#[test]
fn attacks_fail_as_hack_without_images_or_score() {
    for v in [spoof(), still()] {
        let j = serde_json::to_value(from_verdict(&with_match(v, 0.9, 0.35), ALL, "r").unwrap())
            .unwrap();
        assert_eq!(j["code"], 1000);
        assert_eq!(j["passed"], false);
        assert_eq!(j["liveness_status"], "hack");
        assert_eq!(
            keys(&j),
            [
                "code",
                "liveness_score",
                "liveness_status",
                "passed",
                "request_id"
            ]
        );
    }
}

#[test]
fn short_video_is_short_time() {
    let j =
        serde_json::to_value(from_verdict(&unusable(ReasonCode::VideoTooShort), ALL, "r").unwrap())
            .unwrap();
    assert_eq!(j["passed"], false);
    assert_eq!(j["liveness_status"], "short_time");
    let quiet = from_verdict(
        &unusable(ReasonCode::VideoTooShort),
        Switches::default(),
        "r",
    )
    .unwrap();
    assert!(quiet.liveness_status.is_none());
}

#[test]
fn error_codes() {
    assert_eq!(
        from_verdict(&unusable(ReasonCode::NoFace), ALL, "r"),
        Err(DETECTION_FAILED)
    );
    let mut doc = live();
    doc.codes
        .push(reason(ReasonCode::NoFaceInDocument, Severity::Error));
    assert_eq!(from_verdict(&doc, ALL, "r"), Err(DETECTION_FAILED));
    let mut occluded = live();
    occluded
        .codes
        .push(reason(ReasonCode::FaceOccluded, Severity::Error));
    assert_eq!(from_verdict(&occluded, ALL, "r"), Err(FACE_OCCLUSION));
    // Without check_quality occlusion is not evaluated.
    assert!(from_verdict(&occluded, Switches::default(), "r").is_ok());
    for c in [
        ReasonCode::MultipleFaces,
        ReasonCode::FaceTooSmall,
        ReasonCode::FaceLost,
    ] {
        assert_eq!(
            from_verdict(&unusable(c), ALL, "r"),
            Err(LIVENESS_FAILED),
            "{c:?}"
        );
    }
}

#[test]
fn media_errors_by_variant() {
    use faceproof_media::MediaError as M;
    let cases = [
        (M::Empty, 2004, 400),
        (M::TooLarge { bytes: 2, limit: 1 }, 2004, 413),
        (M::NotMedia, 2005, 400),
        (M::UnsupportedCodec { codec: "x".into() }, 2005, 400),
        (M::Corrupt { detail: "x".into() }, 2005, 400),
        (
            M::TooManyPixels {
                width: 1,
                height: 1,
                limit: 0,
            },
            2003,
            400,
        ),
        (M::InvalidBase64 { detail: "x".into() }, 1200, 400),
        (M::Internal { detail: "x".into() }, 1500, 500),
    ];
    for (e, code, status) in cases {
        let c = media_code(&e);
        assert_eq!((c.code, c.status.as_u16()), (code, status), "{e:?}");
    }
}
