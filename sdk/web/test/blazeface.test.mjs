// The browser's BlazeFace decoding (src/blazeface.ts) against the server's detector on real photos:
// the same model run by onnxruntime-web's wasm backend in Node, on a frame letterboxed by ffmpeg,
// must find the face the server's `faceproof analyze` finds (one face, same place).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { homedir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { build } from "esbuild";
import * as ort from "onnxruntime-web";
import { BIN, SHARED, SDK, TMP } from "../testlib/harness.mjs";

const MODELS = join(process.env.FACEPROOF_HOME || join(homedir(), ".cache/faceproof"), "models");

async function loadDecoder() {
  const out = join(TMP, "blazeface.mjs");
  await build({ entryPoints: [join(SDK, "src/blazeface.ts")], outfile: out, format: "esm", bundle: true, logLevel: "error" });
  return import(out);
}

/** The photo letterboxed into 128x128 RGBA exactly as the element does (aspect kept, centred, black). */
function letterboxed(path, bf) {
  const probe = execFileSync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0", path], { encoding: "utf8" });
  const [w, h] = probe.trim().split(",").map(Number);
  const lb = bf.letterbox(w, h);
  const rgba = execFileSync("ffmpeg", ["-loglevel", "error", "-i", path, "-vf", `scale=${lb.width}:${lb.height}:flags=bilinear,pad=128:128:${lb.padX}:${lb.padY}:black`, "-f", "rawvideo", "-pix_fmt", "rgba", "-"], { maxBuffer: 1 << 20 });
  return { w, h, lb, rgba: new Uint8ClampedArray(rgba) };
}

test("anchors and letterbox follow the server's layout", async () => {
  const bf = await loadDecoder();
  const a = bf.shortRangeAnchors();
  assert.equal(a.length, 896 * 2);
  assert.deepEqual([a[0], a[1]], [0.5 / 16, 0.5 / 16]);
  assert.deepEqual([a[512 * 2], a[512 * 2 + 1]], [0.5 / 8, 0.5 / 8]);
  assert.deepEqual(bf.letterbox(640, 480), { scale: 0.2, padX: 0, padY: 16, width: 128, height: 96 });
});

const photos = ["faces/obama/1.jpg", "faces/biden/1.jpg", "faces/kit_harington/1.jpg"];

test("the browser's decoding finds the face the server finds", async () => {
  const bf = await loadDecoder();
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(join(MODELS, "blazeface_short.onnx"));
  for (const rel of photos) {
    const path = join(SHARED, "data", rel);
    const { lb, rgba } = letterboxed(path, bf);
    const input = new ort.Tensor("float32", bf.toInput(rgba), [1, 3, 128, 128]);
    const out = await session.run({ [session.inputNames[0]]: input });
    const faces = bf.decode(out[session.outputNames[0]].data, out[session.outputNames[1]].data, bf.shortRangeAnchors(), lb);
    const server = JSON.parse(execFileSync(BIN, ["analyze", path, "--models", MODELS], { encoding: "utf8" })).faces;
    assert.equal(faces.length, 1, `${rel}: one face in the browser`);
    assert.equal(server.length, 1, `${rel}: one face on the server`);
    // the server's box is the detector's refined by its mesh: close, not identical (IoU 0.78-0.98 here)
    const [x, y, w, h] = server[0].box;
    const f = faces[0];
    const ix = Math.max(0, Math.min(f.x1, x + w) - Math.max(f.x0, x));
    const iy = Math.max(0, Math.min(f.y1, y + h) - Math.max(f.y0, y));
    const iou = (ix * iy) / ((f.x1 - f.x0) * (f.y1 - f.y0) + w * h - ix * iy);
    assert.ok(iou > 0.7, `${rel}: IoU ${iou.toFixed(2)} between the browser's and the server's box`);
    const eye = server[0].landmarks.right_eye;
    // the server's landmarks are refined by the face mesh; BlazeFace's own keypoints are coarser
    const err = Math.hypot(f.keypoints[0][0] - eye[0], f.keypoints[0][1] - eye[1]) / w;
    console.log(`# ${rel}: IoU ${iou.toFixed(3)}, right eye ${err.toFixed(3)} face widths`);
    assert.ok(err < 0.15, `${rel}: right eye ${err.toFixed(3)} face widths apart`);
  }
});
