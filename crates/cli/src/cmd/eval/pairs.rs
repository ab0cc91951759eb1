//! `faceproof eval --pairs pairs.txt`: face match on an LFW-style pairs list, per embedder.
//!
//! The list: a header `FOLDS<TAB>N`, then per fold N matched pairs `name<TAB>i<TAB>j` followed by N
//! mismatched pairs `name1<TAB>i<TAB>name2<TAB>j` (LFW View 2's `pairs.txt`). Images are
//! `<list's folder>/<name>/<iiii>.jpg` or LFW's own `<name>/<name>_<iiii>.jpg`. The folds must be
//! identity-disjoint (LFW's are): the held-out numbers below rely on it.
//!
//! Each image's face is the detected face nearest the image centre (LFW labels the centred
//! person), embedded after the usual 5-point alignment. An image without a face scores -1 in every
//! pair (a reject at any threshold) and is counted.
//!
//! Reported (`DIR/pairs_summary.json`, also printed):
//! - `protocol`: LFW protocol accuracy, 10-fold style over the list's folds: for each fold the
//!   threshold that maximises accuracy on the other folds' protocol pairs is applied to it.
//! - `all_pairs`: TAR at FAR 1 % and 0.1 % with every cross-identity pair of the embedded images
//!   as impostors (not only the protocol's mismatched pairs) and every same-identity pair as
//!   genuine; the threshold is read off the same impostors (in-sample).
//! - `held_out_by_fold`: the same, held out: the threshold is read off the impostor pairs within
//!   the other folds' identities and applied to the held-out fold's own pairs (identity-disjoint).
//! - `far_model`: `DIR/far_model.json`, `{"<embedder>": FarModel}` fitted on a systematic sample of
//!   all the impostor pairs and all genuine pairs: the calibration's `far.<embedder>` entry.

use super::super::analyze::VisionArgs;
use super::progress;
use crate::output::Output;
use faceproof_engine::calibrate::far::{FarConfig, FarModel};
use faceproof_media::Limits;
use faceproof_vision::{AnalyzeOptions, Embedding, Vision};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// FAR targets reported.
const FAR_TARGETS: [f64; 2] = [1e-2, 1e-3];
/// Score of a pair with an image whose face was not found.
const MISSING: f32 = -1.0;

/// One image of a pairs list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef {
    pub name: String,
    pub index: u32,
}

/// One protocol pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub fold: usize,
    pub a: ImageRef,
    pub b: ImageRef,
    pub genuine: bool,
}

/// Parses an LFW-style pairs list (see the module doc).
pub fn parse(text: &str) -> Result<Vec<Pair>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (_, header) = lines.next().ok_or("empty pairs list")?;
    let head: Vec<usize> = header
        .split_whitespace()
        .map(|v| {
            v.parse()
                .map_err(|_| format!("line 1: header {header:?} is not `FOLDS N`"))
        })
        .collect::<Result<_, _>>()?;
    let (folds, n) = match *head.as_slice() {
        [folds, n] if folds > 0 && n > 0 => (folds, n),
        [n] if n > 0 => (1, n),
        _ => return Err(format!("line 1: header {header:?} is not `FOLDS N`")),
    };
    let index = |no: usize, v: &str| -> Result<u32, String> {
        v.parse::<u32>()
            .ok()
            .filter(|&i| i > 0)
            .ok_or_else(|| format!("line {no}: image number {v:?} is not a positive integer"))
    };
    let mut pairs = Vec::with_capacity(2 * folds * n);
    for fold in 0..folds {
        for genuine in [true, false] {
            for _ in 0..n {
                let (no, line) = lines.next().ok_or_else(|| {
                    format!(
                        "the list ends early: fold {} needs {n} matched and {n} mismatched pairs",
                        fold + 1
                    )
                })?;
                let f: Vec<&str> = line.split_whitespace().collect();
                let pair = match (genuine, f.as_slice()) {
                    (true, &[name, i, j]) => Pair {
                        fold,
                        a: ImageRef {
                            name: name.to_owned(),
                            index: index(no, i)?,
                        },
                        b: ImageRef {
                            name: name.to_owned(),
                            index: index(no, j)?,
                        },
                        genuine,
                    },
                    (false, &[n1, i, n2, j]) => Pair {
                        fold,
                        a: ImageRef {
                            name: n1.to_owned(),
                            index: index(no, i)?,
                        },
                        b: ImageRef {
                            name: n2.to_owned(),
                            index: index(no, j)?,
                        },
                        genuine,
                    },
                    _ => {
                        return Err(format!(
                            "line {no}: expected a {} pair, got {line:?}",
                            if genuine { "matched" } else { "mismatched" }
                        ));
                    }
                };
                if pair.a.name.contains(['/', '\\']) || pair.a.name.starts_with('.') {
                    return Err(format!("line {no}: {:?} is not a plain name", pair.a.name));
                }
                if pair.b.name.contains(['/', '\\']) || pair.b.name.starts_with('.') {
                    return Err(format!("line {no}: {:?} is not a plain name", pair.b.name));
                }
                pairs.push(pair);
            }
        }
    }
    if let Some((no, _)) = lines.next() {
        return Err(format!(
            "line {no}: more lines than the header's {folds} x {n} x 2 pairs"
        ));
    }
    Ok(pairs)
}

