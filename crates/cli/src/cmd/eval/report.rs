//! From verdicts to numbers: per-sample scores (`scores.csv`) and the summary (PAD metrics, TAR
//! at FAR, reason-code confusion).
//!
//! The PAD attack score of a sample is `max(liveness.spoof_prob, deepfake.prob)`: the service
//! rejects either, so an attack is caught by either; a `still_image` verdict scores 1 (the rule
//! rejects it whatever the fusion says). A verdict without a liveness judgement (no
//! face, too short: the capture was unusable) scores 1: it was rejected, which is a BPCER error
//! for a live sample and a caught attack for an attack. Rows the engine could not judge at all
//! (refused file, model failure) are listed with their error and left out of every rate.

use super::manifest::{Label, Row};
use faceproof_engine::Verdict;
use faceproof_engine::evaluation::curves::{self, EqualErrorRate, OperatingPoint};
use faceproof_engine::evaluation::pad::{self, BpcerAtApcer, PadMetrics, PadSample, Presentation};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What the engine said about one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub row: Row,
    pub error: Option<String>,
    /// `liveness.spoof_prob`, when there was a liveness judgement.
    pub spoof_prob: Option<f64>,
    pub deepfake_prob: Option<f64>,
    /// `deepfake.model_prob`: an operator's deepfake detector's median P(fake), when plugged in.
    pub deepfake_model_prob: Option<f64>,
    /// Face-match similarity 0-100, when matched.
    pub similarity: Option<f64>,
    pub codes: Vec<String>,
    /// `liveness.signals[*]` and `deepfake.signals[*]` values by name.
    pub liveness_signals: Vec<(String, Option<f64>)>,
    pub deepfake_signals: Vec<(String, Option<f64>)>,
    /// The clip's upright short side and frame rate (to check a feature against them).
    pub short_side: Option<u32>,
    pub fps: Option<f64>,
}

impl Outcome {
    pub fn new(row: Row, verdict: Result<Verdict, String>) -> Outcome {
        let mut o = Outcome {
            row,
            error: None,
            spoof_prob: None,
            deepfake_prob: None,
            deepfake_model_prob: None,
            similarity: None,
            codes: Vec::new(),
            liveness_signals: Vec::new(),
            deepfake_signals: Vec::new(),
            short_side: None,
            fps: None,
        };
        match verdict {
            Err(e) => o.error = Some(e),
            Ok(v) => {
                let values = |s: &[faceproof_engine::check::SignalValue]| {
                    s.iter().map(|s| (s.name.to_string(), s.value)).collect()
                };
                o.spoof_prob = v.liveness.as_ref().map(|l| l.spoof_prob);
                o.liveness_signals = v
                    .liveness
                    .as_ref()
                    .map_or(Vec::new(), |l| values(&l.signals));
                o.deepfake_prob = v.deepfake.as_ref().map(|d| d.prob);
                o.deepfake_model_prob = v.deepfake.as_ref().and_then(|d| d.model_prob);
                o.deepfake_signals = v
                    .deepfake
                    .as_ref()
                    .map_or(Vec::new(), |d| values(&d.signals));
                o.similarity = v.face_match.as_ref().map(|m| m.similarity);
                o.short_side = Some(v.media.width.min(v.media.height));
                o.fps = Some(v.media.fps);
                o.codes = v
                    .codes
                    .iter()
                    .map(|r| r.code.as_str().to_string())
                    .collect();
            }
        }
        o
    }

    /// The PAD attack score (module documentation); `None` when the row could not be judged.
    pub fn attack_score(&self) -> Option<f64> {
        if self.error.is_some() {
            return None;
        }
        if self.codes.iter().any(|c| c == "still_image") {
            return Some(1.0);
        }
        Some(match self.spoof_prob {
            Some(s) => s.max(self.deepfake_prob.unwrap_or(0.0)),
            None => 1.0,
        })
    }
}

/// PAD samples of the judged rows.
pub fn pad_samples(outcomes: &[Outcome]) -> Vec<PadSample> {
    outcomes
        .iter()
        .filter_map(|o| {
            Some(PadSample {
                score: o.attack_score()?,
                presentation: match o.row.label {
                    Label::Live => Presentation::BonaFide,
                    _ => Presentation::Attack(o.row.species.clone()),
                },
            })
        })
        .collect()
}

