/**
 * `<faceproof-capture>`: the guided capture as a custom element with a Shadow DOM.
 *
 * Attributes: `token` (capture token, required), `lang` (`en` | `vi`; default from
 * navigator.languages), `api-base` (origin of the faceproof server; default the page's),
 * `sdk-base` (where `ort/` and `models/` are served; default beside this script), `timeout`
 * (seconds per positioning step, default 30).
 * Methods: `start()`, `stop()`. Property `photo`: an ID photo (Blob) for FPT `cmnd` / silent `image`.
 * Events (CustomEvent, bubbling, composed): `state`, `hint`, `error`, `complete`; also `challenge`
 * (each challenge step as it is shown) and `alternative` (the user asked for head turns instead of flashes).
 */
import { ApiError, fetchContext, upload, type CaptureContext, type ChallengeStep, type UploadResult } from "./api.js";
import type { Face } from "./blazeface.js";
import { Camera, CameraError, MIN_FPS, REQUESTED } from "./camera.js";
import { challengeDuration, runChallenge, sleep, type StepDisplay } from "./challenge.js";
import { FaceDetector, type Detection } from "./detector.js";
import { FAR_OVAL, NEAR_OVAL, VIDEO_OVAL, hintFor, timeoutCode, type Hint, type OvalTarget } from "./guidance.js";
import { catalogue, message, pickLang, type Lang } from "./i18n.js";
import { Recording, pickMime, still } from "./recorder.js";
import { STYLES } from "./styles.js";
import { FrameClock, SDK_VERSION, type ClientTelemetry, type StepShown, type TelemetryEvent } from "./telemetry.js";

export type CaptureState = "idle" | "loading" | "ready" | "positioning" | "recording" | "uploading" | "done" | "error";

export interface StateDetail {
  state: CaptureState;
  /** ADVANCE: `far` or `near` while positioning. */
  step?: "far" | "near";
}
export interface HintDetail {
  hint: Hint | string;
  text: string;
}
export interface ErrorDetail {
  code: string;
  message: string;
  status?: number;
  response?: unknown;
  /** `too_many_attempts`: the seconds the server asked to wait (its `Retry-After`). */
  retry_after_s?: number;
}
export interface CompleteDetail {
  flow: CaptureContext["flow"];
  status: number;
  response: unknown;
  signatureId: string | null;
  /** Start to upload-answer timings in ms. */
  timings: { capture_ms: number; upload_ms: number };
}

/** Consecutive good detections before a step is accepted (about half a second). */
const GOOD_STREAK = 3;
/** Shortest FPT / silent clip (the server wants 4-6 s of video). */
const MIN_CLIP_MS = 5000;
/** Lead-in before the first challenge step and tail after the last. */
const CHALLENGE_MARGIN_MS = 600;
/** Minimum interval between two detector runs. */
const DETECT_EVERY_MS = 90;
/**
 * The camera's declared rate must be at least MIN_FPS (checked when it opens). The rate measured
 * in the page also counts a busy page's missed callbacks, so it stops the capture only when it is
 * clearly unusable: under this fraction of MIN_FPS over the first FPS_WINDOW_MS of positioning.
 */
const FPS_TOLERANCE = 0.5;
const FPS_WINDOW_MS = 3000;

class Cancelled extends Error {}
class CaptureFailure extends Error {
  constructor(
    readonly code: string,
    detail: string,
    readonly status?: number,
    readonly response?: unknown,
  ) {
    super(detail);
  }
}

/** Icons beside every hint (never colour alone): symbols common system fonts carry, no emoji. */
const ICONS: Record<string, string> = {
  good: "✔",
  hold_still: "◎",
  no_face: "◌",
  multiple_faces: "⚇",
  too_dark: "☾",
  too_bright: "☀",
  move_closer: "⊕",
  move_back: "⊖",
  move_left: "←",
  move_right: "→",
  move_up: "↑",
  move_down: "↓",
  rotate_portrait: "⟳",
  turn_left: "←",
  turn_right: "→",
  turn_up: "↑",
  colour_step: "◐",
  error: "⚠",
  done: "✔",
  info: "ℹ",
};

export class FaceproofCapture extends HTMLElement {
  static get observedAttributes(): string[] {
    return ["lang", "token"];
  }

  /** An ID photo to send with FPT (`cmnd`) or silent (`image`); else a still of the capture is used for silent. */
  photo: Blob | null = null;

