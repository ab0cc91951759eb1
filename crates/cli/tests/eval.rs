//! `faceproof eval` on a three-row manifest of real clips: the report folder is complete and its
//! counts match the manifest (what the engine concludes is tested in the engine's own suite).

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared_data() -> PathBuf {
    let dir = match std::env::var_os("FACEPROOF_SHARED").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let data = dir.join("data");
    assert!(
        data.is_dir(),
        "shared test data not found at {}",
        data.display()
    );
    data
}

#[test]
fn eval_writes_scores_summary_and_plots_for_a_tiny_manifest() {
    let data = shared_data();
    let out = std::env::temp_dir().join(format!("faceproof-eval-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let manifest = out.join("manifest.csv");
    let p = |rel: &str| data.join(rel).display().to_string();
    std::fs::write(
        &manifest,
        format!(
            "video,id_photo,label,codes,species\n\
             {},{},live,face_mismatch;low_resolution,\n\
             {},,live,,\n\
             {},,deepfake,deepfake,generated\n",
            p("videos/live_blink_square_1.mp4"),
            p("faces/obama/1.jpg"),
            p("videos/live_talking_head_2.mp4"),
            p("attacks/generated_emo_1.mp4"),
        ),
    )
    .unwrap();
    let report = out.join("report");
    let run = Command::new(env!("CARGO_BIN_EXE_faceproof"))
        .arg("eval")
        .arg(&manifest)
        .arg("--out")
        .arg(&report)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let printed: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(printed, saved);
    assert_eq!(
        (saved["samples"].as_u64(), saved["judged"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(saved["pad"]["bona_fide"], 2);
    let species = &saved["pad"]["apcer_per_species"];
    assert_eq!(
        (
            species[0]["species"].as_str(),
            species[0]["attacks"].as_u64()
        ),
        (Some("generated"), Some(1))
    );
    // One pair with an ID photo, an impostor: no genuine pairs, so no TAR and a note saying why.
    assert_eq!(
        (
            saved["matching"]["genuine"].as_u64(),
            saved["matching"]["impostors"].as_u64()
        ),
        (Some(0), Some(1))
    );
    assert!(saved["matching"]["note"].is_string());
    let mismatch = saved["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "face_mismatch")
        .unwrap();
    assert_eq!(mismatch["expected"], 1);

    let csv = std::fs::read_to_string(report.join("scores.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert!(
        header.iter().any(|c| c.starts_with("liveness.")),
        "{}",
        lines[0]
    );
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|l| l.split(',').count() == header.len())
    );
    for plot in ["det.png", "roc.png"] {
        let img = faceproof_vision::image::open(report.join(plot)).unwrap();
        assert_eq!((img.width(), img.height()), (480, 480));
    }
    std::fs::remove_dir_all(&out).unwrap();
}

/// Pairs mode on a tiny LFW-style list over the shared labelled photos (linked into a temporary
/// folder in LFW's layout): counts, folds and the FAR model file follow the list, and these
/// well-separated pairs are all classified right.
#[test]
fn eval_pairs_reports_protocol_accuracy_all_pairs_and_a_far_model() {
    let data = shared_data();
    let out = std::env::temp_dir().join(format!("faceproof-pairs-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let lfw = out.join("lfw");
    for (name, files) in [
        ("obama", &["1", "2", "3"][..]),
        ("biden", &["1"][..]),
        ("kit_harington", &["1", "2", "3"][..]),
        ("rose_leslie", &["1"][..]),
    ] {
        std::fs::create_dir_all(lfw.join(name)).unwrap();
        for (i, f) in files.iter().enumerate() {
            std::os::unix::fs::symlink(
                data.join("faces").join(name).join(format!("{f}.jpg")),
                lfw.join(name).join(format!("{:04}.jpg", i + 1)),
            )
            .unwrap();
        }
    }
    let list = lfw.join("pairs.txt");
    std::fs::write(
        &list,
        "2\t1\nobama\t1\t2\nobama\t3\tbiden\t1\n\
         kit_harington\t1\t3\nkit_harington\t2\trose_leslie\t1\n",
    )
    .unwrap();
    let report = out.join("report");
    let run = Command::new(env!("CARGO_BIN_EXE_faceproof"))
        .args(["eval", "--quiet", "--pairs"])
        .arg(&list)
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(s["embedder"], "sface");
    assert_eq!(s["images"], 8);
    assert_eq!(s["faces_missing"].as_array().unwrap().len(), 0);
    assert_eq!(
        (
            s["protocol"]["folds"].as_u64(),
            s["protocol"]["pairs"].as_u64()
        ),
        (Some(2), Some(4))
    );
    assert_eq!(s["protocol"]["accuracy_mean"], 1.0);
    // All pairs: 3 + 3 same-identity pairs, 28 - 6 cross-identity ones.
    assert_eq!(s["all_pairs"]["genuine_pairs"], 6);
    assert_eq!(s["all_pairs"]["impostor_pairs"], 22);
    let far: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("far_model.json")).unwrap())
            .unwrap();
    assert!(far["sface"]["impostors"].as_array().unwrap().len() == 22);
    // A list that breaks its header's promise is refused with the line.
    std::fs::write(&list, "2\t1\nobama\t1\t2\n").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_faceproof"))
        .args(["eval", "--quiet", "--pairs"])
        .arg(&list)
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("ends early"));
    let _ = std::fs::remove_dir_all(&out);
}