/// Similarities of genuine and impostor pairs (rows with an ID photo that were matched), 0-100.
pub fn match_scores(outcomes: &[Outcome]) -> (Vec<f64>, Vec<f64>) {
    let (mut genuine, mut impostors) = (Vec::new(), Vec::new());
    for o in outcomes.iter().filter(|o| o.row.id_photo.is_some()) {
        if let Some(s) = o.similarity {
            if o.row.is_impostor() {
                impostors.push(s);
            } else {
                genuine.push(s);
            }
        }
    }
    (genuine, impostors)
}

#[derive(Debug, Serialize)]
pub struct RowError {
    pub video: String,
    pub error: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct CodeStats {
    pub code: String,
    /// Rows expecting the code.
    pub expected: usize,
    /// Rows where the engine produced it.
    pub produced: usize,
    pub both: usize,
    /// Expected but not produced.
    pub missed: usize,
    /// Produced but not expected.
    pub extra: usize,
}

#[derive(Debug, Serialize)]
pub struct Matching {
    pub genuine: usize,
    pub impostors: usize,
    pub tar_at_far_1pct: Option<OperatingPoint>,
    pub tar_at_far_0_1pct: Option<OperatingPoint>,
    /// Why the rates are missing (no genuine or no impostor pairs).
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub samples: usize,
    pub judged: usize,
    pub errors: Vec<RowError>,
    /// Attack-score threshold of the PAD rates (the engine's liveness threshold).
    pub threshold: f64,
    pub pad: Option<PadMetrics>,
    pub bpcer_at_apcer_1pct: Option<BpcerAtApcer>,
    pub equal_error_rate: Option<EqualErrorRate>,
    /// Why the PAD rates are missing (no bona fide or no attack samples).
    pub pad_note: Option<String>,
    pub matching: Matching,
    pub codes: Vec<CodeStats>,
    /// Rows by expected code (`-` for none) and produced code (`-` for none).
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Every bona fide row the PAD decision rejected, with the codes that say why.
    pub bona_fide_rejected: Vec<Rejected>,
    /// Every attack the PAD decision accepted.
    pub attacks_accepted: Vec<Rejected>,
    /// How the probabilities were held out (`--held-out`), or `None`: the shipped calibration.
    pub held_out: Option<super::held_out::HeldOutNote>,
    /// Each signal alone, per attack species.
    pub separation: Vec<super::separation::Separation>,
}

/// One row and why the decision went the way it did.
#[derive(Debug, Serialize)]
pub struct Rejected {
    pub video: String,
    pub species: String,
    pub attack_score: f64,
    pub codes: Vec<String>,
}

pub fn summarise(outcomes: &[Outcome], threshold: f64) -> Summary {
    let samples = pad_samples(outcomes);
    let (pad, pad_note) = match pad::pad_metrics(&samples, threshold) {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let bpcer = pad::bpcer_at_apcer(&samples, 0.01).ok();
    let (attacks, bona_fide) = pad::pooled_scores(&samples);
    let eer = curves::equal_error_rate(&attacks, &bona_fide).ok();
    let (genuine, impostors) = match_scores(outcomes);
    let tar = |far| curves::tar_at_far(&genuine, &impostors, far).ok();
    let matching = Matching {
        genuine: genuine.len(),
        impostors: impostors.len(),
        tar_at_far_1pct: tar(0.01),
        tar_at_far_0_1pct: tar(0.001),
        note: (genuine.is_empty() || impostors.is_empty())
            .then(|| "needs genuine and impostor (face_mismatch) rows with an ID photo".into()),
    };
    let judged: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_none()).collect();
    Summary {
        samples: outcomes.len(),
        judged: judged.len(),
        errors: outcomes
            .iter()
            .filter_map(|o| {
                Some(RowError {
                    video: o.row.video.display().to_string(),
                    error: o.error.clone()?,
                })
            })
            .collect(),
        threshold,
        pad,
        bpcer_at_apcer_1pct: bpcer,
        equal_error_rate: eer,
        pad_note,
        matching,
        codes: code_stats(&judged),
        confusion: confusion(&judged),
        bona_fide_rejected: decided(&judged, threshold, true),
        attacks_accepted: decided(&judged, threshold, false),
        held_out: None,
        separation: Vec::new(),
    }
}

/// Bona fide rows at or above `threshold` (`live`), or attacks below it.
fn decided(outcomes: &[&Outcome], threshold: f64, live: bool) -> Vec<Rejected> {
    outcomes
        .iter()
        .filter(|o| (o.row.label == Label::Live) == live)
        .filter_map(|o| {
            let score = o.attack_score()?;
            ((score >= threshold) == live).then(|| Rejected {
                video: o.row.video.display().to_string(),
                species: o.row.species.clone(),
                attack_score: score,
                codes: o.codes.clone(),
            })
        })
        .collect()
}

/// The per-species table and the decided rows as Markdown (`table.md`).
pub fn table(s: &Summary) -> String {
    let mut t = String::new();
    let how = if s.held_out.is_some() {
        "leave one source out"
    } else {
        "the shipped calibration (in-sample for rows it was fitted on)"
    };
    t.push_str(&format!("Scored by {how}; threshold {}.\n\n", s.threshold));
    t.push_str("| presentations | n | errors | rate |\n|---|---|---|---|\n");
    if let Some(p) = &s.pad {
        t.push_str(&format!(
            "| bona fide (BPCER) | {} | {} | {:.3} |\n",
            p.bona_fide, p.rejected_bona_fide, p.bpcer
        ));
        for a in &p.apcer_per_species {
            t.push_str(&format!(
                "| {} (APCER) | {} | {} | {:.3} |\n",
                a.species, a.attacks, a.accepted, a.apcer
            ));
        }
    }
    if let Some(e) = &s.equal_error_rate {
        t.push_str(&format!("\nEER (pooled attacks): {:.3}\n", e.rate));
    }
    for (title, rows) in [
        ("Bona fide rejected", &s.bona_fide_rejected),
        ("Attacks accepted", &s.attacks_accepted),
    ] {
        t.push_str(&format!("\n{title}:\n\n"));
        for r in rows.iter() {
            let name = r.video.rsplit('/').next().unwrap_or(&r.video);
            t.push_str(&format!(
                "- {name} ({}) {:.3}: {}\n",
                r.species,
                r.attack_score,
                r.codes.join(", ")
            ));
        }
    }
    t
}

fn code_stats(outcomes: &[&Outcome]) -> Vec<CodeStats> {
    let mut all: Vec<&str> = outcomes
        .iter()
        .flat_map(|o| o.row.codes.iter().chain(&o.codes))
        .map(String::as_str)
        .collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter()
        .map(|code| {
            let (mut s, has) = (
                CodeStats {
                    code: code.into(),
                    expected: 0,
                    produced: 0,
                    both: 0,
                    missed: 0,
                    extra: 0,
                },
                |list: &[String]| list.iter().any(|c| c == code),
            );
            for o in outcomes {
                let (e, p) = (has(&o.row.codes), has(&o.codes));
                s.expected += usize::from(e);
                s.produced += usize::from(p);
                s.both += usize::from(e && p);
                s.missed += usize::from(e && !p);
                s.extra += usize::from(p && !e);
            }
            s
        })
        .collect()
}

fn confusion(outcomes: &[&Outcome]) -> BTreeMap<String, BTreeMap<String, usize>> {
    let none = vec!["-".to_string()];
    let mut table: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for o in outcomes {
        let expected = if o.row.codes.is_empty() {
            &none
        } else {
            &o.row.codes
        };
        let mut produced = o.codes.clone();
        produced.sort_unstable();
        produced.dedup();
        if produced.is_empty() {
            produced = none.clone();
        }
        for e in expected {
            for p in &produced {
                *table
                    .entry(e.clone())
                    .or_default()
                    .entry(p.clone())
                    .or_default() += 1;
            }
        }
    }
    table
}

/// `scores.csv`: fixed columns, then one column per signal name (`liveness.<name>`,
/// `deepfake.<name>`) in order of first appearance; empty cells where a value is missing.
pub fn write_scores(path: &Path, outcomes: &[Outcome]) -> std::io::Result<()> {
    std::fs::write(path, scores_csv(outcomes))
}

pub fn scores_csv(outcomes: &[Outcome]) -> String {
    let mut live_names: Vec<&str> = Vec::new();
    let mut fake_names: Vec<&str> = Vec::new();
    for o in outcomes {
        for (n, _) in &o.liveness_signals {
            if !live_names.contains(&n.as_str()) {
                live_names.push(n);
            }
        }
        for (n, _) in &o.deepfake_signals {
            if !fake_names.contains(&n.as_str()) {
                fake_names.push(n);
            }
        }
    }
    let mut header: Vec<String> = [
        "video",
        "id_photo",
        "label",
        "species",
        "source",
        "short_side",
        "fps",
        "attack_score",
        "spoof_prob",
        "deepfake_prob",
        "deepfake_model_prob",
        "similarity",
        "expected_codes",
        "codes",
        "error",
    ]
    .map(String::from)
    .to_vec();
    header.extend(live_names.iter().map(|n| format!("liveness.{n}")));
    header.extend(fake_names.iter().map(|n| format!("deepfake.{n}")));
    let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let lookup = |list: &[(String, Option<f64>)], name: &str| {
        num(list.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v))
    };
    let mut out = csv_line(&header);
    for o in outcomes {
        let mut cells = vec![
            o.row.video.display().to_string(),
            o.row
                .id_photo
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string()),
            o.row.label.as_str().into(),
            o.row.species.clone(),
            o.row.source.clone(),
            o.short_side.map_or(String::new(), |v| v.to_string()),
            num(o.fps),
            num(o.attack_score()),
            num(o.spoof_prob),
            num(o.deepfake_prob),
            num(o.deepfake_model_prob),
            num(o.similarity),
            o.row.codes.join(";"),
            o.codes.join(";"),
            o.error.clone().unwrap_or_default(),
        ];
        cells.extend(live_names.iter().map(|n| lookup(&o.liveness_signals, n)));
        cells.extend(fake_names.iter().map(|n| lookup(&o.deepfake_signals, n)));
        out.push_str(&csv_line(&cells));
    }
    out
}

