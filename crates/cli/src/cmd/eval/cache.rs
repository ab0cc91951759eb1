//! An earlier run's `scores.csv` read back as outcomes (`faceproof eval --scores`), so a refit or
//! a held-out report does not run the models again: the features do not depend on the
//! calibration, only the fused probabilities do, and those are what `--held-out` recomputes.

use super::manifest::Row;
use super::report::{Outcome, split_csv_line};
use std::collections::HashMap;
use std::path::Path;

/// The outcome of every manifest row from `path`; a row the file does not list is an error.
pub fn read(path: &Path, rows: &[Row]) -> Result<Vec<Outcome>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text, rows).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str, rows: &[Row]) -> Result<Vec<Outcome>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv_line(lines.next().ok_or("empty scores file")?);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no {name} column"))
    };
    let (video, error, spoof, fake, sim, codes) = (
        col("video")?,
        col("error")?,
        col("spoof_prob")?,
        col("deepfake_prob")?,
        col("similarity")?,
        col("codes")?,
    );
    let (short, fps) = (col("short_side").ok(), col("fps").ok());
    // Absent from scores written before the deepfake detector slot existed.
    let model_fake = col("deepfake_model_prob").ok();
    let mut by_video: HashMap<String, Vec<String>> = HashMap::new();
    for line in lines {
        let cells = split_csv_line(line);
        if cells.len() != header.len() {
            return Err(format!(
                "{} cells, header has {}",
                cells.len(),
                header.len()
            ));
        }
        by_video.insert(cells[video].clone(), cells);
    }
    let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
    rows.iter()
        .map(|row| {
            let key = row.video.display().to_string();
            let cells = by_video
                .get(&key)
                .ok_or(format!("{key}: not in the scores file"))?;
            let signals = |prefix: &str| {
                header
                    .iter()
                    .zip(cells)
                    .filter_map(|(h, c)| Some((h.strip_prefix(prefix)?.to_string(), num(c))))
                    .collect::<Vec<_>>()
            };
            let has_liveness = !cells[spoof].is_empty();
            Ok(Outcome {
                row: row.clone(),
                error: (!cells[error].is_empty()).then(|| cells[error].clone()),
                spoof_prob: num(&cells[spoof]),
                deepfake_prob: num(&cells[fake]),
                deepfake_model_prob: model_fake.and_then(|c| num(&cells[c])),
                similarity: num(&cells[sim]),
                codes: cells[codes]
                    .split(';')
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect(),
                liveness_signals: if has_liveness {
                    signals("liveness.")
                } else {
                    Vec::new()
                },
                deepfake_signals: if has_liveness {
                    signals("deepfake.")
                } else {
                    Vec::new()
                },
                short_side: short.and_then(|c| cells[c].parse().ok()),
                fps: fps.and_then(|c| num(&cells[c])),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::manifest::Label;
    use super::super::report::scores_csv;
    use super::super::report::tests::outcome;
    use super::*;

    #[test]
    fn scores_read_back_give_the_same_outcomes() {
        let mut a = outcome(Label::Live, "live", Some(0.25), &["low_resolution"]);
        a.short_side = Some(368);
        a.fps = Some(30.0);
        a.deepfake_prob = Some(0.1);
        a.deepfake_signals = vec![("jitter".into(), Some(0.5))];
        let mut b = outcome(Label::Spoof, "still", Some(0.75), &["still_image"]);
        b.liveness_signals.push(("blink".into(), None));
        b.deepfake_prob = Some(0.2);
        b.deepfake_signals = vec![("jitter".into(), None)];
        let mut c = outcome(Label::Spoof, "print", None, &[]);
        c.error = Some("refused: size 1,000".into());
        c.liveness_signals.clear();
        let text = scores_csv(&[a.clone(), b.clone(), c.clone()]);
        let rows = [a.row.clone(), b.row.clone(), c.row.clone()];
        let back = parse(&text, &rows).unwrap();
        // Signals a row did not have come back as missing values.
        a.liveness_signals.push(("blink".into(), None));
        assert_eq!(back, [a, b, c]);
        let mut unknown = rows[0].clone();
        unknown.video = "other.mp4".into();
        assert!(parse(&text, &[unknown]).unwrap_err().contains("other.mp4"));
    }
}
