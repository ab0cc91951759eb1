/**
 * The two calls the browser makes, both authenticated by the capture token only: the capture
 * context, and the flow's upload. No tenant secret ever reaches the page.
 */
import { DEVICE_HEADER, deviceId } from "./device.js";
import { sealPair } from "./hpke.js";
import type { ClientTelemetry } from "./telemetry.js";

export type Flow = "advance" | "fpt" | "silent";

export type ChallengeStep =
  | { type: "colour"; rgb: [number, number, number]; hex: string; duration_ms: number }
  | { type: "turn"; direction: "left" | "right" | "up"; duration_ms: number };

export interface Challenge {
  challenge_id: string;
  kind: "colour" | "head_turn";
  expires_at_ms?: number;
  steps: ChallengeStep[];
}

export interface CaptureContext {
  flow: Flow;
  expires_at_ms: number;
  upload_url: string;
  signature_id: string | null;
  challenge: Challenge | null;
  hpke_public_key: string | null;
}

export const TOKEN_HEADER = "x-capture-token";

/** A refused call: `code` is the SDK's error code, `status` and `body` what the server said. */
export class ApiError extends Error {
  constructor(
    readonly code: "token_refused" | "unauthorized" | "too_many_attempts" | "upload_failed" | "network",
    readonly status: number,
    readonly body: unknown,
    /** Seconds the server asked to wait (`Retry-After` of a 429), when it said. */
    readonly retryAfterS?: number,
  ) {
    super(`${code} (HTTP ${status})`);
  }
}

/** `Retry-After` in seconds (the server sends whole seconds), when present and sane. */
function retryAfter(res: Response): number | undefined {
  const s = Number(res.headers.get("retry-after"));
  return Number.isFinite(s) && s > 0 ? s : undefined;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, credentials: "omit", cache: "no-store" });
  } catch (e) {
    throw new ApiError("network", 0, String(e));
  }
}

export async function fetchContext(apiBase: string, token: string): Promise<CaptureContext> {
  const res = await call(new URL("/v1/capture/context", apiBase).href, { headers: { [TOKEN_HEADER]: token } });
  const body = await readBody(res);
  if (!res.ok) throw new ApiError(res.status === 401 || res.status === 403 ? "token_refused" : "network", res.status, body);
  return body as CaptureContext;
}

/** What was captured, per flow. */
export interface Captured {
  clip: Blob;
  clipName: string;
  far?: { blob: Blob; time: number };
  near?: { blob: Blob; time: number };
  /** An ID photo (FPT `cmnd`, silent `image`): chosen by the user, else a still of the capture. */
  photo?: Blob;
  telemetry: ClientTelemetry;
}

export interface UploadResult {
  status: number;
  body: unknown;
}

export async function upload(
  apiBase: string,
  token: string,
  ctx: CaptureContext,
  c: Captured,
  device: boolean,
): Promise<UploadResult> {
  const url = new URL(ctx.upload_url, apiBase).href;
  const headers: Record<string, string> = { [TOKEN_HEADER]: token };
  if (device) headers[DEVICE_HEADER] = deviceId();
  let init: RequestInit;
  if (ctx.flow === "advance") {
    const form = new FormData();
    if (ctx.signature_id) form.set("signatureId", ctx.signature_id);
    if (c.far) {
      form.set("far", c.far.blob, "far.jpg");
      form.set("farImageTime", String(c.far.time));
    }
    if (c.near) {
      form.set("near", c.near.blob, "near.jpg");
      form.set("nearImageTime", String(c.near.time));
    }
    form.set("clip", c.clip, c.clipName);
    if (ctx.challenge) form.set("challengeId", ctx.challenge.challenge_id);
    form.set("clientTelemetry", JSON.stringify(c.telemetry));
    init = { method: "POST", headers, body: form };
  } else if (ctx.flow === "fpt") {
    const form = new FormData();
    form.set("video", c.clip, c.clipName);
    if (c.photo) form.set("cmnd", c.photo, "cmnd.jpg");
    if (ctx.challenge) form.set("challenge_id", ctx.challenge.challenge_id);
    form.set("client_telemetry", JSON.stringify(c.telemetry));
    init = { method: "POST", headers, body: form };
  } else {
    if (!ctx.hpke_public_key) throw new ApiError("upload_failed", 0, "the capture context has no HPKE public key");
    if (!c.photo) throw new ApiError("upload_failed", 0, "the silent flow needs a photo");
    const body: Record<string, unknown> = {
      ...(await sealPair(ctx.hpke_public_key, await c.clip.arrayBuffer(), await c.photo.arrayBuffer())),
      return_status: true,
      client_telemetry: c.telemetry,
    };
    if (ctx.challenge) body.challenge_id = ctx.challenge.challenge_id;
    init = { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) };
  }
  const res = await call(url, init);
  const body = await readBody(res);
  if (res.status === 401 || res.status === 403) throw new ApiError("unauthorized", res.status, body);
  // A rate limit, or this device or address locked out after failed attempts: the token was not
  // used, so the same capture can be sent again after the wait.
  if (res.status === 429) throw new ApiError("too_many_attempts", 429, body, retryAfter(res));
  if (!res.ok) throw new ApiError("upload_failed", res.status, body);
  return { status: res.status, body };
}
