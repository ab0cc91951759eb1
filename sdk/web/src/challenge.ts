/**
 * Shows a server-issued challenge while the clip records and logs when each step appeared on
 * screen, in ms since the recording started (the contract's `challenge_log`). Colour steps are held
 * at least 334 ms so the screen never changes more than 3 times per second (WCAG 2.3.1).
 */
import type { ChallengeStep } from "./api.js";
import type { StepShown } from "./telemetry.js";

/** The shortest a step stays on screen: at most 3 changes per second. */
export const MIN_STEP_MS = 334;

export interface StepDisplay {
  show(step: ChallengeStep, index: number): void;
  clear(): void;
}

/**
 * Runs the steps in order. Each step is applied inside an animation frame and logged with that
 * frame's timestamp, so the log is the time of the frame that first painted it.
 */
export async function runChallenge(
  steps: ChallengeStep[],
  display: StepDisplay,
  recordingStartedAt: number,
  signal: AbortSignal,
): Promise<StepShown[]> {
  const log: StepShown[] = [];
  for (let i = 0; i < steps.length; i++) {
    if (signal.aborted) break;
    const step = steps[i];
    const shownAt = await new Promise<number>((resolve) =>
      requestAnimationFrame((ts) => {
        display.show(step, i);
        resolve(ts);
      }),
    );
    log.push({ index: i, shown_at_ms: Math.round((shownAt - recordingStartedAt) * 10) / 10 });
    await sleep(Math.max(MIN_STEP_MS, step.duration_ms), signal);
  }
  display.clear();
  return log;
}

/** Total time the steps take on screen. */
export function challengeDuration(steps: ChallengeStep[]): number {
  return steps.reduce((a, s) => a + Math.max(MIN_STEP_MS, s.duration_ms), 0);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}
