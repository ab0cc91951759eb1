#!/usr/bin/env python3
"""A straightforward Python reference of the engine's model work, for `make bench`.

Same models (the pack's ONNX files through onnxruntime), same frames as `faceproof check` on the
standard request: the first `--window` seconds of the clip, every `--stride`-th frame scaled to a
640 px long side; 8 full-resolution candidates spread over the window, the 5 best (by the mesh's
face presence on the nearest analysed frame) get the short-range detector, a refined mesh and the
MiniFASNet anti-spoofing model (BGR, 2.7x crop); the best one and the ID photo are embedded by
SFace (the default embedder) and compared.

Per analysed frame: short-range detector, one mesh pass on the detector ROI, iris on the larger
eye; the full-range detector once a second. Decoding uses the ffmpeg CLI (rawvideo on a pipe).

Nothing here is deliberately slow, and nothing is tuned: numpy for the crops (bilinear affine
warps), onnxruntime with its default session options. It is a timing reference, not a second
implementation of the verdict: it prints stage times and a few numbers to show the work was done.

Usage: python_pipeline.py --video CLIP --id PHOTO [--models DIR] [--window 6] [--json]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

ANALYSIS_LONG_SIDE = 640
ANALYSIS_FPS = 15.0
CANDIDATES = 8
PAD_FRAMES = 5
MINIFAS_CROP = 2.7
MESH_ROI_SCALE = 1.5
IRIS_ROI_SCALE = 2.3
MIN_SCORE = 0.5
NMS_IOU = 0.3
TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def probe(path: str) -> tuple[int, int, float]:
    """Width, height (upright, as ffmpeg outputs them) and frame rate of the first video stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,r_frame_rate:stream_side_data=rotation", "-of", "json", path],
        check=True, capture_output=True, text=True,
    ).stdout
    s = json.loads(out)["streams"][0]
    num, den = s["r_frame_rate"].split("/")
    w, h = int(s["width"]), int(s["height"])
    rot = 0
    for sd in s.get("side_data_list", []) or []:
        rot = int(sd.get("rotation", 0) or 0)
    if rot % 180:
        w, h = h, w
    return w, h, float(num) / float(den)