/// The file of an image: `<name>/<iiii>.jpg`, else `<name>/<name>_<iiii>.jpg`.
fn image_path(root: &Path, r: &ImageRef) -> PathBuf {
    let short = root.join(&r.name).join(format!("{:04}.jpg", r.index));
    if short.is_file() {
        return short;
    }
    root.join(&r.name)
        .join(format!("{}_{:04}.jpg", r.name, r.index))
}

#[derive(Debug, Serialize)]
struct FoldAccuracy {
    fold: usize,
    threshold: f64,
    accuracy: f64,
}

#[derive(Debug, Serialize)]
struct Protocol {
    folds: usize,
    pairs: usize,
    /// Mean over folds of the held-out fold's accuracy.
    accuracy_mean: f64,
    accuracy_std: f64,
    per_fold: Vec<FoldAccuracy>,
}

#[derive(Debug, Serialize, Clone)]
struct AtFar {
    far_target: f64,
    threshold: f64,
    far: f64,
    tar: f64,
}

#[derive(Debug, Serialize)]
struct AllPairs {
    genuine_pairs: usize,
    impostor_pairs: usize,
    at_far: Vec<AtFar>,
}

#[derive(Debug, Serialize)]
struct HeldOut {
    far_target: f64,
    /// Means over folds.
    far_mean: f64,
    tar_mean: f64,
    per_fold: Vec<AtFar>,
}

#[derive(Debug, Serialize)]
struct FarModelSummary {
    file: PathBuf,
    impostor_sample: usize,
    genuine: usize,
    /// Cosine at which the model estimates each FAR (what the engine derives its default
    /// threshold from; `matching.target_far`).
    threshold_at_far: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize)]
struct Summary {
    embedder: &'static str,
    pairs_file: PathBuf,
    images: usize,
    faces_missing: Vec<String>,
    /// Mean time of one embedding (alignment + model), milliseconds.
    embed_ms_per_face: f64,
    protocol: Protocol,
    all_pairs: AllPairs,
    held_out_by_fold: Vec<HeldOut>,
    far_model: FarModelSummary,
}

