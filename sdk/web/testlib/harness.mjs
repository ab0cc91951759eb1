// The browser suite's harness: a real `faceproof serve` on a free loopback port over a temporary
// home (models linked from the model pack), fake cameras made with the ffmpeg CLI from the shared
// videos at test time, and Debian's chromium driven by playwright-core. Nothing it makes is kept.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { spawnServe } from "../../../testlib/serve.mjs";

const here = dirname(fileURLToPath(import.meta.url)); // sdk/web/testlib
export const REPO = resolve(here, "../../..");
export const SDK = resolve(here, "..");
export const BIN = process.env.FACEPROOF_BIN ?? join(REPO, "target/release/faceproof");
export const SHARED = process.env.FACEPROOF_SHARED ?? resolve(REPO, "../shared");
export const VIDEOS = join(SHARED, "data/videos");
export const SHOTS = join(REPO, "docs/sdk");

/** A scratch folder removed at exit. */
export const TMP = mkdtempSync(join(tmpdir(), "faceproof-sdk-test-"));
process.on("exit", () => rmSync(TMP, { recursive: true, force: true }));

export function chromiumPath() {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed (run scripts/sdk.sh)");
  }
}

/**
 * Starts `faceproof serve` from the repository root (so `sdk/web/dist` is its SDK folder) on
 * 127.0.0.1 with a fresh home; returns its base URL, the demo tenant's credentials and a stop().
 */
export async function startServer() {
  if (!existsSync(join(SDK, "dist/faceproof-capture.js"))) throw new Error("sdk/web/dist is not built (run scripts/sdk.sh)");
  const serve = await spawnServe({ bin: BIN, repo: REPO, home: join(TMP, "home") });
  const tenant = serve.first.demo_tenant;
  return {
    base: serve.first.listening,
    tenant,
    apiKey: tenant.fpt_api_key,
    stderr: serve.stderr,
    stop: serve.stop,
  };
}

/** POST /v1/capture-tokens as the tenant's backend would. */
export async function mintToken(server, body) {
  const res = await fetch(`${server.base}/v1/capture-tokens`, {
    method: "POST",
    headers: { "api-key": server.apiKey, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const j = await res.json();
  if (res.status !== 201) throw new Error(`capture token refused: ${res.status} ${JSON.stringify(j)}`);
  return j;
}

export async function api(server, method, path, body, headers = {}) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { "api-key": server.apiKey, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** ADVANCE X-ACCESS-TOKEN from the demo tenant's access key and secret (the vendor's scheme). */
export async function advanceToken(server) {
  const { createHash } = await import("node:crypto");
  const accessKey = server.tenant.advance_access_key;
  const secretKey = server.tenant.advance_secret_key;
  const timestamp = Date.now();
  const signature = createHash("sha256").update(`${accessKey}${secretKey}${timestamp}`).digest("hex");
  const r = await api(server, "POST", "/openapi/auth/ticket/v1/generate-token", { accessKey, timestamp, signature });
  if (r.json?.code !== "SUCCESS") throw new Error(`generate-token: ${r.text}`);
  return r.json.data.token;
}


// ---- fake cameras (ffmpeg, at test time) ----

function ffmpeg(args) {
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", ...args], { stdio: ["ignore", "ignore", "pipe"] });
}

const Q = ["-q:v", "5", "-f", "mjpeg"];

/**
 * A fake-camera file (MJPEG at 30 fps, 640x480: Chromium plays it at 30 fps and loops it).
 * `face`: a talking head framed like a selfie. `farnear`: the same head small (far) for 3 s then
 * close (near) for 3 s. `noface`: ffmpeg's test pattern. `crowd`: two people walking in the crowd clip.
 */
export function camera(kind) {
  const out = join(TMP, `${kind}.mjpeg`);
  if (existsSync(out)) return out;
  const head = join(VIDEOS, "live_talking_head_1.mp4");
  const vf = (f) => `fps=30,${f},setsar=1`;
  switch (kind) {
    case "face":
      ffmpeg(["-i", head, "-t", "6", "-vf", vf("scale=640:480:force_original_aspect_ratio=increase,crop=640:480"), ...Q, out]);
      break;
    case "farnear": {
      const far = join(TMP, "far.mjpeg");
      const near = join(TMP, "near.mjpeg");
      ffmpeg(["-i", head, "-t", "3", "-vf", vf("scale=-2:320,pad=640:480:(ow-iw)/2:139:color=0x808080"), ...Q, far]);
      ffmpeg(["-i", head, "-t", "3", "-vf", vf("crop=500:375:135:95,scale=640:480"), ...Q, near]);
      ffmpeg(["-i", `concat:${far}|${near}`, "-c", "copy", "-f", "mjpeg", out]);
      break;
    }
    case "noface":
      ffmpeg(["-f", "lavfi", "-i", "testsrc=size=640x480:rate=30", "-t", "3", ...Q, out]);
      break;
    case "crowd":
      ffmpeg(["-i", join(VIDEOS, "crowd_1080p.mp4"), "-t", "1.6", "-vf", vf("crop=560:420:540:420,scale=640:480"), ...Q, out]);
      break;
    default:
      throw new Error(`unknown camera ${kind}`);
  }
  return out;
}

/**
 * A fresh chromium (own --user-data-dir) whose camera is `cameraFile`; `grant: false` leaves the
 * permission prompt unanswered (Chromium headless then refuses getUserMedia): the denied path.
 */
export async function browser(cameraFile, { grant = true, locale = "en-US", reducedMotion = "no-preference" } = {}) {
  const args = ["--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${cameraFile}`, "--no-sandbox", "--mute-audio"];
  if (grant) args.push("--use-fake-ui-for-media-stream");
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(TMP, "profile-")), {
    executablePath: chromiumPath(),
    headless: true,
    args,
    locale,
    reducedMotion,
    viewport: { width: 1000, height: 760 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const logs = [];
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  return { ctx, page, logs, close: () => ctx.close() };
}

/** Opens the demo in automated mode and waits for done or error; returns the body's data and the JSON. */
export async function runDemo(page, server, params, timeoutMs = 90_000) {
  const q = new URLSearchParams({ auto: "1", ...params });
  const t0 = Date.now();
  await page.goto(`${server.base}/demo/?${q}`);
  await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: timeoutMs });
  const data = await page.evaluate(() => ({ ...document.body.dataset }));
  const text = await page.textContent("#result");
  let result = null;
  try {
    result = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { ...data, result, wallMs: Date.now() - t0 };
}

/**
 * A small PNG of the capture element (a state for docs/sdk.md): into docs/sdk/ with SDK_SHOTS=1,
 * else into the scratch folder (same code and size check, the work tree left clean).
 */
export async function shot(page, name) {
  const dir = process.env.SDK_SHOTS === "1" ? SHOTS : join(TMP, "shots");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  const raw = join(TMP, `${name}.raw.png`);
  await page.locator("faceproof-capture").screenshot({ path: raw, scale: "css", animations: "disabled" });
  // 256-colour palette PNG: the camera picture would make a full-colour PNG several times larger
  ffmpeg(["-i", raw, "-vf", "scale='min(iw,420)':-2:flags=lanczos,split[a][b];[a]palettegen=max_colors=192[p];[b][p]paletteuse=dither=bayer", "-frames:v", "1", path]);
  const kb = statSync(path).size / 1024;
  if (kb > 200) throw new Error(`${name}.png is ${kb.toFixed(0)} KB (limit 200)`);
}