def decode(path: str, window: float, select: str, size: tuple[int, int]) -> list[np.ndarray]:
    """RGB frames of the first `window` seconds that `select` keeps, at `size`."""
    w, h = size
    vf = f"select='{select}',scale={w}:{h}:flags=bilinear"
    cmd = ["ffmpeg", "-v", "error", "-t", f"{window}", "-i", path, "-vf", vf,
           "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    n = len(raw) // (w * h * 3)
    arr = np.frombuffer(raw, dtype=np.uint8)[: n * w * h * 3]
    return list(arr.reshape(n, h, w, 3))


@functools.lru_cache(maxsize=8)
def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of an n x n crop."""
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    return xs, ys


def warp(img: np.ndarray, m: np.ndarray, n: int) -> np.ndarray:
    """An n x n crop: output pixel (x, y) samples the image at m @ (x + 0.5, y + 0.5, 1) - 0.5."""
    xs, ys = grid(n)
    sx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - 0.5
    sy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - 0.5
    h, w = img.shape[:2]
    x0 = np.floor(sx).astype(np.int32)
    y0 = np.floor(sy).astype(np.int32)
    fx = (sx - x0)[..., None]
    fy = (sy - y0)[..., None]
    x0c, x1c = np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1)
    y0c, y1c = np.clip(y0, 0, h - 1), np.clip(y0 + 1, 0, h - 1)
    top = img[y0c, x0c] * (1 - fx) + img[y0c, x1c] * fx
    bot = img[y1c, x0c] * (1 - fx) + img[y1c, x1c] * fx
    out = top * (1 - fy) + bot * fy
    inside = ((sx >= -1) & (sx <= w) & (sy >= -1) & (sy <= h))[..., None]
    return np.where(inside, out, 0.0).astype(np.float32)


def chw(rgb: np.ndarray, scale: float, offset: float) -> np.ndarray:
    return (rgb.astype(np.float32) * scale + offset).transpose(2, 0, 1)[None]


def anchors(size: int, strides: list[int], per_layer: int) -> np.ndarray:
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        cells = size // strides[i]
        for y in range(cells):
            for x in range(cells):
                out.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * ((j - i) * per_layer))
        i = j
    return np.array(out, dtype=np.float32)


class Detector:
    def __init__(self, session: ort.InferenceSession, short: bool):
        self.s = session
        self.n = session.get_inputs()[0].shape[2]
        self.anchors = anchors(self.n, [8, 16, 16, 16], 2) if short else anchors(self.n, [4], 1)
        self.name = session.get_inputs()[0].name

    def detect(self, img: np.ndarray) -> list[dict]:
        h, w = img.shape[:2]
        n = self.n
        s = n / max(w, h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        small = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
        px, py = (n - nw) // 2, (n - nh) // 2
        box = np.zeros((n, n, 3), dtype=np.uint8)
        box[py:py + nh, px:px + nw] = small
        reg, logit = self.s.run(None, {self.name: chw(box, 1 / 127.5, -1.0)})
        reg = reg.reshape(-1, 16)
        logit = logit.reshape(-1)
        keep = logit > math.log(MIN_SCORE / (1 - MIN_SCORE))
        if not keep.any():
            return []
        r, a = reg[keep] / n, self.anchors[keep]
        score = 1 / (1 + np.exp(-np.clip(logit[keep], -80, 80)))
        cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
        boxes = np.stack([cx - r[:, 2] / 2, cy - r[:, 3] / 2, cx + r[:, 2] / 2, cy + r[:, 3] / 2], 1)
        kps = r[:, 4:16].reshape(-1, 6, 2) + a[:, None, :]
        order = np.argsort(-score)
        out = []
        used = np.zeros(len(order), bool)
        for oi, i in enumerate(order):
            if used[oi]:
                continue
            ious = iou(boxes[i], boxes[order])
            group = (ious > NMS_IOU) & ~used
            used |= group
            wts = score[order][group][:, None]
            b = (boxes[order][group] * wts).sum(0) / wts.sum()
            k = (kps[order][group] * wts[:, :, None]).sum(0) / wts.sum()
            to_img = lambda p: np.stack([(p[..., 0] * n - px) / (nw / w), (p[..., 1] * n - py) / (nh / h)], -1)
            out.append({"score": float(score[i]),
                        "box": np.concatenate([to_img(b[:2]), to_img(b[2:])]),
                        "kps": to_img(k)})
        return out


def iou(b: np.ndarray, bs: np.ndarray) -> np.ndarray:
    x0 = np.maximum(b[0], bs[:, 0])
    y0 = np.maximum(b[1], bs[:, 1])
    x1 = np.minimum(b[2], bs[:, 2])
    y1 = np.minimum(b[3], bs[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda q: (q[..., 2] - q[..., 0]) * (q[..., 3] - q[..., 1])
    return inter / (area(b) + area(bs) - inter + 1e-9)


def roi_matrix(cx: float, cy: float, size: float, angle: float, n: int, mirror: bool = False) -> np.ndarray:
    """Crop pixel -> image pixel for a rotated square ROI."""
    s = size / n
    c, si = math.cos(angle), math.sin(angle)
    a, b, d, e = s * c, -s * si, s * si, s * c
    m = np.array([[a, b, cx - (a + b) * n / 2], [d, e, cy - (d + e) * n / 2], [0, 0, 1]])
    if mirror:
        m = m @ np.array([[-1, 0, n], [0, 1, 0], [0, 0, 1]])
    return m


class Mesh:
    def __init__(self, session: ort.InferenceSession):
        self.s = session
        self.n = session.get_inputs()[0].shape[2]
        self.name = session.get_inputs()[0].name

    def run(self, img: np.ndarray, roi: tuple[float, float, float, float]) -> tuple[np.ndarray, float]:
        m = roi_matrix(*roi, self.n)
        crop = warp(img, m, self.n)
        pts, logit = self.s.run(None, {self.name: chw(crop, 1 / 255, 0.0)})
        p = pts.reshape(-1, 3)[:468]
        xy = p[:, :2] @ m[:2, :2].T + m[:2, 2]
        return xy, float(1 / (1 + math.exp(-float(np.clip(logit.reshape(-1)[0], -80, 80)))))


def det_roi(det: dict) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = det["box"]
    r, l = det["kps"][0], det["kps"][1]
    return ((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * MESH_ROI_SCALE,
            math.atan2(l[1] - r[1], l[0] - r[0]))


def refined_roi(xy: np.ndarray) -> tuple[float, float, float, float]:
    r, l = xy[33], xy[263]
    ang = math.atan2(l[1] - r[1], l[0] - r[0])
    c, s = math.cos(ang), math.sin(ang)
    u = xy[:, 0] * c + xy[:, 1] * s
    v = -xy[:, 0] * s + xy[:, 1] * c
    uc, vc = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
    return (uc * c - vc * s, uc * s + vc * c, max(np.ptp(u), np.ptp(v)) * MESH_ROI_SCALE, ang)


def iris_larger(sess: ort.InferenceSession, img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    n = sess.get_inputs()[0].shape[2]
    ro, ri, li, lo = xy[33], xy[133], xy[362], xy[263]
    ang = math.atan2(lo[1] - ro[1], lo[0] - ro[0])
    right = ((ro + ri) / 2, np.linalg.norm(ro - ri) * IRIS_ROI_SCALE, False)
    left = ((li + lo) / 2, np.linalg.norm(li - lo) * IRIS_ROI_SCALE, True)
    (c, size, mirror) = left if left[1] > right[1] else right
    m = roi_matrix(c[0], c[1], size, ang, n, mirror)
    crop = warp(img, m, n)
    contour, _iris = sess.run(None, {sess.get_inputs()[0].name: chw(crop, 1 / 255, 0.0)})
    pts = contour.reshape(-1, 3)[:, :2] @ m[:2, :2].T + m[:2, 2]
    # Lid gap over eye width from the contour's upper and lower lids (points 12 / 4, 0 / 8).
    return np.linalg.norm(pts[12] - pts[4]) / max(np.linalg.norm(pts[0] - pts[8]), 1e-6)


def pad_real(sess: ort.InferenceSession, img: np.ndarray, det: dict) -> float:
    """MiniFASNet P(real): the box enlarged 2.7x, kept inside the image, 128x128 BGR 0-255."""
    n = sess.get_inputs()[0].shape[2]
    h, w = img.shape[:2]
    x0, y0, x1, y1 = det["box"]
    bw = min(max((x1 - x0) * MINIFAS_CROP, 1.0), w)
    bh = min(max((y1 - y0) * MINIFAS_CROP, 1.0), h)
    x = min(max((x0 + x1) / 2 - bw / 2, 0.0), w - bw)
    y = min(max((y0 + y1) / 2 - bh / 2, 0.0), h - bh)
    crop = Image.fromarray(img[int(round(y)):int(round(y + bh)), int(round(x)):int(round(x + bw))])
    crop = np.asarray(crop.resize((n, n), Image.BILINEAR), dtype=np.float32)[:, :, ::-1]
    logits = sess.run(None, {sess.get_inputs()[0].name: crop.transpose(2, 0, 1)[None].copy()})[0][0]
    e = np.exp(logits - logits.max())
    return float(e[0] / e.sum())


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform src -> dst (Umeyama), 3x3."""
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    cov = d0.T @ s0 / len(src)
    u, sv, vt = np.linalg.svd(cov)
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1
    r = u @ d @ vt
    scale = (sv * np.diag(d)).sum() / (s0 ** 2).sum() * len(src)
    t = md - scale * r @ ms
    return np.vstack([np.hstack([scale * r, t[:, None]]), [0, 0, 1]])


def embed(sess: ort.InferenceSession, img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    five = np.array([(xy[33] + xy[133]) / 2, (xy[362] + xy[263]) / 2, xy[1], xy[61], xy[291]])
    to_template = similarity(five + 0.5, TEMPLATE + 0.5)
    crop = warp(img, np.linalg.inv(to_template), 112)
    # SFace takes raw 0-255 RGB (its graph normalises).
    e = sess.run(None, {sess.get_inputs()[0].name: chw(crop, 1.0, 0.0)})[0][0]
    return e / np.linalg.norm(e)


def analyse_still(models: dict, img: np.ndarray, ranges: list[str]) -> tuple[dict, np.ndarray] | None:
    """Largest face: detector(s), mesh on the detector ROI, one refined pass."""
    dets = [d for r in ranges for d in models[r].detect(img)]
    if not dets:
        return None
    det = max(dets, key=lambda d: (d["box"][2] - d["box"][0]) * (d["box"][3] - d["box"][1]))
    xy, _ = models["mesh"].run(img, det_roi(det))
    xy, _ = models["mesh"].run(img, refined_roi(xy))
    return det, xy


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--models", default=os.path.join(
        os.environ.get("FACEPROOF_HOME", os.path.expanduser("~/.cache/faceproof")), "models"))
    ap.add_argument("--window", type=float, default=6.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    t = {}
    t0 = time.perf_counter()

    def sess(name: str) -> ort.InferenceSession:
        return ort.InferenceSession(os.path.join(args.models, name), providers=["CPUExecutionProvider"])

    models = {
        "short": Detector(sess("blazeface_short.onnx"), True),
        "full": Detector(sess("blazeface_full.onnx"), False),
        "mesh": Mesh(sess("face_mesh.onnx")),
        "iris": sess("iris.onnx"),
        "pad": sess("minifasnet.onnx"),
        "embed": sess("sface.onnx"),
    }
    t["load_ms"] = (time.perf_counter() - t0) * 1e3

    t1 = time.perf_counter()
    w, h, fps = probe(args.video)
    stride = max(1, round(fps / ANALYSIS_FPS))
    s = ANALYSIS_LONG_SIDE / max(w, h) if max(w, h) > ANALYSIS_LONG_SIDE else 1.0
    aw, ah = max(1, round(w * s)), max(1, round(h * s))
    frames = decode(args.video, args.window, f"not(mod(n\\,{stride}))", (aw, ah))
    total = int(round(min(args.window, 1e9) * fps))
    picks = [int((2 * j + 1) * total / (2 * CANDIDATES)) for j in range(CANDIDATES)]
    full = decode(args.video, args.window, "+".join(f"eq(n\\,{p})" for p in picks), (w, h))
    t["decode_ms"] = (time.perf_counter() - t1) * 1e3

    t2 = time.perf_counter()
    count_every = max(1, round(fps / stride))
    per_frame = []
    detect_ms = mesh_ms = 0.0
    for i, img in enumerate(frames):
        a = time.perf_counter()
        dets = models["short"].detect(img)
        if i % count_every == 0 or not dets:
            full_dets = models["full"].detect(img)
            dets = dets or full_dets
        b = time.perf_counter()
        detect_ms += (b - a) * 1e3
        if not dets:
            per_frame.append(None)
            continue
        det = max(dets, key=lambda d: (d["box"][2] - d["box"][0]) * (d["box"][3] - d["box"][1]))
        xy, presence = models["mesh"].run(img, det_roi(det))
        openness = iris_larger(models["iris"], img, xy)
        mesh_ms += (time.perf_counter() - b) * 1e3
        per_frame.append((presence, openness))
    t["detect_ms"] = detect_ms
    t["landmarks_ms"] = mesh_ms

    t3 = time.perf_counter()
    times = [i * stride / fps for i in range(len(frames))]

    def rank(j: int) -> float:
        tc = picks[j] / fps
        k = min(range(len(times)), key=lambda i: abs(times[i] - tc))
        return per_frame[k][0] if per_frame[k] else -1.0

    order = sorted(range(len(full)), key=rank, reverse=True)[:PAD_FRAMES]
    pads, best = [], None
    for j in order:
        got = analyse_still(models, full[j], ["short"])
        if got is None:
            continue
        det, xy = got
        pads.append(pad_real(models["pad"], full[j], det))
        if best is None:
            best = (full[j], xy)
    t["pad_ms"] = (time.perf_counter() - t3) * 1e3

    t4 = time.perf_counter()
    cosine = None
    photo = ImageOps.exif_transpose(Image.open(args.id)).convert("RGB")
    if max(photo.size) > 2048:
        photo.thumbnail((2048, 2048), Image.BILINEAR)
    photo = np.asarray(photo)
    doc = analyse_still(models, photo, ["short", "full"])
    if best is not None and doc is not None:
        cosine = float(embed(models["embed"], best[0], best[1]) @ embed(models["embed"], photo, doc[1]))
    t["embed_ms"] = (time.perf_counter() - t4) * 1e3
    t["total_ms"] = (time.perf_counter() - t0) * 1e3

    report = {
        "frames_analysed": len(frames),
        "frames_with_face": sum(p is not None for p in per_frame),
        "candidates": len(full),
        "pad_real_median": float(np.median(pads)) if pads else None,
        "cosine": cosine,
        "timings": {k: round(v, 1) for k, v in t.items()},
    }
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