/// Runs pairs mode.
pub fn run(
    list: &Path,
    out_dir: &Path,
    vision: &VisionArgs,
    far_sample: usize,
    quiet: bool,
    out: &Output,
) -> ExitCode {
    let pairs = match std::fs::read_to_string(list)
        .map_err(|e| format!("{}: {e}", list.display()))
        .and_then(|t| parse(&t).map_err(|e| format!("{}: {e}", list.display())))
    {
        Ok(p) => p,
        Err(e) => return out.error("invalid_pairs", &e),
    };
    // The models alone: this mode makes the FAR model an engine needs, so it cannot need one.
    let models = match vision.load(out) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let root = list.parent().unwrap_or(Path::new("."));
    let mut images: Vec<ImageRef> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    images.sort();
    images.dedup();
    // The fold of each identity (the folds are identity-disjoint).
    let mut fold_of: HashMap<&str, usize> = HashMap::new();
    for p in &pairs {
        for r in [&p.a, &p.b] {
            if let Some(&f) = fold_of.get(r.name.as_str())
                && f != p.fold
            {
                return out.error(
                    "invalid_pairs",
                    &format!(
                        "{} appears in folds {} and {}: the folds must be identity-disjoint",
                        r.name,
                        f + 1,
                        p.fold + 1
                    ),
                );
            }
            fold_of.insert(&r.name, p.fold);
        }
    }
    let started = Instant::now();
    let mut embedded: Vec<Option<Embedding>> = Vec::with_capacity(images.len());
    let mut embed_secs = 0.0;
    let mut missing = Vec::new();
    for (i, r) in images.iter().enumerate() {
        if !quiet && i % 20 == 0 {
            progress(i, images.len(), started, &r.name);
        }
        let path = image_path(root, r);
        match embed_centred(&models, &path) {
            Ok(Some((e, secs))) => {
                embed_secs += secs;
                embedded.push(Some(e));
            }
            Ok(None) => {
                missing.push(path.display().to_string());
                embedded.push(None);
            }
            Err(e) => return out.error("embedding_failed", &e),
        }
    }
    if !quiet {
        progress(images.len(), images.len(), started, "done");
        eprintln!();
    }
    let found = embedded.iter().filter(|e| e.is_some()).count();
    let position: HashMap<&ImageRef, usize> =
        images.iter().enumerate().map(|(i, r)| (r, i)).collect();
    let score = |a: usize, b: usize| match (&embedded[a], &embedded[b]) {
        (Some(x), Some(y)) => x.cosine(y),
        _ => MISSING,
    };

    // Protocol pairs.
    let folds = pairs.iter().map(|p| p.fold).max().map_or(0, |f| f + 1);
    let scored: Vec<(usize, bool, f32)> = pairs
        .iter()
        .map(|p| (p.fold, p.genuine, score(position[&p.a], position[&p.b])))
        .collect();
    let protocol = protocol_accuracy(&scored, folds);

    // Every pair of embedded images: genuine within an identity, impostor across identities.
    let fold_idx: Vec<usize> = images.iter().map(|r| fold_of[r.name.as_str()]).collect();
    let mut genuine: Vec<(usize, f32)> = Vec::new();
    let mut impostors: Vec<Vec<f32>> = vec![Vec::new(); folds]; // within one fold
    let mut all_impostors: Vec<f32> = Vec::new();
    for a in 0..images.len() {
        for b in a + 1..images.len() {
            let s = score(a, b);
            if images[a].name == images[b].name {
                genuine.push((fold_idx[a], s));
            } else {
                all_impostors.push(s);
                if fold_idx[a] == fold_idx[b] {
                    impostors[fold_idx[a]].push(s);
                }
            }
        }
    }
    let genuine_all: Vec<f32> = genuine.iter().map(|g| g.1).collect();
    let all_pairs = AllPairs {
        genuine_pairs: genuine_all.len(),
        impostor_pairs: all_impostors.len(),
        at_far: FAR_TARGETS
            .iter()
            .map(|&f| at_far(f, &all_impostors, &all_impostors, &genuine_all))
            .collect(),
    };
    let held_out_by_fold = FAR_TARGETS
        .iter()
        .map(|&f| {
            let per_fold: Vec<AtFar> = (0..folds)
                .map(|k| {
                    let train: Vec<f32> = (0..folds)
                        .filter(|&j| j != k)
                        .flat_map(|j| impostors[j].iter().copied())
                        .collect();
                    let test_gen: Vec<f32> =
                        genuine.iter().filter(|g| g.0 == k).map(|g| g.1).collect();
                    at_far(f, &train, &impostors[k], &test_gen)
                })
                .collect();
            let n = per_fold.len().max(1) as f64;
            HeldOut {
                far_target: f,
                far_mean: per_fold.iter().map(|p| p.far).sum::<f64>() / n,
                tar_mean: per_fold.iter().map(|p| p.tar).sum::<f64>() / n,
                per_fold,
            }
        })
        .collect();

    // The FAR model the calibration ships: a systematic sample of every impostor pair.
    let stride = (all_impostors.len() / far_sample.max(1)).max(1);
    let round6 = |v: f32| (f64::from(v) * 1e6).round() / 1e6;
    let sample: Vec<f64> = all_impostors
        .iter()
        .step_by(stride)
        .map(|&v| round6(v))
        .collect();
    let gen64: Vec<f64> = genuine_all.iter().map(|&v| round6(v)).collect();
    let model = match FarModel::fit(&sample, &gen64, &FarConfig::default()) {
        Ok(m) => m,
        Err(e) => return out.error("fit_failed", &e.to_string()),
    };
    let embedder = models.embedder().kind().name();
    let far_file = out_dir.join("far_model.json");
    let mut threshold_at_far = BTreeMap::new();
    for f in [1e-2, 1e-3, 1e-4] {
        threshold_at_far.insert(format!("{f:e}"), model.threshold_for_far(f));
    }
    let far_json = BTreeMap::from([(embedder, &model)]);
    let summary = Summary {
        embedder,
        pairs_file: list.to_path_buf(),
        images: images.len(),
        faces_missing: missing,
        embed_ms_per_face: 1e3 * embed_secs / found.max(1) as f64,
        protocol,
        all_pairs,
        held_out_by_fold,
        far_model: FarModelSummary {
            file: far_file.clone(),
            impostor_sample: sample.len(),
            genuine: gen64.len(),
            threshold_at_far,
        },
    };
    let written = serde_json::to_string(&far_json)
        .map_err(std::io::Error::other)
        .and_then(|t| std::fs::write(&far_file, t + "\n"))
        .and_then(|_| {
            let text = serde_json::to_string_pretty(&summary).map_err(std::io::Error::other)?;
            std::fs::write(out_dir.join("pairs_summary.json"), text + "\n")
        });
    if let Err(e) = written {
        return out.error("io", &format!("{}: {e}", out_dir.display()));
    }
    out.json(&summary)
}

