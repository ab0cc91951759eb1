//! [`ChallengeSpec::generate`](super::ChallengeSpec::generate): the palette and timing rules.

use super::{ChallengeKind, ChallengeSpec, ChallengeStep, TurnDirection};

/// Screen colours at full brightness whose chromaticities lie far apart (the corners and edge
/// midpoints of the sRGB gamut): any two differ by at least one full channel, so the light they
/// cast on skin differs in hue, not only in brightness. No white or black: they change brightness
/// alone, which auto-exposure undoes.
pub const PALETTE: [[u8; 3]; 6] = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [255, 0, 255],
    [0, 255, 255],
];

/// Shortest colour step, milliseconds: 350 ms keeps the changes under 3 per second (WCAG 2.3.1:
/// no more than three flashes in any one second) and gives the camera's auto white balance and a
/// 15 fps analysis at least 5 frames per colour.
pub const MIN_STEP_MS: u32 = 350;
/// Longest colour step, milliseconds: longer steps let auto white balance eat more of the colour.
pub const MAX_STEP_MS: u32 = 600;
/// Colours per sequence: each step adds a nearly independent bit of evidence against a guess;
/// 7 steps of at most 600 ms stay within a 4-6 s selfie clip.
pub const COLOUR_MIN_STEPS: usize = 6;
pub const COLOUR_MAX_STEPS: usize = 7;
/// One head turn, milliseconds: reaction (~0.5 s), the turn and the return.
pub const TURN_STEP_MS: u32 = 1500;
/// Directions per head-turn challenge.
const TURN_MIN_STEPS: usize = 2;
const TURN_MAX_STEPS: usize = 3;
const DIRECTIONS: [TurnDirection; 3] =
    [TurnDirection::Left, TurnDirection::Right, TurnDirection::Up];

pub(super) fn generate(kind: ChallengeKind, seed: u64) -> ChallengeSpec {
    let mut rng = SplitMix64(seed);
    let steps = match kind {
        ChallengeKind::Colour => {
            let n = rng.between(COLOUR_MIN_STEPS, COLOUR_MAX_STEPS);
            let colours = no_repeats(&mut rng, n, PALETTE.len());
            colours
                .into_iter()
                .map(|c| ChallengeStep::Colour {
                    rgb: PALETTE[c],
                    // 50 ms grain: the SDK paints on animation frames (16.7 ms) anyway.
                    duration_ms: MIN_STEP_MS
                        + 50 * rng.between(0, ((MAX_STEP_MS - MIN_STEP_MS) / 50) as usize) as u32,
                })
                .collect()
        }
        ChallengeKind::HeadTurn => {
            let n = rng.between(TURN_MIN_STEPS, TURN_MAX_STEPS);
            no_repeats(&mut rng, n, DIRECTIONS.len())
                .into_iter()
                .map(|d| ChallengeStep::Turn {
                    direction: DIRECTIONS[d],
                    duration_ms: TURN_STEP_MS,
                })
                .collect()
        }
    };
    ChallengeSpec { kind, steps }
}

/// `n` indices below `k`, no index twice in a row.
fn no_repeats(rng: &mut SplitMix64, n: usize, k: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(n);
    for _ in 0..n {
        let next = match out.last() {
            // Draw among the k - 1 others: uniform without rejection.
            Some(&prev) => (prev + 1 + rng.between(0, k - 2)) % k,
            None => rng.between(0, k - 1),
        };
        out.push(next);
    }
    out
}

/// SplitMix64: a small, well-mixed generator whose output is fixed by its seed forever (a spec
/// regenerated from a stored seed must not change with a dependency's version).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (the modulo bias over 2^64 is negligible for these ranges).
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_sequences_follow_the_rules() {
        for seed in 0..2000 {
            let spec = generate(ChallengeKind::Colour, seed);
            assert_eq!(spec, generate(ChallengeKind::Colour, seed), "deterministic");
            assert!((COLOUR_MIN_STEPS..=COLOUR_MAX_STEPS).contains(&spec.steps.len()));
            let mut prev = None;
            for step in &spec.steps {
                let ChallengeStep::Colour { rgb, duration_ms } = *step else {
                    panic!("a colour challenge has colour steps")
                };
                assert!(PALETTE.contains(&rgb));
                assert!((MIN_STEP_MS..=MAX_STEP_MS).contains(&duration_ms));
                // At most 3 changes in any second.
                assert!(1000.0 / f64::from(duration_ms) < 3.0);
                assert_ne!(prev, Some(rgb), "seed {seed}: a colour twice in a row");
                prev = Some(rgb);
            }
        }
    }

    #[test]
    fn colour_sequences_use_the_whole_palette_evenly() {
        let mut counts = [0usize; PALETTE.len()];
        for seed in 0..3000 {
            for step in generate(ChallengeKind::Colour, seed).steps {
                if let ChallengeStep::Colour { rgb, .. } = step {
                    counts[PALETTE.iter().position(|&p| p == rgb).unwrap()] += 1;
                }
            }
        }
        let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
        for c in counts {
            assert!((c as f64 - mean).abs() < 0.05 * mean, "{counts:?}");
        }
    }

    #[test]
    fn head_turns_follow_the_rules() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..500 {
            let spec = generate(ChallengeKind::HeadTurn, seed);
            assert!((2..=3).contains(&spec.steps.len()));
            let dirs: Vec<TurnDirection> = spec
                .steps
                .iter()
                .map(|s| match *s {
                    ChallengeStep::Turn {
                        direction,
                        duration_ms,
                    } => {
                        assert_eq!(duration_ms, TURN_STEP_MS);
                        direction
                    }
                    ChallengeStep::Colour { .. } => panic!("turn steps only"),
                })
                .collect();
            assert!(dirs.windows(2).all(|w| w[0] != w[1]), "{dirs:?}");
            seen.insert(dirs);
        }
        // 3*2 two-step and 3*2*2 three-step sequences: all of them appear.
        assert_eq!(seen.len(), 18);
    }
}
