//! Head-turn challenge verification: did the head turn the issued ways, in the issued order?
//!
//! Two measures per frame: the nose tip's position along the eye line (0.5 frontal, larger as
//! the head turns to the user's left in the camera's unmirrored frame, as browsers record) and the nose
//! tip's drop below the eye line over the eye distance (smaller as the head tilts up). Each is
//! taken relative to its value before the first step (or its median). In each step's window the
//! largest excursion towards left, right and up is measured in units of its threshold; a step is
//! answered when its own direction reaches 1 and beats its rivals (a turn the opposite turn, an
//! upward look both turns), and the extremes must come in the issued order.

use super::{
    ChallengeFrame, ChallengeKind, ChallengeResult, ChallengeSpec, ChallengeStep, StepResult,
    TurnDirection, Unverifiable, unverified,
};
use crate::math::stats;
use serde::{Deserialize, Serialize};

/// Thresholds of the head-turn challenge (`[engine.challenge.head_turn]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadTurnConfig {
    /// Smallest change of the nose position along the eye line (eye distances) that counts as a
    /// left or right turn.
    pub min_turn: f64,
    /// Smallest decrease of the nose drop (eye distances) that counts as looking up.
    pub min_up: f64,
    /// A step's window opens this long after it was shown (no one reacts faster), seconds.
    pub react_s: f64,
    /// ... and closes this long after the step ended (a late turn still counts), seconds.
    pub tail_s: f64,
    /// Fewest frames with a face in a step's window.
    pub min_frames_per_step: usize,
}

impl Default for HeadTurnConfig {
    fn default() -> Self {
        Self {
            min_turn: 0.1,
            min_up: 0.08,
            react_s: 0.2,
            tail_s: 0.3,
            min_frames_per_step: 4,
        }
    }
}

/// The excursions of one window, in threshold units: (left, right, up) and their frames' times.
#[derive(Debug, Clone, Copy, Default)]
struct Excursions {
    value: [f64; 3],
    at: [f64; 3],
    frames: usize,
}

fn direction_index(d: TurnDirection) -> usize {
    match d {
        TurnDirection::Left => 0,
        TurnDirection::Right => 1,
        TurnDirection::Up => 2,
    }
}

