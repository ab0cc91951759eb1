//! ROC and DET curves, equal error rate, and TAR at a fixed FAR, from two sets of raw scores.
//!
//! Convention: a higher score means "positive" (same person for matching, attack for PAD), and a
//! sample is accepted as positive when its score is at or above the threshold. Every distinct
//! score is a threshold, so the curves are exact step functions of the data, not binned.

use super::{MetricsError, check_scores, check_target};
use crate::math::normal;
use serde::{Deserialize, Serialize};

/// One point of a ROC curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub threshold: f64,
    /// Share of negatives at or above the threshold (FAR for matching, BPCER for PAD).
    pub false_positive_rate: f64,
    /// Share of positives at or above the threshold (TAR for matching).
    pub true_positive_rate: f64,
}

/// One point of a DET curve, with its axes on the normal-deviate scale the plot uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetPoint {
    pub threshold: f64,
    pub false_positive_rate: f64,
    /// Share of positives below the threshold (FRR for matching, APCER for PAD).
    pub false_negative_rate: f64,
    /// Probit of each rate; `None` at 0 or 1 (infinitely far on a DET plot).
    pub false_positive_deviate: Option<f64>,
    pub false_negative_deviate: Option<f64>,
}

/// The rate where false positives and false negatives are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EqualErrorRate {
    pub rate: f64,
    /// Threshold at the crossing, interpolated between the two bracketing scores.
    pub threshold: f64,
}

/// The operating point for a target false-accept rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    pub target_far: f64,
    /// Lowest threshold whose measured FAR does not exceed the target.
    pub threshold: f64,
    pub far: f64,
    pub tar: f64,
    pub impostor_count: usize,
    pub genuine_count: usize,
    /// Whether there are enough impostors to observe the target at all (N * target >= 1);
    /// otherwise FAR 0 is all the data show and the TAR is optimistic.
    pub resolvable: bool,
}

fn sorted_descending(scores: &[f64]) -> Vec<f64> {
    let mut s = scores.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    s
}

/// Count of `sorted_desc` scores at or above `t`.
fn at_or_above(sorted_desc: &[f64], t: f64) -> usize {
    sorted_desc.partition_point(|&s| s >= t)
}

/// The ROC curve from the strictest threshold (+inf: nothing accepted) to the loosest (the lowest
/// score: everything accepted).
pub fn roc_curve(positives: &[f64], negatives: &[f64]) -> Result<Vec<RocPoint>, MetricsError> {
    check_scores("positive", positives)?;
    check_scores("negative", negatives)?;
    let (pos, neg) = (sorted_descending(positives), sorted_descending(negatives));
    let mut thresholds: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    let (np, nn) = (pos.len() as f64, neg.len() as f64);
    Ok(std::iter::once(f64::INFINITY)
        .chain(thresholds)
        .map(|t| RocPoint {
            threshold: t,
            false_positive_rate: at_or_above(&neg, t) as f64 / nn,
            true_positive_rate: at_or_above(&pos, t) as f64 / np,
        })
        .collect())
}

fn deviate(rate: f64) -> Option<f64> {
    (rate > 0.0 && rate < 1.0).then(|| normal::quantile(rate))
}

/// The DET curve: the ROC's error rates, with probit coordinates for plotting.
pub fn det_curve(positives: &[f64], negatives: &[f64]) -> Result<Vec<DetPoint>, MetricsError> {
    Ok(roc_curve(positives, negatives)?
        .into_iter()
        .map(|p| {
            let fnr = 1.0 - p.true_positive_rate;
            DetPoint {
                threshold: p.threshold,
                false_positive_rate: p.false_positive_rate,
                false_negative_rate: fnr,
                false_positive_deviate: deviate(p.false_positive_rate),
                false_negative_deviate: deviate(fnr),
            }
        })
        .collect())
}

/// The equal error rate, by linear interpolation between the two ROC points where
/// `false positive rate - false negative rate` changes sign.
pub fn equal_error_rate(
    positives: &[f64],
    negatives: &[f64],
) -> Result<EqualErrorRate, MetricsError> {
    let roc = roc_curve(positives, negatives)?;
    let gap = |p: &RocPoint| p.false_positive_rate - (1.0 - p.true_positive_rate);
    // The first point (+inf) has gap -1, the last (lowest score) gap +1: a crossing exists.
    let i = roc
        .iter()
        .position(|p| gap(p) >= 0.0)
        .expect("the loosest threshold accepts all");
    let (a, b) = (&roc[i - 1], &roc[i]);
    let (ga, gb) = (gap(a), gap(b));
    let f = if gb > ga { -ga / (gb - ga) } else { 0.0 };
    let rate = a.false_positive_rate + f * (b.false_positive_rate - a.false_positive_rate);
    let threshold = if a.threshold.is_finite() {
        a.threshold + f * (b.threshold - a.threshold)
    } else {
        b.threshold
    };
    Ok(EqualErrorRate { rate, threshold })
}

