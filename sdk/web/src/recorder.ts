/**
 * Records the camera stream. Prefers MP4/H.264 (a proper duration in the header and every frame,
 * measured in Chromium) over WebM, whose files lack a duration; the server counts frames either way.
 */

export const MIME_PREFERENCE = [
  "video/mp4;codecs=avc1",
  "video/mp4",
  "video/webm;codecs=h264",
  "video/webm;codecs=vp8",
  "video/webm",
];

/** About 1 Mbit/s: a 6 s clip stays near 1 MB, far under the server's 10 MB limit. */
export const BITS_PER_SECOND = 1_000_000;

export function pickMime(): string | null {
  if (typeof MediaRecorder === "undefined") return null;
  return MIME_PREFERENCE.find((m) => MediaRecorder.isTypeSupported(m)) ?? null;
}

export class Recording {
  private readonly chunks: Blob[] = [];
  private readonly recorder: MediaRecorder;
  private stopped: Promise<Blob>;
  /** performance.now() when recording started (the zero of the challenge log). */
  startedAt = 0;
  /** Date.now() when recording started. */
  startedAtEpoch = 0;
  durationMs = 0;

  constructor(
    stream: MediaStream,
    readonly mimeType: string,
  ) {
    this.recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: BITS_PER_SECOND });
    this.recorder.ondataavailable = (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    };
    this.stopped = new Promise((resolve, reject) => {
      this.recorder.onstop = () => {
        this.durationMs = performance.now() - this.startedAt;
        resolve(new Blob(this.chunks, { type: this.mimeType.split(";")[0] }));
      };
      this.recorder.onerror = (e) => reject(new Error(`recorder: ${(e as ErrorEvent).message ?? "error"}`));
    });
  }

  /** Starts and resolves once the recorder has really started. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.recorder.onstart = () => {
        this.startedAt = performance.now();
        this.startedAtEpoch = Date.now();
        resolve();
      };
      this.recorder.start(1000);
    });
  }

  /** Ms since the recording started. */
  elapsed(): number {
    return performance.now() - this.startedAt;
  }

  stop(): Promise<Blob> {
    if (this.recorder.state !== "inactive") this.recorder.stop();
    return this.stopped;
  }

  /** Abandons the recording (no blob wanted). */
  abort(): void {
    if (this.recorder.state !== "inactive") this.recorder.stop();
    this.stopped.catch(() => undefined);
  }
}

/** A JPEG still of the current video frame at the camera's resolution, with its capture time. */
export async function still(video: HTMLVideoElement): Promise<{ blob: Blob; time: number }> {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2d canvas");
  const time = Date.now();
  ctx.drawImage(video, 0, 0);
  const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, "image/jpeg", 0.92));
  if (!blob) throw new Error("JPEG encoding failed");
  return { blob, time };
}
