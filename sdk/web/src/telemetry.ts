/**
 * Client telemetry sent with the upload (the contract's `client_telemetry`): only facts a server
 * cannot see for itself. The server uses them as injection evidence and never trusts them alone.
 */

export const SDK_VERSION = "0.1.0";

export interface CameraSettings {
  width?: number;
  height?: number;
  frame_rate?: number;
}

/** A track or page event; `at_ms` is ms since the recording started (negative: before it). */
export interface TelemetryEvent {
  type: "device_change" | "track_mute" | "track_unmute" | "track_ended" | "visibility_hidden";
  at_ms: number;
}

export interface StepShown {
  index: number;
  shown_at_ms: number;
}

export interface ClientTelemetry {
  sdk_version: string;
  camera?: { label: string; facing_mode?: string; requested: CameraSettings; actual: CameraSettings };
  frames?: { count: number; mean_interval_ms: number; jitter_ms: number; dropped: number; max_gap_ms: number };
  events: TelemetryEvent[];
  webdriver: boolean;
  user_agent: string;
  recording?: { mime_type: string; started_at_ms: number; duration_ms: number };
  challenge_log?: StepShown[];
}

/** Frame timing from requestVideoFrameCallback: intervals, jitter, presented-frame gaps. */
export class FrameClock {
  private last: number | null = null;
  private lastPresented: number | null = null;
  private intervals: number[] = [];
  private dropped = 0;
  count = 0;

  /** Called once per presented frame with the callback's `now` and metadata. */
  onFrame(now: number, presentedFrames: number): void {
    this.count++;
    if (this.last !== null) this.intervals.push(now - this.last);
    if (this.lastPresented !== null && presentedFrames > this.lastPresented + 1) {
      this.dropped += presentedFrames - this.lastPresented - 1;
    }
    this.last = now;
    this.lastPresented = presentedFrames;
  }

  reset(): void {
    this.last = null;
    this.lastPresented = null;
    this.intervals = [];
    this.dropped = 0;
    this.count = 0;
  }

  /** Frames per second measured over the intervals so far (0 before two frames). */
  fps(): number {
    if (this.intervals.length === 0) return 0;
    const mean = this.intervals.reduce((a, b) => a + b, 0) / this.intervals.length;
    return mean > 0 ? 1000 / mean : 0;
  }

  summary(): NonNullable<ClientTelemetry["frames"]> {
    const n = this.intervals.length;
    const mean = n ? this.intervals.reduce((a, b) => a + b, 0) / n : 0;
    const varc = n ? this.intervals.reduce((a, b) => a + (b - mean) ** 2, 0) / n : 0;
    return {
      count: this.count,
      mean_interval_ms: round(mean),
      jitter_ms: round(Math.sqrt(varc)),
      dropped: this.dropped,
      max_gap_ms: round(n ? Math.max(...this.intervals) : 0),
    };
  }
}

export function round(x: number): number {
  return Math.round(x * 10) / 10;
}