/// True-accept rate at the lowest threshold whose false-accept rate is at most `target_far`.
pub fn tar_at_far(
    genuine: &[f64],
    impostors: &[f64],
    target_far: f64,
) -> Result<OperatingPoint, MetricsError> {
    check_scores("genuine", genuine)?;
    check_scores("impostor", impostors)?;
    check_target(target_far)?;
    let (gen_sorted, imp) = (sorted_descending(genuine), sorted_descending(impostors));
    let n = imp.len();
    // At most `allowed` impostors may be accepted: the threshold sits just above the next one.
    let allowed = (target_far * n as f64 + super::FLOOR_GUARD).floor() as usize;
    let threshold = if allowed >= n {
        f64::NEG_INFINITY
    } else {
        imp[allowed].next_up()
    };
    Ok(OperatingPoint {
        target_far,
        threshold,
        far: at_or_above(&imp, threshold) as f64 / n as f64,
        tar: at_or_above(&gen_sorted, threshold) as f64 / gen_sorted.len() as f64,
        impostor_count: n,
        genuine_count: gen_sorted.len(),
        resolvable: n as f64 * target_far >= 1.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Rng;

    #[test]
    fn roc_of_a_small_example_is_exact() {
        let roc = roc_curve(&[0.9, 0.8, 0.4], &[0.7, 0.4, 0.1]).unwrap();
        let points: Vec<(f64, f64, f64)> = roc
            .iter()
            .map(|p| (p.threshold, p.false_positive_rate, p.true_positive_rate))
            .collect();
        let third = 1.0 / 3.0;
        assert_eq!(
            points,
            vec![
                (f64::INFINITY, 0.0, 0.0),
                (0.9, 0.0, third),
                (0.8, 0.0, 2.0 * third),
                (0.7, third, 2.0 * third),
                (0.4, 2.0 * third, 1.0),
                (0.1, 1.0, 1.0),
            ]
        );
    }

    #[test]
    fn eer_of_two_unit_gaussians_two_sigma_apart_is_phi_of_minus_one() {
        let mut rng = Rng::new(101);
        let pos: Vec<f64> = (0..20_000).map(|_| 1.0 + rng.normal()).collect();
        let neg: Vec<f64> = (0..20_000).map(|_| -1.0 + rng.normal()).collect();
        let eer = equal_error_rate(&pos, &neg).unwrap();
        assert!((eer.rate - normal::cdf(-1.0)).abs() < 0.008, "{eer:?}");
        assert!(eer.threshold.abs() < 0.05);
        let det = det_curve(&pos, &neg).unwrap();
        assert_eq!(det[0].false_positive_deviate, None);
        let mid = &det[det.len() / 2];
        let back = normal::cdf(mid.false_negative_deviate.unwrap());
        assert!((back - mid.false_negative_rate).abs() < 1e-9);
    }

    #[test]
    fn tar_at_far_accepts_no_more_impostors_than_allowed() {
        let impostors: Vec<f64> = (1..=100).map(|i| i as f64 / 100.0).collect();
        let genuine = [0.995, 0.999, 1.5, 0.2];
        let p = tar_at_far(&genuine, &impostors, 0.01).unwrap();
        assert_eq!((p.far, p.tar, p.resolvable), (0.01, 0.75, true));
        assert!(p.threshold > 0.99 && p.threshold <= 1.0);
        let strict = tar_at_far(&genuine, &impostors, 0.001).unwrap();
        assert_eq!(
            (strict.far, strict.tar, strict.resolvable),
            (0.0, 0.25, false)
        );
        // Ties at the boundary are all rejected rather than exceeding the target.
        let tied = tar_at_far(&genuine, &[0.5; 10], 0.05).unwrap();
        assert_eq!(tied.far, 0.0);
        assert!(tar_at_far(&genuine, &impostors, 1.5).is_err());
    }
}
