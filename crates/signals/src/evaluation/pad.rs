//! ISO/IEC 30107-3 presentation attack detection metrics.
//!
//! - APCER (attack presentation classification error rate), per attack species: the share of
//!   that species' attacks classified as bona fide. The standard reports the worst species
//!   (`apcer_max`) rather than a pooled rate, so a rare but effective attack is not averaged away.
//! - BPCER (bona fide presentation classification error rate): the share of bona fide
//!   presentations classified as attacks.
//! - ACER = (APCER_max + BPCER) / 2: common in the literature (OULU-NPU, CelebA-Spoof); the
//!   standard itself discourages averaging the two, so it is reported, not optimised.
//! - BPCER at APCER = 1 % (BPCER100): the bona fide error at the loosest threshold that keeps
//!   every species' APCER at or below 1 %.
//!
//! Scores are attack scores: higher means more likely an attack, and a presentation is classified
//! as an attack when its score is at or above the threshold.

use super::{MetricsError, check_scores, check_target};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What was presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    BonaFide,
    /// An attack of the named species (print, replay, mask, deepfake, ...).
    Attack(String),
}

/// One scored presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PadSample {
    pub score: f64,
    pub presentation: Presentation,
}

/// APCER of one attack species.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeciesApcer {
    pub species: String,
    pub attacks: usize,
    /// Attacks classified as bona fide.
    pub accepted: usize,
    pub apcer: f64,
}

/// PAD error rates at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PadMetrics {
    pub threshold: f64,
    pub bona_fide: usize,
    /// Bona fide presentations classified as attacks.
    pub rejected_bona_fide: usize,
    pub bpcer: f64,
    /// Per species, sorted by name.
    pub apcer_per_species: Vec<SpeciesApcer>,
    pub apcer_max: f64,
    pub acer: f64,
}

/// BPCER at the loosest threshold meeting an APCER target for every species.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BpcerAtApcer {
    pub target_apcer: f64,
    pub threshold: f64,
    pub bpcer: f64,
    pub apcer_max: f64,
    /// Whether every species has enough attacks to observe the target (n * target >= 1);
    /// otherwise the threshold must catch every attack of that species.
    pub resolvable: bool,
}

/// Attack scores by species name.
type SpeciesScores = BTreeMap<String, Vec<f64>>;

/// Splits samples into bona fide scores and attack scores per species (validated).
fn split(samples: &[PadSample]) -> Result<(Vec<f64>, SpeciesScores), MetricsError> {
    let mut bona_fide = Vec::new();
    let mut attacks = SpeciesScores::new();
    for s in samples {
        match &s.presentation {
            Presentation::BonaFide => bona_fide.push(s.score),
            Presentation::Attack(species) => {
                attacks.entry(species.clone()).or_default().push(s.score)
            }
        }
    }
    check_scores("bona fide", &bona_fide)?;
    if attacks.is_empty() {
        return Err(MetricsError::Empty { which: "attack" });
    }
    for scores in attacks.values() {
        check_scores("attack", scores)?;
    }
    Ok((bona_fide, attacks))
}

/// APCER per species, BPCER and ACER at `threshold`.
pub fn pad_metrics(samples: &[PadSample], threshold: f64) -> Result<PadMetrics, MetricsError> {
    let (bona_fide, attacks) = split(samples)?;
    let rejected = bona_fide.iter().filter(|&&s| s >= threshold).count();
    let bpcer = rejected as f64 / bona_fide.len() as f64;
    let apcer_per_species: Vec<SpeciesApcer> = attacks
        .into_iter()
        .map(|(species, scores)| {
            let accepted = scores.iter().filter(|&&s| s < threshold).count();
            SpeciesApcer {
                species,
                attacks: scores.len(),
                accepted,
                apcer: accepted as f64 / scores.len() as f64,
            }
        })
        .collect();
    let apcer_max = apcer_per_species
        .iter()
        .map(|s| s.apcer)
        .fold(0.0, f64::max);
    Ok(PadMetrics {
        threshold,
        bona_fide: bona_fide.len(),
        rejected_bona_fide: rejected,
        bpcer,
        apcer_per_species,
        apcer_max,
        acer: 0.5 * (apcer_max + bpcer),
    })
}

