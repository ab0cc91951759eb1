/**
 * The camera: front camera at 640x480 or more, at least 15 fps; switching between cameras; released
 * on every way out. Records the device events the telemetry needs.
 */
import type { CameraSettings, TelemetryEvent } from "./telemetry.js";

/** The slowest camera the SDK accepts (frames per second). */
export const MIN_FPS = 15;

export const REQUESTED: Required<CameraSettings> = { width: 640, height: 480, frame_rate: 30 };

export class CameraError extends Error {
  constructor(
    readonly code: "camera_denied" | "camera_unavailable" | "camera_frame_rate",
    detail: string,
  ) {
    super(detail);
  }
}

export class Camera {
  private constructor(
    readonly stream: MediaStream,
    readonly track: MediaStreamTrack,
    onEvent: (e: TelemetryEvent["type"]) => void,
  ) {
    for (const [name, type] of [
      ["mute", "track_mute"],
      ["unmute", "track_unmute"],
      ["ended", "track_ended"],
    ] as const) {
      track.addEventListener(name, () => onEvent(type));
    }
  }

  /** Opens the front camera, or `deviceId` when given. */
  static async open(deviceId: string | null, onEvent: (e: TelemetryEvent["type"]) => void): Promise<Camera> {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new CameraError("camera_unavailable", "getUserMedia is not available (insecure context?)");
    }
    const video: MediaTrackConstraints = {
      width: { ideal: REQUESTED.width, min: 320 },
      height: { ideal: REQUESTED.height, min: 240 },
      frameRate: { ideal: REQUESTED.frame_rate, min: MIN_FPS },
    };
    if (deviceId) video.deviceId = { exact: deviceId };
    else video.facingMode = "user";
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    } catch (e) {
      const name = (e as DOMException).name;
      if (name === "NotAllowedError" || name === "SecurityError") throw new CameraError("camera_denied", name);
      if (name === "OverconstrainedError") {
        throw new CameraError("camera_frame_rate", `constraint not met: ${(e as OverconstrainedError).constraint}`);
      }
      throw new CameraError("camera_unavailable", `${name}: ${(e as Error).message}`);
    }
    const track = stream.getVideoTracks()[0];
    if (!track) throw new CameraError("camera_unavailable", "no video track");
    const fps = track.getSettings().frameRate;
    if (fps !== undefined && fps < MIN_FPS) {
      stream.getTracks().forEach((t) => t.stop());
      throw new CameraError("camera_frame_rate", `camera delivers ${fps} fps`);
    }
    return new Camera(stream, track, onEvent);
  }

  get label(): string {
    return this.track.label;
  }

  settings(): { actual: CameraSettings; facingMode?: string; deviceId?: string } {
    const s = this.track.getSettings();
    return {
      actual: { width: s.width, height: s.height, frame_rate: s.frameRate },
      facingMode: s.facingMode,
      deviceId: s.deviceId,
    };
  }

  /** Stops every track: the camera light goes off. Safe to call twice. */
  release(): void {
    this.stream.getTracks().forEach((t) => t.stop());
  }

  /** The video inputs the page may use (labels only after permission). */
  static async list(): Promise<MediaDeviceInfo[]> {
    const all = await navigator.mediaDevices.enumerateDevices();
    return all.filter((d) => d.kind === "videoinput");
  }
}
