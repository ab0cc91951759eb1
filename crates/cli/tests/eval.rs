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