/// BPCER at the loosest threshold where every species' APCER is at most `target_apcer`
/// (`0.01` for BPCER100).
pub fn bpcer_at_apcer(
    samples: &[PadSample],
    target_apcer: f64,
) -> Result<BpcerAtApcer, MetricsError> {
    check_target(target_apcer)?;
    let (_, attacks) = split(samples)?;
    let mut threshold = f64::INFINITY;
    let mut resolvable = true;
    for scores in attacks.values() {
        let mut sorted = scores.clone();
        sorted.sort_by(f64::total_cmp);
        // At most `allowed` attacks may score below the threshold: it may not exceed the next one.
        let allowed = (target_apcer * sorted.len() as f64 + super::FLOOR_GUARD).floor() as usize;
        if allowed < sorted.len() {
            threshold = threshold.min(sorted[allowed]);
        }
        resolvable &= sorted.len() as f64 * target_apcer >= 1.0;
    }
    let at = pad_metrics(samples, threshold)?;
    Ok(BpcerAtApcer {
        target_apcer,
        threshold,
        bpcer: at.bpcer,
        apcer_max: at.apcer_max,
        resolvable,
    })
}

/// Attack scores (all species pooled) and bona fide scores, for [`super::curves`]: with attacks
/// as positives, the DET's false-positive rate is BPCER and its false-negative rate pooled APCER.
pub fn pooled_scores(samples: &[PadSample]) -> (Vec<f64>, Vec<f64>) {
    let (mut attacks, mut bona_fide) = (Vec::new(), Vec::new());
    for s in samples {
        match s.presentation {
            Presentation::BonaFide => bona_fide.push(s.score),
            Presentation::Attack(_) => attacks.push(s.score),
        }
    }
    (attacks, bona_fide)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    fn sample(score: f64, species: Option<&str>) -> PadSample {
        PadSample {
            score,
            presentation: species
                .map_or(Presentation::BonaFide, |s| Presentation::Attack(s.into())),
        }
    }

    #[test]
    fn rates_of_a_small_example_match_hand_counts() {
        let samples = vec![
            sample(0.1, None),
            sample(0.2, None),
            sample(0.6, None),
            sample(0.4, None),
            sample(0.9, Some("print")),
            sample(0.3, Some("print")),
            sample(0.8, Some("replay")),
            sample(0.7, Some("replay")),
            sample(0.2, Some("replay")),
            sample(0.1, Some("replay")),
        ];
        let m = pad_metrics(&samples, 0.5).unwrap();
        assert_eq!((m.bona_fide, m.rejected_bona_fide, m.bpcer), (4, 1, 0.25));
        let print = &m.apcer_per_species[0];
        assert_eq!(
            (
                print.species.as_str(),
                print.attacks,
                print.accepted,
                print.apcer
            ),
            ("print", 2, 1, 0.5)
        );
        let replay = &m.apcer_per_species[1];
        assert_eq!((replay.attacks, replay.accepted, replay.apcer), (4, 2, 0.5));
        assert_eq!(m.apcer_max, 0.5);
        assert_eq!(m.acer, 0.375);
    }

    #[test]
    fn bpcer100_holds_every_species_to_one_percent_at_the_loosest_threshold() {
        let mut rng = Rng::new(111);
        let mut samples: Vec<PadSample> = (0..1000).map(|_| sample(rng.normal(), None)).collect();
        for _ in 0..300 {
            samples.push(sample(3.0 + rng.normal(), Some("print")));
            samples.push(sample(2.0 + 0.5 * rng.normal(), Some("replay")));
        }
        let b = bpcer_at_apcer(&samples, 0.01).unwrap();
        assert!(b.resolvable);
        assert!(b.apcer_max <= 0.01, "{b:?}");
        // Any looser (higher) threshold lets one more attack of the binding species through.
        let looser = pad_metrics(&samples, b.threshold.next_up()).unwrap();
        assert!(looser.apcer_max > 0.01, "{looser:?}");
        let at = pad_metrics(&samples, b.threshold).unwrap();
        assert_eq!(at.bpcer, b.bpcer);
        // The replay species binds: its 1 % quantile is 2 - 2.33 * 0.5 = 0.84, where a standard
        // normal bona fide score exceeds it with probability ~0.20.
        let expected = crate::math::normal::sf(2.0 - 0.5 * crate::math::normal::quantile(0.99));
        assert!(
            (b.bpcer - expected).abs() < 0.05,
            "{} vs {expected}",
            b.bpcer
        );
    }

    #[test]
    fn needs_both_classes() {
        let only_attacks = vec![sample(0.9, Some("print"))];
        assert_eq!(
            pad_metrics(&only_attacks, 0.5).unwrap_err(),
            MetricsError::Empty { which: "bona fide" }
        );
        let only_bona_fide = vec![sample(0.1, None)];
        assert_eq!(
            pad_metrics(&only_bona_fide, 0.5).unwrap_err(),
            MetricsError::Empty { which: "attack" }
        );
    }
}
