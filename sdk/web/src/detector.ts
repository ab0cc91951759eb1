/**
 * The in-browser face detector: onnxruntime-web (wasm backend, one thread, no worker) running the
 * server's own BlazeFace short-range model. Every file comes from the faceproof server: the runtime's
 * wasm from `<sdk>/ort/`, the model from `<sdk>/models/blazeface_short.onnx`.
 */
import * as ort from "onnxruntime-web/wasm";
import { INPUT_SIZE, decode, letterbox, shortRangeAnchors, toInput, type Face } from "./blazeface.js";

export interface Detection {
  faces: Face[];
  /** Mean luma (0-255, BT.601) of the best face's box, or of the whole frame without a face. */
  faceLuma: number;
  /** Mean luma of the whole frame. */
  frameLuma: number;
  width: number;
  height: number;
  ms: number;
}

export class FaceDetector {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly anchors = shortRangeAnchors();

  private constructor(
    private readonly session: ort.InferenceSession,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.width = INPUT_SIZE;
    this.canvas.height = INPUT_SIZE;
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) throw new Error("no 2d canvas");
    this.ctx = ctx;
  }

  /** Loads the runtime and the model from `sdkBase` (a URL ending in `/`). */
  static async load(sdkBase: string, modelUrl?: string): Promise<FaceDetector> {
    ort.env.wasm.wasmPaths = new URL("ort/", sdkBase).href;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    const url = modelUrl ?? new URL("models/blazeface_short.onnx", sdkBase).href;
    const session = await ort.InferenceSession.create(url, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    if (session.outputNames.length !== 2) throw new Error(`detector has ${session.outputNames.length} outputs, expected 2`);
    return new FaceDetector(session);
  }

  /** Detects faces in the current frame of `video`. */
  async detect(video: HTMLVideoElement): Promise<Detection> {
    const t0 = performance.now();
    const w = video.videoWidth;
    const h = video.videoHeight;
    const lb = letterbox(w, h);
    const ctx = this.ctx;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, INPUT_SIZE, INPUT_SIZE);
    ctx.drawImage(video, lb.padX, lb.padY, lb.width, lb.height);
    const rgba = ctx.getImageData(0, 0, INPUT_SIZE, INPUT_SIZE).data;
    const input = new ort.Tensor("float32", toInput(rgba), [1, 3, INPUT_SIZE, INPUT_SIZE]);
    const out = await this.session.run({ [this.session.inputNames[0]]: input });
    const reg = out[this.session.outputNames[0]].data as Float32Array;
    const logits = out[this.session.outputNames[1]].data as Float32Array;
    const faces = decode(reg, logits, this.anchors, lb);
    const frameLuma = meanLuma(rgba, lb.padX, lb.padY, lb.padX + lb.width, lb.padY + lb.height);
    let faceLuma = frameLuma;
    if (faces.length > 0) {
      const f = faces[0];
      const x0 = lb.padX + Math.max(0, f.x0) * lb.scale;
      const y0 = lb.padY + Math.max(0, f.y0) * lb.scale;
      const x1 = lb.padX + Math.min(w, f.x1) * lb.scale;
      const y1 = lb.padY + Math.min(h, f.y1) * lb.scale;
      faceLuma = meanLuma(rgba, x0, y0, x1, y1);
    }
    return { faces, faceLuma, frameLuma, width: w, height: h, ms: performance.now() - t0 };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function meanLuma(rgba: Uint8ClampedArray, x0: number, y0: number, x1: number, y1: number): number {
  const xa = Math.max(0, Math.floor(x0));
  const ya = Math.max(0, Math.floor(y0));
  const xb = Math.min(INPUT_SIZE, Math.ceil(x1));
  const yb = Math.min(INPUT_SIZE, Math.ceil(y1));
  let sum = 0;
  let n = 0;
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const i = 4 * (y * INPUT_SIZE + x);
      sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
      n++;
    }
  }
  return n > 0 ? sum / n : 0;
}
