// Builds dist/: the console's one script (TypeScript bundled by esbuild, type-checked by tsc
// first), its stylesheet and index.html. `faceproof serve` serves dist/ at /console/. Run by
// scripts/console.sh.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
execFileSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "-p", here], { stdio: "inherit" });
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [join(here, "src/main.ts")],
  outfile: join(dist, "console.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  logLevel: "warning",
});
for (const f of ["index.html", "console.css"]) cpSync(join(here, f), join(dist, f));
console.log(`built console/dist/: console.js ${(statSync(join(dist, "console.js")).size / 1024).toFixed(0)} KB`);