/// Splits one CSV line written by [`csv_line`] (RFC 4180 quoting) into its cells.
pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

/// One CSV line; fields with a comma, quote or line break are quoted (RFC 4180).
fn csv_line(cells: &[String]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect();
    quoted.join(",") + "\n"
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn outcome(
        label: Label,
        species: &str,
        spoof: Option<f64>,
        codes: &[&str],
    ) -> Outcome {
        Outcome {
            row: Row {
                video: format!("{species}.mp4").into(),
                id_photo: None,
                label,
                codes: Vec::new(),
                species: species.into(),
                source: species.into(),
            },
            error: None,
            spoof_prob: spoof,
            deepfake_prob: None,
            deepfake_model_prob: None,
            similarity: None,
            codes: codes.iter().map(|c| c.to_string()).collect(),
            liveness_signals: vec![("pad_model".into(), spoof), ("nonrigid".into(), Some(0.1))],
            deepfake_signals: Vec::new(),
            short_side: None,
            fps: None,
        }
    }

    #[test]
    fn pad_rates_count_unusable_captures_as_rejected_and_skip_errors() {
        let mut rows = vec![
            outcome(Label::Live, "live", Some(0.1), &[]),
            outcome(Label::Live, "live", Some(0.7), &["spoof"]),
            // No liveness judgement (no face): rejected, a bona fide error.
            outcome(Label::Live, "live", None, &["no_face"]),
            outcome(Label::Live, "live", Some(0.2), &[]),
            outcome(Label::Spoof, "still", Some(0.9), &["still_image"]),
            outcome(Label::Spoof, "still", Some(0.3), &[]),
            outcome(Label::Spoof, "screen", Some(0.8), &["spoof"]),
        ];
        let mut fake = outcome(Label::Deepfake, "deepfake", Some(0.1), &[]);
        fake.deepfake_prob = Some(0.6);
        rows.push(fake);
        let mut broken = outcome(Label::Spoof, "still", None, &[]);
        broken.error = Some("model failure".into());
        rows.push(broken);
        let s = summarise(&rows, 0.5);
        assert_eq!((s.samples, s.judged, s.errors.len()), (9, 8, 1));
        let pad = s.pad.unwrap();
        assert_eq!((pad.bona_fide, pad.rejected_bona_fide), (4, 2));
        let apcer: Vec<(&str, usize, usize)> = pad
            .apcer_per_species
            .iter()
            .map(|a| (a.species.as_str(), a.attacks, a.accepted))
            .collect();
        // The deepfake is caught by its deepfake probability although its spoof_prob is low.
        assert_eq!(
            apcer,
            [("deepfake", 1, 0), ("screen", 1, 0), ("still", 2, 1)]
        );
        assert_eq!((pad.bpcer, pad.apcer_max, pad.acer), (0.5, 0.5, 0.5));
        assert!(s.matching.note.is_some());
    }

    #[test]
    fn code_table_counts_hits_misses_and_extras() {
        let mut a = outcome(
            Label::Spoof,
            "still",
            Some(0.9),
            &["still_image", "low_resolution"],
        );
        a.row.codes = vec!["still_image".into()];
        let mut b = outcome(Label::Spoof, "still", Some(0.2), &[]);
        b.row.codes = vec!["still_image".into()];
        let c = outcome(Label::Live, "live", Some(0.1), &["low_resolution"]);
        let s = summarise(&[a, b, c], 0.5);
        let still = s.codes.iter().find(|c| c.code == "still_image").unwrap();
        assert_eq!(
            (
                still.expected,
                still.produced,
                still.both,
                still.missed,
                still.extra
            ),
            (2, 1, 1, 1, 0)
        );
        let low = s.codes.iter().find(|c| c.code == "low_resolution").unwrap();
        assert_eq!((low.expected, low.extra), (0, 2));
        assert_eq!(s.confusion["still_image"]["still_image"], 1);
        assert_eq!(s.confusion["still_image"]["-"], 1);
        assert_eq!(s.confusion["-"]["low_resolution"], 1);
    }

    #[test]
    fn tar_at_far_uses_id_rows_split_by_expected_mismatch() {
        let mut rows = Vec::new();
        for i in 0..200 {
            let mut o = outcome(Label::Live, "live", Some(0.1), &[]);
            o.row.id_photo = Some("id.jpg".into());
            let impostor = i % 2 == 0;
            if impostor {
                o.row.codes = vec!["face_mismatch".into()];
            }
            // Genuine 60-99, impostors 0-49 plus one impostor at 95.
            o.similarity = Some(if impostor {
                (i / 2) as f64 / 2.0
            } else {
                60.0 + (i / 5) as f64
            });
            rows.push(o);
        }
        rows[0].similarity = Some(95.0);
        let s = summarise(&rows, 0.5);
        assert_eq!((s.matching.genuine, s.matching.impostors), (100, 100));
        let at1 = s.matching.tar_at_far_1pct.unwrap();
        // One impostor of 100 may pass: the threshold sits just above the second highest (49).
        assert!(at1.far <= 0.01 && at1.tar == 1.0, "{at1:?}");
        let strict = s.matching.tar_at_far_0_1pct.unwrap();
        assert!(
            !strict.resolvable && strict.far == 0.0 && strict.tar < 0.2,
            "{strict:?}"
        );
    }

    #[test]
    fn scores_csv_has_a_column_per_signal_and_quotes_commas() {
        let mut a = outcome(Label::Live, "live", Some(0.25), &["low_resolution"]);
        a.error = None;
        let mut b = outcome(Label::Spoof, "still", Some(0.75), &[]);
        b.liveness_signals.push(("blink_rate".into(), None));
        b.error = Some("refused: size 1,000".into());
        let text = scores_csv(&[a, b]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].ends_with("error,liveness.pad_model,liveness.nonrigid,liveness.blink_rate")
        );
        assert!(
            lines[1]
                .starts_with("live.mp4,,live,live,live,,,0.25,0.25,,,,,low_resolution,,0.25,0.1,")
        );
        assert_eq!(split_csv_line(lines[2])[14], "refused: size 1,000");
        assert!(lines[2].contains("\"refused: size 1,000\""), "{}", lines[2]);
        // The errored row has no attack score; its missing signal is an empty cell.
        assert!(
            lines[2].starts_with("still.mp4,,spoof,still,still,,,,0.75,"),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(",0.75,0.1,"), "{}", lines[2]);
    }
}
