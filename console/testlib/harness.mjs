// The console's browser-suite harness: a real `faceproof serve` on a free loopback port over a
// temporary home (models linked from the model pack), an operator made with the real CLI,
// sessions made through the real APIs from the shared photos and videos, and Debian's chromium
// driven by playwright-core. Nothing it makes is kept, except screenshots with CONSOLE_SHOTS=1.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { chromium } from "playwright-core";
import { spawnServe } from "../../testlib/serve.mjs";

const here = dirname(fileURLToPath(import.meta.url)); // console/testlib
export const REPO = resolve(here, "../..");
export const CONSOLE = resolve(here, "..");
export const BIN = process.env.FACEPROOF_BIN ?? join(REPO, "target/release/faceproof");
export const SHARED = process.env.FACEPROOF_SHARED ?? resolve(REPO, "../shared");
const DATA = join(SHARED, "data");
export const SHOTS = join(REPO, "docs/console");

export const TMP = mkdtempSync(join(tmpdir(), "faceproof-console-test-"));
process.on("exit", () => rmSync(TMP, { recursive: true, force: true }));
const HOME = join(TMP, "home");

function chromiumPath() {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed (run scripts/sdk.sh)");
  }
}

/** `faceproof ARGS` against the test home; returns the parsed JSON and the exit status. */
export function cli(args) {
  const r = spawnSync(BIN, args, { cwd: REPO, env: { ...process.env, FACEPROOF_HOME: HOME }, encoding: "utf8" });
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // not JSON
  }
  return { status: r.status, json, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `faceproof serve` from the repository root (so `console/dist` is the console). */
export async function startServer() {
  if (!existsSync(join(CONSOLE, "dist/console.js"))) throw new Error("console/dist is not built (run scripts/console.sh)");
  const serve = await spawnServe({ bin: BIN, repo: REPO, home: HOME });
  return {
    base: serve.first.listening,
    tenant: serve.first.demo_tenant,
    home: HOME,
    stderr: serve.stderr,
    stop: serve.stop,
  };
}

function form(parts) {
  const fd = new FormData();
  for (const [name, file, bytes] of parts) {
    if (file) fd.append(name, new Blob([bytes]), file);
    else fd.append(name, bytes);
  }
  return fd;
}

/**
 * Real sessions through the real engine: an ADVANCE capture (two stills of one person, stored
 * with its images), an FPT check of a live video against another person's photo (a face
 * mismatch, with its FAR), and an FPT check of a video alone.
 */
export async function seedSessions(server) {
  const face = (p) => readFileSync(join(DATA, "faces", p));
  const video = (p) => readFileSync(join(DATA, "videos", p));
  const t = server.tenant;
  const timestamp = Date.now();
  const signature = createHash("sha256").update(`${t.advance_access_key}${t.advance_secret_key}${timestamp}`).digest("hex");
  let r = await fetch(`${server.base}/openapi/auth/ticket/v1/generate-token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ accessKey: t.advance_access_key, timestamp, signature }),
  });
  const token = (await r.json()).data.token;
  r = await fetch(`${server.base}/openapi/liveness/v3/capture`, {
    method: "POST",
    headers: { "x-access-token": token },
    body: form([["far", "far.jpg", face("obama/1.jpg")], ["near", "near.jpg", face("obama/2.jpg")], ["farImageTime", "", String(timestamp - 1500)], ["nearImageTime", "", String(timestamp)]]),
  });
  const adv = await r.json();
  if (adv.code !== "SUCCESS") throw new Error(`advance capture: ${JSON.stringify(adv)}`);
  const fpt = async (parts) => {
    const res = await fetch(`${server.base}/vision/ekyc/liveness`, { method: "POST", headers: { "api-key": t.fpt_api_key }, body: form(parts) });
    const j = await res.json();
    if (res.status !== 200) throw new Error(`fpt: ${res.status} ${JSON.stringify(j)}`);
    return j;
  };
  const mismatch = await fpt([["video", "v.mp4", video("live_talking_720x1280.mp4")], ["cmnd", "id.jpg", face("obama/1.jpg")]]);
  const alone = await fpt([["video", "v.mp4", video("live_blink_640x360.mp4")]]);
  return { advance: adv.data, mismatch, alone };
}

export async function browser({ locale = "en-US" } = {}) {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(TMP, "profile-")), {
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox"],
    locale,
    viewport: { width: 1200, height: 900 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const logs = [];
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  return { ctx, page, logs, close: () => ctx.close() };
}

/** axe-core from node_modules, evaluated in the page (the console's CSP refuses inline scripts). */
export async function axeViolations(page) {
  const src = readFileSync(join(CONSOLE, "node_modules/axe-core/axe.min.js"), "utf8");
  await page.evaluate(src);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return res.violations.filter((v) => ["serious", "critical"].includes(v.impact)).map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** A PNG of the page into docs/console/ with CONSOLE_SHOTS=1 (else the scratch folder). */
export async function shot(page, name) {
  const dir = process.env.CONSOLE_SHOTS === "1" ? SHOTS : join(TMP, "shots");
  mkdirSync(dir, { recursive: true });
  const raw = join(TMP, `${name}.raw.png`);
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path: raw, fullPage: false, animations: "disabled" });
  // a 128-colour palette keeps the PNGs small for the repository
  execFileSync("ffmpeg", ["-loglevel", "error", "-y", "-i", raw, "-vf", "scale='min(iw,1000)':-2:flags=lanczos,split[a][b];[a]palettegen=max_colors=128[p];[b][p]paletteuse=dither=none", "-frames:v", "1", path]);
  const kb = statSync(path).size / 1024;
  if (kb > 250) throw new Error(`${name}.png is ${kb.toFixed(0)} KB (limit 250)`);
}
