/**
 * BlazeFace short range (128x128, 896 anchors) decoding: the same pre- and post-processing as the
 * server's detector (crates/vision/src/detector.rs), so the browser guides the user with the model
 * the server judges with. Pure functions: the ONNX session lives in detector.ts.
 *
 * Model contract: input [1, 3, 128, 128] RGB as x / 127.5 - 1 over the whole frame letterboxed
 * (aspect kept, centred, black bars); outputs [1, 896, 16] regressors then [1, 896, 1] logits.
 * Regressors per anchor: cx, cy, w, h, then 6 keypoints (x, y), in input pixels relative to the
 * anchor centre (w and h absolute).
 */

export const INPUT_SIZE = 128;
/** A face from this score on (the server's `detector.short.min_score`). */
export const MIN_SCORE = 0.5;
/** Candidates overlapping the best one by more than this IoU merge into it (weighted NMS). */
export const NMS_IOU = 0.3;

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Face extends Box {
  score: number;
  /** Right eye, left eye, nose, mouth, right ear, left ear (the subject's sides), frame pixels. */
  keypoints: [number, number][];
}

/** Where the frame sits inside the square input. */
export interface Letterbox {
  scale: number;
  padX: number;
  padY: number;
  width: number;
  height: number;
}

export function letterbox(w: number, h: number, size = INPUT_SIZE): Letterbox {
  const s = size / Math.max(w, h);
  const width = Math.min(size, Math.max(1, Math.round(w * s)));
  const height = Math.min(size, Math.max(1, Math.round(h * s)));
  return { scale: s, padX: Math.floor((size - width) / 2), padY: Math.floor((size - height) / 2), width, height };
}

/** Anchor centres (normalised): strides 8, 16, 16, 16 with 2 anchors per layer -> 896 at 128. */
export function shortRangeAnchors(size = INPUT_SIZE): Float32Array {
  const layout: [number, number][] = [
    [8, 2],
    [16, 6],
  ];
  const out: number[] = [];
  for (const [stride, perCell] of layout) {
    const cells = size / stride;
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let k = 0; k < perCell; k++) out.push((x + 0.5) / cells, (y + 0.5) / cells);
      }
    }
  }
  return new Float32Array(out);
}

/** RGBA pixels of the letterboxed square into the model's CHW float input. */
export function toInput(rgba: Uint8ClampedArray, size = INPUT_SIZE): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = rgba[4 * i] / 127.5 - 1;
    out[plane + i] = rgba[4 * i + 1] / 127.5 - 1;
    out[2 * plane + i] = rgba[4 * i + 2] / 127.5 - 1;
  }
  return out;
}

function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Decodes the two outputs into faces in frame pixels, best first: threshold on the logit, then
 * MediaPipe's weighted NMS (the best candidate absorbs those overlapping it; the box is their
 * score-weighted mean), then the letterbox undone.
 */
export function decode(
  reg: Float32Array,
  logits: Float32Array,
  anchors: Float32Array,
  lb: Letterbox,
  size = INPUT_SIZE,
): Face[] {
  const minLogit = Math.log(MIN_SCORE / (1 - MIN_SCORE));
  const inv = 1 / size;
  const cands: Face[] = [];
  const n = logits.length;
  for (let i = 0; i < n; i++) {
    const logit = logits[i];
    if (!(logit > minLogit)) continue;
    const score = 1 / (1 + Math.exp(-Math.max(-80, Math.min(80, logit))));
    const r = i * 16;
    const ax = anchors[2 * i];
    const ay = anchors[2 * i + 1];
    const cx = reg[r] * inv + ax;
    const cy = reg[r + 1] * inv + ay;
    const hw = reg[r + 2] * inv * 0.5;
    const hh = reg[r + 3] * inv * 0.5;
    const keypoints: [number, number][] = [];
    for (let k = 0; k < 6; k++) keypoints.push([reg[r + 4 + 2 * k] * inv + ax, reg[r + 5 + 2 * k] * inv + ay]);
    cands.push({ score, x0: cx - hw, y0: cy - hh, x1: cx + hw, y1: cy + hh, keypoints });
  }
  cands.sort((a, b) => b.score - a.score);
  const used = new Array<boolean>(cands.length).fill(false);
  const faces: Face[] = [];
  const toFrame = (x: number, y: number): [number, number] => [
    (x * size - lb.padX) / lb.scale,
    (y * size - lb.padY) / lb.scale,
  ];
  for (let i = 0; i < cands.length; i++) {
    if (used[i]) continue;
    const best = cands[i];
    let wsum = 0;
    const acc = { x0: 0, y0: 0, x1: 0, y1: 0 };
    const kps = Array.from({ length: 6 }, () => [0, 0] as [number, number]);
    for (let j = i; j < cands.length; j++) {
      if (used[j] || iou(cands[j], best) <= NMS_IOU) continue;
      used[j] = true;
      const c = cands[j];
      const w = c.score;
      wsum += w;
      acc.x0 += c.x0 * w;
      acc.y0 += c.y0 * w;
      acc.x1 += c.x1 * w;
      acc.y1 += c.y1 * w;
      c.keypoints.forEach((p, k) => {
        kps[k][0] += p[0] * w;
        kps[k][1] += p[1] * w;
      });
    }
    const [x0, y0] = toFrame(acc.x0 / wsum, acc.y0 / wsum);
    const [x1, y1] = toFrame(acc.x1 / wsum, acc.y1 / wsum);
    faces.push({
      score: best.score,
      x0,
      y0,
      x1,
      y1,
      keypoints: kps.map(([x, y]) => toFrame(x / wsum, y / wsum)),
    });
  }
  return faces;
}