pub(super) fn verify(
    spec: &ChallengeSpec,
    times: &[(f64, f64)],
    frames: &[ChallengeFrame],
    cfg: &HeadTurnConfig,
) -> ChallengeResult {
    let dirs: Option<Vec<TurnDirection>> = spec
        .steps
        .iter()
        .map(|s| match *s {
            ChallengeStep::Turn { direction, .. } => Some(direction),
            ChallengeStep::Colour { .. } => None,
        })
        .collect();
    let Some(dirs) = dirs.filter(|d| !d.is_empty() && spec.kind == ChallengeKind::HeadTurn) else {
        return unverified(spec, &Unverifiable::MalformedSpec);
    };
    let measured: Vec<(f64, f64, f64)> = frames
        .iter()
        .filter_map(|f| Some((f.t, f.nose_position?, f.nose_drop?)))
        .collect();
    // The pose before the first step (the user faces the camera), else the median pose.
    let first = times.first().map_or(0.0, |t| t.0) + cfg.react_s;
    let before: Vec<&(f64, f64, f64)> = measured.iter().filter(|m| m.0 < first).collect();
    let pick = |sel: fn(&(f64, f64, f64)) -> f64| {
        if before.len() >= 3 {
            stats::median(&before.iter().map(|m| sel(m)).collect::<Vec<_>>())
        } else {
            stats::median(&measured.iter().map(sel).collect::<Vec<_>>())
        }
    };
    if measured.len() < (cfg.min_frames_per_step * dirs.len()).max(1) {
        return unverified(
            spec,
            &Unverifiable::TooFewFrames {
                found: measured.len(),
                min: cfg.min_frames_per_step * dirs.len(),
            },
        );
    }
    let (h0, v0) = (pick(|m| m.1), pick(|m| m.2));

    let windows: Vec<Excursions> = times
        .iter()
        .map(|&(s, e)| {
            let mut x = Excursions {
                value: [f64::NEG_INFINITY; 3],
                ..Excursions::default()
            };
            for &(t, h, v) in &measured {
                if t < s + cfg.react_s || t > e + cfg.tail_s {
                    continue;
                }
                x.frames += 1;
                let ex = [
                    (h - h0) / cfg.min_turn,
                    (h0 - h) / cfg.min_turn,
                    (v0 - v) / cfg.min_up,
                ];
                for k in 0..3 {
                    if ex[k] > x.value[k] {
                        x.value[k] = ex[k];
                        x.at[k] = t;
                    }
                }
            }
            x
        })
        .collect();
    let mut per_step: Vec<StepResult> = dirs
        .iter()
        .zip(&windows)
        .enumerate()
        .map(|(index, (&d, w))| {
            let k = direction_index(d);
            let own = w.value[k];
            // A left or right turn must beat the opposite turn; an upward look must beat both
            // turns. A turn is not asked to beat "up": a strong turn (or the upward glance
            // people add to it) shortens the nose's drop below the eyes as well.
            let rivals: &[usize] = match d {
                TurnDirection::Left => &[1],
                TurnDirection::Right => &[0],
                TurnDirection::Up => &[0, 1],
            };
            let dominant = rivals.iter().all(|&j| own > w.value[j]);
            let enough = w.frames >= cfg.min_frames_per_step;
            StepResult {
                index,
                passed: enough && own >= 1.0 && dominant,
                score: if enough { own.max(0.0) } else { 0.0 },
                at_seconds: enough.then_some(w.at[k]),
            }
        })
        .collect();
    // The extremes must come in the issued order.
    let mut last = f64::NEG_INFINITY;
    for s in per_step.iter_mut() {
        if let (true, Some(t)) = (s.passed, s.at_seconds) {
            if t <= last {
                s.passed = false;
            } else {
                last = t;
            }
        }
    }
    let answered = per_step.iter().filter(|s| s.passed).count() as f64 / per_step.len() as f64;
    ChallengeResult {
        kind: ChallengeKind::HeadTurn,
        passed: answered >= 1.0,
        score: answered,
        lag_ms: cfg.react_s * 1000.0,
        per_step,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ChallengeConfig, ChallengeEvidence, StepShown};
    use super::*;

    /// 15 fps frames: frontal for 1 s, then one turn per 1.5 s in `dirs`, each peaking 0.8 s
    /// after its step starts.
    fn frames(dirs: &[TurnDirection]) -> Vec<ChallengeFrame> {
        let total = 1.0 + 1.5 * dirs.len() as f64 + 0.5;
        (0..(total * 15.0) as usize)
            .map(|i| {
                let t = i as f64 / 15.0;
                let (mut h, mut v) = (0.5, 0.6);
                if t >= 1.0 {
                    let k = ((t - 1.0) / 1.5) as usize;
                    if let Some(d) = dirs.get(k) {
                        let phase = (t - 1.0 - 1.5 * k as f64 - 0.3).max(0.0);
                        let a = 0.25 * (std::f64::consts::PI * phase / 1.1).sin().max(0.0);
                        match d {
                            TurnDirection::Left => h += a,
                            TurnDirection::Right => h -= a,
                            TurnDirection::Up => v -= 0.8 * a,
                        }
                    }
                }
                ChallengeFrame {
                    t,
                    nose_position: Some(h),
                    nose_drop: Some(v),
                    ..ChallengeFrame::default()
                }
            })
            .collect()
    }

    fn spec(dirs: &[TurnDirection]) -> ChallengeSpec {
        ChallengeSpec {
            kind: ChallengeKind::HeadTurn,
            steps: dirs
                .iter()
                .map(|&direction| ChallengeStep::Turn {
                    direction,
                    duration_ms: 1500,
                })
                .collect(),
        }
    }

    fn check(dirs: &[TurnDirection], f: &[ChallengeFrame]) -> ChallengeResult {
        let s = spec(dirs);
        let shown: Vec<StepShown> = (0..dirs.len())
            .map(|index| StepShown {
                index,
                shown_at_ms: 1000.0 + 1500.0 * index as f64,
            })
            .collect();
        super::super::verify(
            &ChallengeEvidence {
                spec: &s,
                shown: &shown,
            },
            f,
            &ChallengeConfig::default(),
        )
    }

    #[test]
    fn the_issued_turns_pass_and_others_fail() {
        use TurnDirection::*;
        let done = [Left, Up, Right];
        let f = frames(&done);
        assert!(check(&done, &f).passed, "{:?}", check(&done, &f));
        for wrong in [[Right, Up, Left], [Left, Right, Up], [Up, Left, Right]] {
            let r = check(&wrong, &f);
            assert!(!r.passed, "{wrong:?}: {r:?}");
        }
        let still = frames(&[]);
        assert!(!check(&done, &still).passed);
        assert!(!check(&done, &[]).passed);
    }
}