  private readonly root: ShadowRoot;
  private readonly el: Record<string, HTMLElement>;
  private video!: HTMLVideoElement;
  private state: CaptureState = "idle";
  private ctx: CaptureContext | null = null;
  private detector: FaceDetector | null = null;
  private camera: Camera | null = null;
  private deviceId: string | null = null;
  private recording: Recording | null = null;
  private abort: AbortController | null = null;
  private running = false;
  private latest: Detection | null = null;
  private detectionSeq = 0;
  private readonly clock = new FrameClock();
  private events: TelemetryEvent[] = [];
  private t0 = 0;
  private deadline = 0;
  private timeoutMs = 30_000;
  private hint: string | null = null;
  private blocking: Partial<Record<Hint, number>> = {};
  private onDeviceChange = (): void => this.event("device_change");
  private onVisibility = (): void => {
    if (document.visibilityState === "hidden") this.event("visibility_hidden");
  };

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.root.innerHTML = `<style>${STYLES}</style>
<div class="root" part="root">
  <h2 id="title"></h2>
  <div class="stage" part="stage">
    <video muted playsinline autoplay aria-hidden="true"></video>
    <svg class="mask" aria-hidden="true" preserveAspectRatio="none"><path class="outside" fill-rule="evenodd"></path><ellipse class="ring"></ellipse></svg>
    <div class="arrow" aria-hidden="true"></div>
    <div class="timer" aria-hidden="true"></div>
  </div>
  <div class="hint" role="status" aria-live="polite"><span class="icon" aria-hidden="true"></span><span class="text"></span></div>
  <div class="panel">
    <p class="intro"></p>
    <p class="warning" hidden></p>
    <label class="photo" hidden><span class="photo-label"></span><input type="file" accept="image/*" capture="environment"></label>
    <div class="buttons">
      <button type="button" class="start"></button>
      <button type="button" class="secondary more" hidden></button>
      <button type="button" class="secondary switch" hidden></button>
      <button type="button" class="secondary headturn" hidden></button>
      <button type="button" class="secondary cancel" hidden></button>
    </div>
  </div>
</div>`;
    const q = (s: string): HTMLElement => this.root.querySelector(s) as HTMLElement;
    this.el = {
      title: q("#title"),
      stage: q(".stage"),
      svg: q("svg"),
      outside: q(".outside"),
      ring: q(".ring"),
      arrow: q(".arrow"),
      timer: q(".timer"),
      hint: q(".hint"),
      icon: q(".hint .icon"),
      text: q(".hint .text"),
      intro: q(".intro"),
      warning: q(".warning"),
      photo: q("label.photo"),
      photoLabel: q(".photo-label"),
      file: q("input[type=file]"),
      start: q("button.start"),
      more: q("button.more"),
      switch: q("button.switch"),
      headturn: q("button.headturn"),
      cancel: q("button.cancel"),
    };
    this.video = q("video") as HTMLVideoElement;
    this.el.start.addEventListener("click", () => void this.start());
    this.el.cancel.addEventListener("click", () => this.stop());
    this.el.more.addEventListener("click", () => this.extend());
    this.el.switch.addEventListener("click", () => void this.switchCamera());
    this.el.headturn.addEventListener("click", () => {
      this.dispatch("alternative", { kind: "head_turn" });
      this.showHint("head_turn_needed", "info");
    });
    this.el.file.addEventListener("change", () => {
      const f = (this.el.file as HTMLInputElement).files?.[0];
      this.photo = f ?? null;
    });
    this.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.running) {
        e.preventDefault();
        this.stop();
      }
    });
  }

  override get lang(): Lang {
    const a = this.getAttribute("lang");
    return a === "vi" || a === "en" ? a : pickLang(navigator.languages ?? [navigator.language]);
  }
  override set lang(v: string) {
    this.setAttribute("lang", v);
  }

  /** The current state. */
  get captureState(): CaptureState {
    return this.state;
  }

  connectedCallback(): void {
    this.render();
    if (this.getAttribute("token")) void this.prepare();
  }

  disconnectedCallback(): void {
    this.stop();
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value || !this.isConnected) return;
    if (name === "lang") this.render();
    if (name === "token" && value && !this.running) {
      this.ctx = null;
      void this.prepare();
    }
  }

  /** Loads the capture context (no camera yet) so the start screen can warn before any flash. */
  private async prepare(): Promise<void> {
    try {
      this.ctx = await fetchContext(this.apiBase(), this.token());
      this.render();
      if (!this.running) this.setState("ready");
    } catch {
      // start() reports it
    }
  }

  /** Runs the whole capture: context, detector and camera, guided steps, recording, upload. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.events = [];
    this.t0 = performance.now();
    this.timeoutMs = Math.max(5, Number(this.getAttribute("timeout") ?? 30) || 30) * 1000;
    navigator.mediaDevices?.addEventListener?.("devicechange", this.onDeviceChange);
    document.addEventListener("visibilitychange", this.onVisibility);
    try {
      this.setState("loading");
      const [ctx, detector] = await Promise.all([
        this.ctx ? Promise.resolve(this.ctx) : fetchContext(this.apiBase(), this.token()),
        this.detector ? Promise.resolve(this.detector) : this.loadDetector(),
      ]);
      this.ctx = ctx;
      this.detector = detector;
      this.render();
      const mime = pickMime();
      if (!mime) throw new CaptureFailure("recording_unsupported", "MediaRecorder cannot record video here");
      await this.openCamera();
      const result = ctx.flow === "advance" ? await this.runAdvance(ctx, mime) : await this.runVideo(ctx, mime);
      this.finish();
      this.setState("done");
      this.showHint("state_done", "ok");
      this.dispatch("complete", result);
    } catch (e) {
      this.finish();
      if (e instanceof Cancelled) {
        this.setState("idle");
        this.fail("cancelled", "cancelled by the user");
      } else if (e instanceof CaptureFailure) {
        this.setState("error");
        this.fail(e.code, e.message, e.status, e.response);
      } else if (e instanceof ApiError) {
        this.setState("error");
        this.fail(e.code, e.message, e.status, e.body, e.retryAfterS);
      } else if (e instanceof CameraError) {
        this.setState("error");
        this.fail(e.code, e.message);
      } else {
        this.setState("error");
        this.fail("internal", String(e));
      }
    }
  }

  /** Cancels a capture in progress and releases the camera. */
  stop(): void {
    this.abort?.abort();
    this.recording?.abort();
    this.recording = null;
    this.releaseCamera();
  }

  /** Gives the user more time on the current step (WCAG 2.2.1). */
  extend(): void {
    if (this.deadline) this.deadline = Math.max(this.deadline, performance.now()) + this.timeoutMs;
  }

  // ---- flows ----

  private async runVideo(ctx: CaptureContext, mime: string): Promise<CompleteDetail> {
    await this.position(VIDEO_OVAL);
    const rec = await this.record(mime);
    const steps = ctx.challenge?.steps ?? [];
    const total = steps.length ? CHALLENGE_MARGIN_MS + challengeDuration(steps) + CHALLENGE_MARGIN_MS : 0;
    const length = Math.max(MIN_CLIP_MS, total);
    let photo: Blob | null = this.photo;
    let log: StepShown[] | undefined;
    const challenge = (async () => {
      if (!steps.length) return;
      await this.wait(CHALLENGE_MARGIN_MS);
      log = await runChallenge(steps, this.stepDisplay(), rec.startedAt, this.signal());
    })();
    // the silent API needs a photo: without an ID photo, a still from the first second of the clip
    if (!photo && ctx.flow === "silent") {
      await this.wait(800);
      photo = (await still(this.video)).blob;
    }
    await challenge;
    await this.wait(Math.max(0, length - rec.elapsed()));
    const clip = await rec.stop();
    this.recording = null;
    this.releaseCamera();
    return this.send(ctx, { clip, clipName: clipName(mime), photo: photo ?? undefined, telemetry: this.telemetry(rec, log) });
  }

  private async runAdvance(ctx: CaptureContext, mime: string): Promise<CompleteDetail> {
    await this.position(FAR_OVAL, "far");
    const rec = await this.record(mime);
    const far = await still(this.video);
    await this.position(NEAR_OVAL, "near", true);
    const near = await still(this.video);
    const steps = ctx.challenge?.steps ?? [];
    let log: StepShown[] | undefined;
    if (steps.length) {
      this.setState("recording");
      await this.wait(CHALLENGE_MARGIN_MS);
      log = await runChallenge(steps, this.stepDisplay(), rec.startedAt, this.signal());
    }
    await this.wait(CHALLENGE_MARGIN_MS);
    const clip = await rec.stop();
    this.recording = null;
    this.releaseCamera();
    return this.send(ctx, { clip, clipName: clipName(mime), far, near, telemetry: this.telemetry(rec, log) });
  }

  private async send(ctx: CaptureContext, c: Parameters<typeof upload>[3]): Promise<CompleteDetail> {
    this.setState("uploading");
    this.showHint("state_uploading", "info");
    const t = performance.now();
    const res: UploadResult = await upload(this.apiBase(), this.token(), ctx, c, !this.hasAttribute("no-device-id"));
    return {
      flow: ctx.flow,
      status: res.status,
      response: res.body,
      signatureId: ctx.signature_id,
      timings: { capture_ms: Math.round(t - this.t0), upload_ms: Math.round(performance.now() - t) },
    };
  }

  // ---- steps ----

  /** Waits until the face fills `target` and holds still, or the (extendable) time limit passes. */
  private async position(target: OvalTarget, step?: "far" | "near", recording = false): Promise<void> {
    this.setState(recording ? "recording" : "positioning", step);
    this.drawOval(target);
    if (step) this.showHint(step === "far" ? "far_step" : "near_step", "info");
    this.deadline = performance.now() + this.timeoutMs;
    this.blocking = {};
    this.el.more.hidden = false;
    let streak = 0;
    let previous: Face | null = null;
    let seen = this.detectionSeq;
    const started = performance.now();
    try {
      for (;;) {
        this.checkAborted();
        const now = performance.now();
        this.el.timer.textContent = this.deadline - now < 10_000 ? String(Math.ceil((this.deadline - now) / 1000)) : "";
        if (now > this.deadline) {
          throw new CaptureFailure(timeoutCode(this.blocking), `step not completed in time (hints seen: ${JSON.stringify(this.blocking)})`);
        }
        if (now - started > FPS_WINDOW_MS && this.clock.count > 10 && this.clock.fps() < MIN_FPS * FPS_TOLERANCE) {
          throw new CaptureFailure("camera_frame_rate", `camera delivers ${this.clock.fps().toFixed(1)} fps`);
        }
        if (this.camera && this.camera.track.readyState === "ended") throw new CaptureFailure("camera_lost", "the camera track ended");
        if (this.detectionSeq === seen || !this.latest) {
          await this.wait(30);
          continue;
        }
        seen = this.detectionSeq;
        const d = this.latest;
        const hint = hintFor({ ...d, landscapePhone: landscapePhone() }, target, previous);
        previous = d.faces[0] ?? null;
        this.el.stage.dataset.hint = hint;
        if (hint === "good") {
          streak++;
          this.showHint("good", "ok", "good");
          if (streak >= GOOD_STREAK) return;
        } else {
          streak = 0;
          if (hint !== "hold_still") this.blocking[hint] = (this.blocking[hint] ?? 0) + 1;
          this.showHint(hint, "warn", hint);
        }
      }
    } finally {
      this.el.more.hidden = true;
      this.el.timer.textContent = "";
      this.deadline = 0;
    }
  }

  private async record(mime: string): Promise<Recording> {
    if (!this.camera) throw new CaptureFailure("camera_lost", "no camera");
    const rec = new Recording(this.camera.stream, mime);
    this.recording = rec;
    await rec.start();
    this.clock.reset();
    this.setState("recording");
    this.showHint("state_recording", "info");
    return rec;
  }

  private stepDisplay(): StepDisplay {
    const stage = this.el.stage;
    return {
      show: (step: ChallengeStep, index: number) => {
        this.dispatch("challenge", { index, step });
        if (step.type === "colour") {
          stage.classList.add("flash");
          this.el.outside.style.fill = step.hex;
          this.showHint("colour_step", "info", "colour_step");
        } else {
          const key = `turn_${step.direction}`;
          this.el.arrow.textContent = ICONS[key];
          this.el.arrow.dataset.dir = step.direction;
          this.el.arrow.classList.add("on");
          this.showHint(key, "info", key);
        }
      },
      clear: () => {
        stage.classList.remove("flash");
        this.el.outside.style.fill = "";
        this.el.arrow.classList.remove("on");
        this.showHint("look_straight", "info", "good");
      },
    };
  }

  // ---- camera and detector ----

  private async loadDetector(): Promise<FaceDetector> {
    try {
      return await FaceDetector.load(this.sdkBase());
    } catch (e) {
      throw new CaptureFailure("model_failed", String(e));
    }
  }

  private async openCamera(): Promise<void> {
    this.releaseCamera();
    const cam = await Camera.open(this.deviceId, (t) => this.event(t));
    this.camera = cam;
    this.video.srcObject = cam.stream;
    await this.video.play().catch(() => undefined);
    if (this.video.readyState < 2) {
      await new Promise<void>((r) => this.video.addEventListener("loadeddata", () => r(), { once: true }));
    }
    const { videoWidth: w, videoHeight: h } = this.video;
    this.el.stage.style.aspectRatio = `${w} / ${h}`;
    this.el.svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    this.clock.reset();
    this.frameLoop(cam);
    void this.detectLoop(cam);
    const cams = await Camera.list().catch(() => []);
    this.el.switch.hidden = cams.length < 2;
  }

  private frameLoop(cam: Camera): void {
    const v = this.video;
    if (!("requestVideoFrameCallback" in v)) return;
    const tick = (now: number, meta: VideoFrameCallbackMetadata): void => {
      if (this.camera !== cam) return;
      this.clock.onFrame(now, meta.presentedFrames);
      v.requestVideoFrameCallback(tick);
    };
    v.requestVideoFrameCallback(tick);
  }

  private async detectLoop(cam: Camera): Promise<void> {
    while (this.camera === cam && this.detector) {
      const t = performance.now();
      try {
        if (this.video.readyState >= 2) {
          this.latest = await this.detector.detect(this.video);
          this.detectionSeq++;
        }
      } catch {
        // a frame the detector could not read: try the next one
      }
      await sleep(Math.max(10, DETECT_EVERY_MS - (performance.now() - t)));
    }
  }

  private async switchCamera(): Promise<void> {
    if (!this.camera || this.recording) return;
    const cams = await Camera.list();
    const current = this.camera.settings().deviceId;
    const i = cams.findIndex((c) => c.deviceId === current);
    this.deviceId = cams[(i + 1) % cams.length]?.deviceId ?? null;
    await this.openCamera();
  }

  private releaseCamera(): void {
    this.camera?.release();
    this.camera = null;
    this.video.srcObject = null;
  }

  private finish(): void {
    this.running = false;
    this.recording?.abort();
    this.recording = null;
    this.releaseCamera();
    this.el.more.hidden = true;
    navigator.mediaDevices?.removeEventListener?.("devicechange", this.onDeviceChange);
    document.removeEventListener("visibilitychange", this.onVisibility);
  }

  // ---- telemetry ----

  private event(type: TelemetryEvent["type"]): void {
    // performance.now() for now; made relative to the recording's start when the telemetry is built
    this.events.push({ type, at_ms: performance.now() });
  }

  private telemetry(rec: Recording, log?: StepShown[]): ClientTelemetry {
    const cam = this.camera;
    const settings = cam?.settings();
    const t: ClientTelemetry = {
      sdk_version: SDK_VERSION,
      frames: this.clock.summary(),
      // ms since the recording started (negative: before it), as the challenge log
      events: this.events.map((e) => ({ type: e.type, at_ms: Math.round(e.at_ms - rec.startedAt) })),
      webdriver: navigator.webdriver === true,
      user_agent: navigator.userAgent,
      recording: { mime_type: rec.mimeType, started_at_ms: rec.startedAtEpoch, duration_ms: Math.round(rec.elapsed()) },
    };
    if (cam && settings) {
      t.camera = { label: cam.label, facing_mode: settings.facingMode, requested: { ...REQUESTED }, actual: settings.actual };
    } else if (this.cameraFacts) {
      t.camera = this.cameraFacts;
    }
    if (log) t.challenge_log = log;
    return t;
  }

  /** Camera facts kept when the camera is released before the telemetry is built. */
  private cameraFacts: ClientTelemetry["camera"] | undefined;

  // ---- UI ----

  private setState(state: CaptureState, step?: "far" | "near"): void {
    this.state = state;
    if (state === "recording" && this.camera) {
      const s = this.camera.settings();
      this.cameraFacts = { label: this.camera.label, facing_mode: s.facingMode, requested: { ...REQUESTED }, actual: s.actual };
    }
    this.dataset.state = state;
    if (step) this.dataset.step = step;
    else delete this.dataset.step;
    const busy = state === "loading" || state === "positioning" || state === "recording";
    this.el.start.hidden = busy || state === "uploading";
    this.el.start.textContent = message(this.lang, state === "error" || state === "done" ? "retry" : "start");
    this.el.cancel.hidden = !busy;
    this.el.photo.hidden = !(state === "idle" || state === "ready") || this.ctx?.flow === "advance";
    if (!busy) this.el.switch.hidden = true;
    const idle = state === "idle" || state === "ready";
    this.el.intro.hidden = !idle;
    this.el.warning.hidden = !idle || this.ctx?.challenge?.kind !== "colour";
    this.el.headturn.hidden = this.el.warning.hidden;
    if (state === "loading") this.showHint("state_loading", "info");
    if (state === "ready") this.showHint("state_ready", "info");
    if (state === "positioning" && !step) this.showHint("state_positioning", "info");
    this.dispatch("state", { state, step } satisfies StateDetail);
  }

  private fail(code: string, detail: string, status?: number, response?: unknown, retryAfterS?: number): void {
    this.showHint(code, "error", "error");
    this.dispatch("error", { code, message: detail, status, response, retry_after_s: retryAfterS } satisfies ErrorDetail);
  }

  private showHint(key: string, kind: "ok" | "warn" | "error" | "info", icon?: string): void {
    const text = message(this.lang, key);
    this.el.hint.dataset.kind = kind;
    this.el.icon.textContent = ICONS[icon ?? key] ?? ICONS[kind === "error" ? "error" : "info"];
    if (this.el.text.textContent !== text) this.el.text.textContent = text;
    if (this.hint !== key) {
      this.hint = key;
      this.dispatch("hint", { hint: key, text } satisfies HintDetail);
    }
  }

  private render(): void {
    const c = catalogue(this.lang);
    this.el.title.textContent = c.title;
    this.el.intro.textContent = c.intro;
    this.el.start.textContent = this.state === "error" || this.state === "done" ? c.retry : c.start;
    this.el.cancel.textContent = c.cancel;
    this.el.more.textContent = c.more_time;
    this.el.switch.textContent = c.switch_camera;
    this.el.headturn.textContent = c.use_head_turn;
    this.el.photoLabel.textContent = this.lang === "vi" ? "Ảnh giấy tờ (không bắt buộc)" : "ID photo (optional)";
    const colour = this.ctx?.challenge?.kind === "colour";
    this.el.warning.hidden = !colour || this.running;
    this.el.headturn.hidden = this.el.warning.hidden;
    this.el.warning.textContent = c.flash_warning;
    this.el.photo.hidden = this.ctx?.flow === "advance" || this.running;
    if (this.hint) this.el.text.textContent = message(this.lang, this.hint);
    if (this.state === "idle" && !this.hint) this.showHint("state_ready", "info");
  }

  private drawOval(t: OvalTarget): void {
    const w = this.video.videoWidth || 640;
    const h = this.video.videoHeight || 480;
    const side = Math.min(w, h);
    const rx = (((t.minWidth + t.maxWidth) / 2) * side * 1.25) / 2;
    const ry = rx * 1.3;
    const cx = t.cx * w;
    const cy = t.cy * h;
    this.el.outside.setAttribute(
      "d",
      `M0 0H${w}V${h}H0Z M${cx - rx} ${cy} a${rx} ${ry} 0 1 0 ${2 * rx} 0 a${rx} ${ry} 0 1 0 ${-2 * rx} 0Z`,
    );
    for (const [k, v] of Object.entries({ cx, cy, rx, ry })) this.el.ring.setAttribute(k, String(v));
  }

  // ---- helpers ----

  private dispatch(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private token(): string {
    const t = this.getAttribute("token");
    if (!t) throw new CaptureFailure("token_refused", "no capture token (attribute `token`)");
    return t;
  }

  private apiBase(): string {
    return this.getAttribute("api-base") ?? location.origin;
  }

  private sdkBase(): string {
    const b = this.getAttribute("sdk-base") ?? new URL("./", import.meta.url).href;
    return b.endsWith("/") ? b : `${b}/`;
  }

  private signal(): AbortSignal {
    return this.abort?.signal ?? new AbortController().signal;
  }

  private checkAborted(): void {
    if (this.abort?.signal.aborted) throw new Cancelled();
  }

  private async wait(ms: number): Promise<void> {
    await sleep(ms, this.signal());
    this.checkAborted();
  }
}

function clipName(mime: string): string {
  return mime.startsWith("video/mp4") ? "clip.mp4" : "clip.webm";
}

function landscapePhone(): boolean {
  return matchMedia("(pointer: coarse)").matches && innerWidth > innerHeight;
}

export function define(name = "faceproof-capture"): void {
  if (!customElements.get(name)) customElements.define(name, FaceproofCapture);
}
