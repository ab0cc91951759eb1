//! The calibrated 0-1 `verification_score` of a face match.
//!
//! A vendor publishes its score's meaning as a table: score 0.4 -> FAR 1/10, 0.5 -> 1/100,
//! 0.6 -> 1/1,000, 0.7 -> 1/10,000, 0.8 -> 1/100,000, 0.9 -> 1/1,000,000. That is one line on a
//! log scale: `score = 0.3 + 0.1 * -log10(FAR)`. If our score is defined by the same line, fed
//! with our own measured FAR at the cosine similarity observed (see [`super::far`]), then a client
//! that applies the vendor's thresholds gets the false-accept rate the vendor promised at each of
//! them, whatever our embedding's raw cosine scale is.
//!
//! Consequences, stated plainly: FAR <= 1 means the score is never below 0.3 (the range [0, 0.3)
//! is unused; every score below 0.4 means "no better than one false accept in ten"); FAR below
//! 1e-7 clamps to 1.0. The score is only as good as the FAR estimate behind it: where that is a
//! fitted tail or a count bound, [`super::far::FarEstimate::method`] says so.

use super::far::{FarEstimate, FarModel};
use serde::{Deserialize, Serialize};

/// Score at FAR = 1 (every impostor accepted).
pub const SCORE_AT_FAR_ONE: f64 = 0.3;
/// Score gained per tenfold drop of the FAR.
pub const SCORE_PER_DECADE: f64 = 0.1;

/// The score of a comparison whose false-accept rate is `far`.
pub fn score_from_far(far: f64) -> f64 {
    if far <= 0.0 {
        return 1.0;
    }
    (SCORE_AT_FAR_ONE - SCORE_PER_DECADE * far.min(1.0).log10()).clamp(0.0, 1.0)
}

/// The false-accept rate a score stands for (inverse of [`score_from_far`] on [0.3, 1]).
pub fn far_from_score(score: f64) -> f64 {
    10f64.powf(-(score.max(SCORE_AT_FAR_ONE) - SCORE_AT_FAR_ONE) / SCORE_PER_DECADE)
}

/// A calibrated match score and the FAR estimate it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationScore {
    pub similarity: f64,
    pub score: f64,
    pub far: FarEstimate,
}

/// Scores a raw similarity with our measured FAR model.
pub fn verification_score(similarity: f64, model: &FarModel) -> VerificationScore {
    let far = model.far_at(similarity);
    VerificationScore {
        similarity,
        score: score_from_far(far.far),
        far,
    }
}

/// A threshold-to-FAR table as published (thresholds ascending), interpolated linearly in
/// log10(FAR) between its rows; `None` outside its range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedFarTable {
    pub rows: Vec<(f64, f64)>,
}

impl PublishedFarTable {
    /// The table published with the silent-compare seed (`../shared/seeds`).
    pub fn silent_compare_seed() -> PublishedFarTable {
        PublishedFarTable {
            rows: vec![
                (0.4, 1e-1),
                (0.5, 1e-2),
                (0.6, 1e-3),
                (0.7, 1e-4),
                (0.8, 1e-5),
                (0.9, 1e-6),
            ],
        }
    }

    pub fn far_at(&self, threshold: f64) -> Option<f64> {
        let i = self
            .rows
            .windows(2)
            .position(|w| threshold >= w[0].0 && threshold <= w[1].0)?;
        let ((t0, f0), (t1, f1)) = (self.rows[i], self.rows[i + 1]);
        let a = (threshold - t0) / (t1 - t0);
        Some(10f64.powf(f0.log10() + a * (f1.log10() - f0.log10())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::far::FarConfig;

    #[test]
    fn the_published_table_keeps_its_meaning() {
        let table = PublishedFarTable::silent_compare_seed();
        for &(threshold, far) in &table.rows {
            assert!((score_from_far(far) - threshold).abs() < 1e-12);
            assert!((far_from_score(threshold) / far - 1.0).abs() < 1e-12);
        }
        // Between rows too: the table is log-linear, like the score.
        let far = table.far_at(0.65).unwrap();
        assert!((score_from_far(far) - 0.65).abs() < 1e-12);
        assert_eq!(table.far_at(0.95), None);
    }

    #[test]
    fn the_score_is_monotone_and_clamped() {
        assert_eq!(score_from_far(1.0), SCORE_AT_FAR_ONE);
        assert_eq!(score_from_far(2.0), SCORE_AT_FAR_ONE);
        assert_eq!(score_from_far(1e-9), 1.0);
        assert_eq!(score_from_far(0.0), 1.0);
        let fars = [0.5, 0.1, 0.03, 1e-3, 1e-6];
        assert!(
            fars.windows(2)
                .all(|w| score_from_far(w[0]) < score_from_far(w[1]))
        );
    }

    #[test]
    fn our_score_follows_our_measured_far() {
        let mut rng = crate::testutil::Rng::new(91);
        let impostors: Vec<f64> = (0..100_000).map(|_| 0.05 + 0.12 * rng.normal()).collect();
        let model = FarModel::fit(&impostors, &[], &FarConfig::default()).unwrap();
        // The similarity at which we measure FAR = 1/100 must score 0.5, like the vendor's 0.5.
        let t = model.threshold_for_far(1e-2);
        let v = verification_score(t, &model);
        assert!((v.score - 0.5).abs() < 0.005, "{v:?}");
        assert!(verification_score(t + 0.05, &model).score > v.score);
    }
}
