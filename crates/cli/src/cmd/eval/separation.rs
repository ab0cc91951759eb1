//! Each signal alone: how it separates every attack species from the bona fide rows, and whether
//! it moves with the clip's resolution or frame rate among the bona fide rows (a feature that does
//! would separate synthetic attacks, all made at one size and rate, for the wrong reason).

use super::manifest::Label;
use super::report::Outcome;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, PartialEq)]
pub struct Separation {
    /// `liveness.<name>` or `deepfake.<name>`, or `attack_score` (the fused decision score).
    pub signal: String,
    /// P(an attack of the species reads higher than a bona fide row); 0.5 = no separation, below
    /// 0.5 = attacks read lower. Rows without the value are left out.
    pub auc: BTreeMap<String, f64>,
    /// Spearman rank correlation with the short side and with the frame rate, bona fide rows.
    pub bona_fide_vs_short_side: Option<f64>,
    pub bona_fide_vs_fps: Option<f64>,
}

pub fn separation(outcomes: &[Outcome]) -> Vec<Separation> {
    let judged: Vec<&Outcome> = outcomes.iter().filter(|o| o.error.is_none()).collect();
    let mut names: Vec<String> = vec!["attack_score".into()];
    for o in &judged {
        for (prefix, list) in [
            ("liveness.", &o.liveness_signals),
            ("deepfake.", &o.deepfake_signals),
        ] {
            for (n, _) in list {
                let name = format!("{prefix}{n}");
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    let value = |o: &Outcome, name: &str| -> Option<f64> {
        if name == "attack_score" {
            return o.attack_score();
        }
        let (list, n) = match name.split_once('.') {
            Some(("liveness", n)) => (&o.liveness_signals, n),
            Some((_, n)) => (&o.deepfake_signals, n),
            None => return None,
        };
        list.iter()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| *v)
            .filter(|v| v.is_finite())
    };
    let mut species: Vec<&str> = judged
        .iter()
        .filter(|o| o.row.label != Label::Live)
        .map(|o| o.row.species.as_str())
        .collect();
    species.sort_unstable();
    species.dedup();
    names
        .iter()
        .map(|name| {
            let bona: Vec<(f64, &Outcome)> = judged
                .iter()
                .filter(|o| o.row.label == Label::Live)
                .filter_map(|o| Some((value(o, name)?, *o)))
                .collect();
            let live: Vec<f64> = bona.iter().map(|b| b.0).collect();
            let auc = species
                .iter()
                .filter_map(|sp| {
                    let attacks: Vec<f64> = judged
                        .iter()
                        .filter(|o| o.row.label != Label::Live && o.row.species == *sp)
                        .filter_map(|o| value(o, name))
                        .collect();
                    Some((sp.to_string(), auc(&attacks, &live)?))
                })
                .collect();
            let against = |f: &dyn Fn(&Outcome) -> Option<f64>| {
                let (a, b): (Vec<f64>, Vec<f64>) =
                    bona.iter().filter_map(|(v, o)| Some((*v, f(o)?))).unzip();
                spearman(&a, &b)
            };
            Separation {
                signal: name.clone(),
                auc,
                bona_fide_vs_short_side: against(&|o| o.short_side.map(f64::from)),
                bona_fide_vs_fps: against(&|o| o.fps),
            }
        })
        .collect()
}

/// P(x > y) + P(x = y) / 2 over all pairs; `None` without both.
pub fn auc(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let mut wins = 0.0;
    for a in x {
        for b in y {
            wins += if a > b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            };
        }
    }
    Some(wins / (x.len() * y.len()) as f64)
}

/// Ranks with ties averaged.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for k in i..=j {
            r[idx[k]] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation; `None` with fewer than 4 pairs or a constant side.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 4 || a.len() != b.len() {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let mean = (a.len() - 1) as f64 / 2.0;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ra.iter().zip(&rb) {
        sab += (x - mean) * (y - mean);
        saa += (x - mean).powi(2);
        sbb += (y - mean).powi(2);
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::super::report::tests::outcome;
    use super::*;

    #[test]
    fn auc_and_rank_correlation_on_known_cases() {
        assert_eq!(auc(&[3.0, 4.0], &[1.0, 2.0]), Some(1.0));
        assert_eq!(auc(&[1.0], &[1.0, 2.0]), Some(0.25));
        assert_eq!(auc(&[], &[1.0]), None);
        let up = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((spearman(&up, &[10.0, 20.0, 30.0, 40.0, 50.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&up, &[5.0, 4.0, 3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(spearman(&up, &[1.0; 5]), None);
        let mut rows = Vec::new();
        for i in 0..5 {
            let mut o = outcome(Label::Live, "live", Some(0.1 * f64::from(i)), &[]);
            o.short_side = Some(360 + 100 * i);
            rows.push(o);
            rows.push(outcome(Label::Spoof, "screen", Some(0.9), &[]));
        }
        let s = separation(&rows);
        let pad = s.iter().find(|s| s.signal == "liveness.pad_model").unwrap();
        assert_eq!(pad.auc["screen"], 1.0);
        assert!((pad.bona_fide_vs_short_side.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(pad.bona_fide_vs_fps, None);
    }
}
