//! From one comparison to a gallery. A probe searched against `N` independent impostor templates
//! is falsely matched when any one of them scores above the threshold, so with a per-comparison
//! false-accept rate `FAR_1` the chance of at least one false hit is
//!
//! ```text
//! FAR_N = 1 - (1 - FAR_1)^N          (~ N * FAR_1 while that is small)
//! ```
//!
//! and holding `FAR_N` at a target needs `FAR_1 = 1 - (1 - FAR_N)^(1/N)`. Both are computed with
//! `ln_1p` / `exp_m1` so tiny rates (1e-9 at a million templates) do not round to zero.
//! Independence is an assumption: relatives and look-alikes in one gallery make it optimistic.

/// The chance that a search over `n` impostors gives at least one false hit.
pub fn at_gallery(far_1: f64, n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let f = far_1.clamp(0.0, 1.0);
    if f >= 1.0 {
        return 1.0;
    }
    -((n as f64) * (-f).ln_1p()).exp_m1()
}

/// The per-comparison rate that keeps a search over `n` templates at `far_n`.
pub fn per_comparison(far_n: f64, n: usize) -> f64 {
    let f = far_n.clamp(0.0, 1.0);
    if n <= 1 || f >= 1.0 {
        return f;
    }
    -((-f).ln_1p() / n as f64).exp_m1()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correction_round_trips_and_grows_with_n() {
        assert_eq!(at_gallery(1e-4, 0), 0.0);
        assert!((at_gallery(1e-4, 1) - 1e-4).abs() < 1e-12);
        // 1e-6 per comparison over 1M templates: 1 - 1/e.
        assert!((at_gallery(1e-6, 1_000_000) - (1.0 - (-1f64).exp())).abs() < 1e-6);
        for n in [1, 10, 10_000, 1_000_000] {
            let f1 = per_comparison(1e-3, n);
            assert!((at_gallery(f1, n) - 1e-3).abs() < 1e-9, "n={n}");
        }
        assert!(per_comparison(1e-3, 1_000_000) > 0.0);
        assert!(per_comparison(1e-3, 1_000_000) < 1.01e-9);
    }
}