/// The embedding of the face nearest the image centre and the seconds the embedding took;
/// `None` when no face is found.
fn embed_centred(vision: &Vision, path: &Path) -> Result<Option<(Embedding, f64)>, String> {
    let limits = Limits::default();
    let bytes = faceproof_media::read_file(path, limits.max_image_bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let img = faceproof_media::decode_image(
        &bytes,
        &faceproof_media::ImageOptions { auto_rotate: true },
        &limits,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?
    .image;
    let opts = AnalyzeOptions::ALIGN_ONLY;
    let faces = vision
        .analyze(&img, &opts)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
    let Some(face) = faces.iter().min_by(|a, b| {
        let d = |f: &faceproof_vision::Face| {
            let c = f.detection.rect.center();
            (c.x - cx).hypot(c.y - cy)
        };
        d(a).total_cmp(&d(b))
    }) else {
        return Ok(None);
    };
    let t = Instant::now();
    let e = vision
        .embed(&img, face)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some((e, t.elapsed().as_secs_f64())))
}

/// Accuracy of `cosine >= t` over `(genuine, score)` pairs.
fn accuracy(pairs: &[(bool, f32)], t: f32) -> f64 {
    let right = pairs.iter().filter(|(g, s)| (*s >= t) == *g).count();
    right as f64 / pairs.len().max(1) as f64
}

/// The threshold maximising accuracy on `pairs`: midway between two consecutive scores (ties
/// broken towards the middle of the best run).
fn best_threshold(pairs: &[(bool, f32)]) -> f32 {
    let mut scores: Vec<f32> = pairs.iter().map(|p| p.1).collect();
    scores.sort_by(f32::total_cmp);
    scores.dedup();
    let mut candidates = vec![scores[0] - 1e-3];
    candidates.extend(scores.windows(2).map(|w| 0.5 * (w[0] + w[1])));
    candidates.push(scores[scores.len() - 1] + 1e-3);
    let accs: Vec<f64> = candidates.iter().map(|&t| accuracy(pairs, t)).collect();
    let best = accs.iter().copied().fold(f64::MIN, f64::max);
    let run: Vec<usize> = (0..accs.len()).filter(|&i| accs[i] == best).collect();
    candidates[run[run.len() / 2]]
}

fn protocol_accuracy(scored: &[(usize, bool, f32)], folds: usize) -> Protocol {
    let per_fold: Vec<FoldAccuracy> = (0..folds)
        .map(|k| {
            let train: Vec<(bool, f32)> = scored
                .iter()
                .filter(|p| p.0 != k || folds == 1)
                .map(|p| (p.1, p.2))
                .collect();
            let test: Vec<(bool, f32)> = scored
                .iter()
                .filter(|p| p.0 == k)
                .map(|p| (p.1, p.2))
                .collect();
            let t = best_threshold(&train);
            FoldAccuracy {
                fold: k + 1,
                threshold: f64::from(t),
                accuracy: accuracy(&test, t),
            }
        })
        .collect();
    let n = per_fold.len().max(1) as f64;
    let mean = per_fold.iter().map(|f| f.accuracy).sum::<f64>() / n;
    let var = per_fold
        .iter()
        .map(|f| (f.accuracy - mean).powi(2))
        .sum::<f64>()
        / n;
    Protocol {
        folds,
        pairs: scored.len(),
        accuracy_mean: mean,
        accuracy_std: var.sqrt(),
        per_fold,
    }
}

/// The threshold at which at most `far` of `fit_impostors` score at or above it, and the FAR on
/// `test_impostors` and TAR on `genuine` there.
fn at_far(far: f64, fit_impostors: &[f32], test_impostors: &[f32], genuine: &[f32]) -> AtFar {
    let t = threshold_at_far(fit_impostors, far);
    let share = |v: &[f32]| v.iter().filter(|&&s| s >= t).count() as f64 / v.len().max(1) as f64;
    AtFar {
        far_target: far,
        threshold: f64::from(t),
        far: share(test_impostors),
        tar: share(genuine),
    }
}

/// The lowest score threshold accepting at most `far` of `impostors`.
fn threshold_at_far(impostors: &[f32], far: f64) -> f32 {
    if impostors.is_empty() {
        return f32::INFINITY;
    }
    let allowed = (far * impostors.len() as f64).floor() as usize;
    let mut v = impostors.to_vec();
    // The (allowed + 1)-th highest score must be rejected: the threshold lies just above it.
    let k = v.len() - 1 - allowed.min(v.len() - 1);
    let (_, kth, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    if allowed >= impostors.len() {
        f32::NEG_INFINITY
    } else {
        kth.next_up()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_folds_of_matched_then_mismatched_pairs() {
        let text = "2\t1\nA\t1\t2\nA\t1\tB\t1\nC\t1\t3\nC\t2\tD\t4\n";
        let p = parse(text).unwrap();
        assert_eq!(p.len(), 4);
        assert!(p[0].genuine && !p[1].genuine && p[2].genuine && !p[3].genuine);
        assert_eq!((p[2].fold, p[3].b.name.as_str(), p[3].b.index), (1, "D", 4));
    }

    #[test]
    fn refuses_malformed_lists() {
        for bad in [
            "",
            "x\ty\n",
            "1\t1\nA\t1\n",
            "1\t1\nA\t1\t2\n",
            "1\t1\nA\t1\t2\nA\t1\tB\t0\n",
            "1\t1\nA\t1\t2\nA\t1\t../B\t1\n",
            "1\t1\nA\t1\t2\nA\t1\tB\t1\nextra\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn threshold_at_far_accepts_at_most_the_share() {
        let imp: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let t = threshold_at_far(&imp, 0.01);
        let accepted = imp.iter().filter(|&&s| s >= t).count();
        assert_eq!(accepted, 10, "threshold {t}");
        let t0 = threshold_at_far(&imp, 0.0);
        assert_eq!(imp.iter().filter(|&&s| s >= t0).count(), 0);
    }

    #[test]
    fn best_threshold_separates_separable_scores() {
        let pairs = [(true, 0.9), (true, 0.7), (false, 0.2), (false, 0.4)];
        let t = best_threshold(&pairs);
        assert!((0.4..0.7).contains(&t), "{t}");
        assert_eq!(accuracy(&pairs, t), 1.0);
    }
}
