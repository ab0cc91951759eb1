// docs/api-silent.md's Python and JavaScript clients, run as written against a real `faceproof
// serve`: the envelope pair sealed by @hpke/core (and by pyhpke when installed) opens in the
// server's Rust HPKE (replays, mixes and stale pairs are tested in crates/server/tests/silent.rs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, REPO, SDK, SHARED, TMP } from "../testlib/harness.mjs";

const doc = readFileSync(join(REPO, "docs/api-silent.md"), "utf8");
const block = (lang) => {
  const m = doc.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"));
  assert.ok(m, `no ${lang} block in docs/api-silent.md`);
  return m[1];
};
const VIDEO = join(SHARED, "data/videos/live_talking_720x1280.mp4");
const PHOTO = join(SHARED, "data/faces/obama/1.jpg");
let server;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

function run(cmd, script) {
  const out = execFileSync(cmd, [script, server.base, server.apiKey, VIDEO, PHOTO], { cwd: SDK });
  return out.toString();
}

test("the JavaScript client of docs/api-silent.md is judged", () => {
  // In the SDK's folder so that its @hpke packages resolve.
  const script = join(SDK, "test", ".silent-client.tmp.mjs");
  writeFileSync(script, block("js"));
  try {
    const answer = JSON.parse(run("node", script));
    assert.equal(answer.code, 1000, JSON.stringify(answer));
    assert.equal(typeof answer.passed, "boolean");
  } finally {
    rmSync(script, { force: true });
  }
});

test("the Python client of docs/api-silent.md is judged (when pyhpke is installed)", (t) => {
  const python = process.env.PYTHON ?? "python3";
  try {
    execFileSync(python, ["-c", "import pyhpke"], { stdio: "ignore" });
  } catch {
    t.skip("pyhpke is not installed for " + python);
    return;
  }
  const script = join(TMP, "client.py");
  writeFileSync(script, block("python"));
  const out = run(python, script);
  assert.match(out, /'code': 1000/, out);
});
