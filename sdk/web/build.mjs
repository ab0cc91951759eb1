// Builds dist/: the ES module bundle, its type declarations, the onnxruntime-web wasm files it loads
// at run time (served by faceproof under /sdk/ort/), and the demo page. Run by scripts/sdk.sh.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "ort"), { recursive: true });
mkdirSync(join(dist, "demo"), { recursive: true });

await build({
  entryPoints: [join(here, "src/index.ts")],
  outfile: join(dist, "faceproof-capture.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  // the runtime's glue (.mjs) and wasm are loaded from env.wasm.wasmPaths, not inlined
  conditions: ["onnxruntime-web-use-extern-wasm"],
  logLevel: "warning",
});

// declarations: one .d.ts per module under dist/types, re-exported by dist/faceproof-capture.d.ts
rmSync(join(here, "build"), { recursive: true, force: true });
execFileSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "-p", here], { stdio: "inherit" });
cpSync(join(here, "build/types"), join(dist, "types"), { recursive: true });
writeFileSync(join(dist, "faceproof-capture.d.ts"), 'export * from "./types/index.js";\n');

const ort = join(here, "node_modules/onnxruntime-web/dist");
for (const f of ["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]) cpSync(join(ort, f), join(dist, "ort", f));

for (const f of ["index.html", "demo.js"]) cpSync(join(here, "demo", f), join(dist, "demo", f));

const kb = (p) => `${(statSync(join(dist, p)).size / 1024).toFixed(0)} KB`;
console.log(`built dist/: faceproof-capture.js ${kb("faceproof-capture.js")}, ort wasm ${kb("ort/ort-wasm-simd-threaded.wasm")}`);
