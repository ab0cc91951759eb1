// `faceproof serve` for the browser suites (sdk/web/test, console/test): started from the
// repository root on a free loopback port over a fresh home whose models are linked from the
// installed model pack; resolves once the service prints its first JSON line (where it listens,
// the demo tenant). Plain Node, no packages: both suites import it.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const SOURCE_HOME = process.env.FACEPROOF_HOME || join(homedir(), ".cache/faceproof");

/** Starts `bin serve` in `repo` with FACEPROOF_HOME = `home`: { first, stderr(), stop() }. */
export async function spawnServe({ bin, repo, home }) {
  if (!existsSync(bin)) throw new Error(`faceproof binary not found at ${bin} (build it or set FACEPROOF_BIN)`);
  mkdirSync(home, { recursive: true });
  symlinkSync(join(SOURCE_HOME, "models"), join(home, "models"));
  const proc = spawn(bin, ["serve", "--bind", "127.0.0.1:0"], {
    cwd: repo,
    env: { ...process.env, FACEPROOF_HOME: home, RUST_LOG: process.env.RUST_LOG ?? "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr.on("data", (d) => (err = (err + d).slice(-4000)));
  const first = await new Promise((ok, fail) => {
    let buf = "";
    const t = setTimeout(() => fail(new Error(`serve did not start in 60 s: ${err}`)), 60_000);
    proc.stdout.on("data", (d) => {
      buf += d;
      const brace = buf.lastIndexOf("}");
      if (brace < 0) return;
      try {
        const j = JSON.parse(buf.slice(buf.indexOf("{"), brace + 1));
        clearTimeout(t);
        ok(j);
      } catch {
        // partial JSON: wait for more
      }
    });
    proc.on("exit", (code) => fail(new Error(`serve exited ${code}: ${err}`)));
  });
  return {
    first,
    stderr: () => err,
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on("exit", r)));
    },
  };
}
