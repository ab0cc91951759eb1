"""Checks every converted ONNX model of the pack against its original on real faces.

usage: python models/verify.py --models DIR [--downloads DIR] [--shared DIR] [--quiet]
(run with the set-up venv's python: ${FACEPROOF_HOME:-~/.cache/faceproof}/venv/bin/python)

For each model: the sha256 of the ONNX file in DIR must equal pack.toml's; the TFLite original is read
from its registry archive in the download cache (archive and member sha256 checked); both run on crops of
the photos in <shared>/data/faces/*/* and <shared>/data/attacks/* (after EXIF rotation) -- ONNX Runtime
from the pinned wheel, TFLite through LiteRT (ai-edge-litert) -- and every output element must satisfy
|onnx - tflite| <= tolerance + rtol * |tflite| (pack.toml; rtol defaults to 0, it is only set for the
detectors, whose raw outputs reach 1e4 on background anchors). Prints per output the max absolute
difference, the tolerance and the worst ratio difference / allowed. Exit status 1 if any ratio > 1.

ONNX sources: `dqfold` (SFace) is checked against the shipped block-quantized int8 graph, run in the same
ONNX Runtime with only its stale graph inputs removed (the DequantizeLinear nodes kept), on faces aligned to
the 112x112 template from BlazeFace's eye, nose and mouth keypoints, raw 0-255 RGB: max abs difference of
the raw embedding and the cosine of the two normalised embeddings (>= 0.99999). `copy` (MiniFASNet) is used
as shipped: its hash is checked and it runs on the 2.7x face crops (P(real) printed for attacks/).

Crops: BlazeFace short range (the TFLite reference; full range if it finds nothing) gives the face box
and eye keypoints of each photo; detectors see the whole letterboxed photo, face_mesh a 1.5x square
box, iris a square box around each eye (the image-right eye mirrored), mobilefacenet a square box at
112, face_antispoofing the square box at 256. MobileFaceNet runs in ONNX with batch 1 and with all faces
in one batch, the TFLite original (batch fixed at 2) on pairs.

<shared> is $FACEPROOF_SHARED, else ../shared next to the repository root.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import sys
import tarfile
import tomllib
import zipfile

import numpy as np
import onnxruntime as ort
from ai_edge_litert.interpreter import Interpreter
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def fp_home() -> str:
    return os.environ.get("FACEPROOF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "faceproof")


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def read_member(archive: str, member: str) -> bytes:
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive, "r:*") as t:
        return t.extractfile(member).read()


# ----- runners -------------------------------------------------------------------------------------
class Tfl:
    def __init__(self, content: bytes):
        self.it = Interpreter(model_content=content)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]
        self.outs = self.it.get_output_details()

    def __call__(self, x_nhwc: np.ndarray) -> dict[str, np.ndarray]:
        self.it.set_tensor(self.inp["index"], x_nhwc.astype(np.float32))
        self.it.invoke()
        return {d["name"]: self.it.get_tensor(d["index"]).copy() for d in self.outs}


class Onnx:
    def __init__(self, path_or_bytes):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        so.log_severity_level = 3
        self.s = ort.InferenceSession(path_or_bytes, so, providers=["CPUExecutionProvider"])
        self.inp = self.s.get_inputs()[0].name
        self.names = [o.name for o in self.s.get_outputs()]

    def __call__(self, x_nhwc: np.ndarray) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2).astype(np.float32))
        return dict(zip(self.names, self.s.run(None, {self.inp: x})))


def as_tflite_layout(onnx_out: np.ndarray, tfl_shape: tuple) -> np.ndarray:
    if onnx_out.shape == tuple(tfl_shape):
        return onnx_out
    if onnx_out.ndim == 4 and onnx_out.transpose(0, 2, 3, 1).shape == tuple(tfl_shape):
        return onnx_out.transpose(0, 2, 3, 1)
    return onnx_out.reshape(tfl_shape)


def shipped_quantized(content: bytes) -> bytes:
    """The shipped quantized graph as ONNX Runtime can run it: graph inputs that are initializers or
    that no node reads are removed; every node (DequantizeLinear included) is kept as shipped."""
    import onnx

    m = onnx.load_from_string(content)
    g = m.graph
    inits = {t.name for t in g.initializer}
    read = {i for n in g.node for i in n.input}
    keep = [i for i in g.input if i.name not in inits and i.name in read]
    del g.input[:]
    g.input.extend(keep)
    return m.SerializeToString()


# ----- images and crops ----------------------------------------------------------------------------
def load_images(shared: str) -> list[tuple[str, Image.Image]]:
    data = os.path.join(shared, "data")
    paths = []
    for pattern in ("faces/*/*.jpg", "faces/*/*.png", "attacks/*.jpg", "attacks/*.png"):
        paths += glob.glob(os.path.join(data, pattern))
    out = []
    for p in sorted(paths):
        im = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
        out.append((os.path.relpath(p, data), im))
    return out


def letterbox(im: Image.Image, size: int) -> tuple[np.ndarray, float, float, float]:
    w, h = im.size
    s = size / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    canvas = Image.new("RGB", (size, size))
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas.paste(im.resize((nw, nh), Image.BILINEAR), (px, py))
    return np.asarray(canvas, np.float32), s, px, py


def anchors(size: int, strides: list[int], per_layer: int) -> np.ndarray:
    out, i = [], 0
    while i < len(strides):
        j, reps = i, 0
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
            reps += per_layer
        n = size // strides[i]
        for y in range(n):
            for x in range(n):
                out += [((x + 0.5) / n, (y + 0.5) / n)] * reps
        i = j
    return np.array(out, np.float32)


DETECTORS = {  # name -> (input size, strides, anchors per layer)
    "blazeface_short": (128, [8, 16, 16, 16], 2),
    "blazeface_full": (192, [4], 1),
}


def detect(tfl: Tfl, name: str, im: Image.Image):
    size, strides, per = DETECTORS[name]
    x, s, px, py = letterbox(im, size)
    out = tfl((x / 127.5 - 1.0)[None])
    reg = next(v for v in out.values() if v.shape[-1] == 16)[0]
    logit = next(v for v in out.values() if v.shape[-1] == 1)[0, :, 0]
    score = 1 / (1 + np.exp(-np.clip(logit, -80, 80)))
    k = int(np.argmax(score))
    if score[k] < 0.5:
        return None
    a = anchors(size, strides, per)[k]
    r = reg[k] / size
    pts = r[4:].reshape(6, 2) + a
    cx, cy = r[0] + a[0], r[1] + a[1]
    to_img = lambda u, v: ((u * size - px) / s, (v * size - py) / s)  # noqa: E731
    (x0, y0), (x1, y1) = to_img(cx - r[2] / 2, cy - r[3] / 2), to_img(cx + r[2] / 2, cy + r[3] / 2)
    kps = np.array([to_img(u, v) for u, v in pts])
    return (x0, y0, x1, y1), kps


def square_crop(im: Image.Image, cx: float, cy: float, side: float, size: int, mirror=False) -> np.ndarray:
    box = (round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2))
    c = im.crop(box).resize((size, size), Image.BILINEAR)
    if mirror:
        c = c.transpose(Image.FLIP_LEFT_RIGHT)
    return np.asarray(c, np.float32)


TEMPLATE4 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                      [(41.5493 + 70.7299) / 2, (92.3655 + 92.2041) / 2]], np.float64) + 0.5


def aligned_face(im: Image.Image, kps: np.ndarray) -> np.ndarray:
    """112x112 face aligned by a least-squares similarity from BlazeFace's eyes (image-left first),
    nose tip and mouth centre to the ArcFace template (mouth centre = mean of its mouth corners)."""
    eyes = sorted(kps[:2].tolist())
    src = np.array([eyes[0], eyes[1], kps[2], kps[3]], np.float64)
    # template -> image similarity (the inverse map PIL's AFFINE transform wants)
    dm, sm = TEMPLATE4.mean(0), src.mean(0)
    d, sc = TEMPLATE4 - dm, src - sm
    a = (d[:, 0] * sc[:, 0] + d[:, 1] * sc[:, 1]).sum() / (d ** 2).sum()
    b = (d[:, 0] * sc[:, 1] - d[:, 1] * sc[:, 0]).sum() / (d ** 2).sum()
    tx = sm[0] - (a * dm[0] - b * dm[1])
    ty = sm[1] - (b * dm[0] + a * dm[1])
    face = im.transform((112, 112), Image.AFFINE, (a, -b, tx, b, a, ty), resample=Image.BILINEAR)
    return np.asarray(face, np.float32)


def minifas_crop(im: Image.Image, box: tuple, scale: float = 2.7, size: int = 128) -> np.ndarray:
    """The detector box enlarged `scale`x around its centre, cut to the image, shifted inside it."""
    x0, y0, x1, y1 = box
    w, h = im.size
    bw, bh = min((x1 - x0) * scale, w), min((y1 - y0) * scale, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = min(max(cx - bw / 2, 0), w - bw)
    top = min(max(cy - bh / 2, 0), h - bh)
    c = im.crop((round(left), round(top), round(left + bw), round(top + bh))).resize((size, size), Image.BILINEAR)
    return np.asarray(c, np.float32)


# ----- main ----------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description="ONNX vs TFLite on real faces")
    ap.add_argument("--models", required=True)
    ap.add_argument("--downloads", default=os.path.join(fp_home(), "downloads"))
    ap.add_argument("--shared", default=os.environ.get("FACEPROOF_SHARED")
                    or os.path.join(os.path.dirname(REPO), "shared"))
    ap.add_argument("--manifest", default=os.path.join(HERE, "pack.toml"))
    ap.add_argument("--quiet", action="store_true", help="no per-image anti-spoofing scores")
    args = ap.parse_args()
    with open(args.manifest, "rb") as f:
        m = tomllib.load(f)
    sources = {s["id"]: s for s in m["source"]}
    failures: list[str] = []

    # originals and converted files, with their hashes
    tfl, onx = {}, {}
    archives: dict[str, str] = {}
    for spec in m["model"]:
        src = sources[spec["source"]]
        arch = os.path.join(args.downloads, src["file"])
        if not os.path.isfile(arch):
            print(f"verify: {arch} missing: run scripts/fetch-models.sh first", file=sys.stderr)
            return 1
        if arch not in archives:
            with open(arch, "rb") as f:
                got = sha256_bytes(f.read())
            if got != src["sha256"]:
                print(f"verify: {arch}: sha256 {got} != pinned {src['sha256']}", file=sys.stderr)
                return 1
            archives[arch] = got
        content = read_member(arch, spec["path"])
        if sha256_bytes(content) != spec["input_sha256"]:
            failures.append(f"{spec['name']}: TFLite original sha256 mismatch")
            continue
        path = os.path.join(args.models, spec["file"])
        if not os.path.isfile(path):
            failures.append(f"{spec['name']}: {path} missing")
            continue
        with open(path, "rb") as f:
            got = sha256_bytes(f.read())
        if got != spec["sha256"]:
            failures.append(f"{spec['name']}: {spec['file']} sha256 {got} != pinned {spec['sha256']}")
        if spec["converter"] == "dqfold":
            tfl[spec["name"]] = Onnx(shipped_quantized(content))
        elif spec["converter"] != "copy":
            tfl[spec["name"]] = Tfl(content)
        onx[spec["name"]] = Onnx(path)

    images = load_images(args.shared)
    if not images:
        print(f"verify: no images under {args.shared}/data (set FACEPROOF_SHARED)", file=sys.stderr)
        return 1

    # face boxes and eye keypoints from the TFLite reference detector
    faces = []  # (name, image, (cx, cy, side), kps, box)
    for name, im in images:
        det = detect(tfl["blazeface_short"], "blazeface_short", im) or detect(
            tfl["blazeface_full"], "blazeface_full", im)
        if det is None:
            continue
        (x0, y0, x1, y1), kps = det
        faces.append((name, im, ((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0)), kps, (x0, y0, x1, y1)))
    if len(faces) < 4:
        print(f"verify: only {len(faces)} faces found in {len(images)} images", file=sys.stderr)
        return 1

    # model inputs (NHWC, normalised) per model
    inputs: dict[str, list[np.ndarray]] = {}
    for det_name, (size, _, _) in DETECTORS.items():
        inputs[det_name] = [letterbox(im, size)[0] / 127.5 - 1.0 for _, im in images]
    inputs["face_mesh"] = [square_crop(im, cx, cy, 1.5 * side, 192) / 255.0 for _, im, (cx, cy, side), _, _ in faces]
    iris = []
    for _, im, (cx, cy, side), kps, _ in faces:
        eyes = sorted(kps[:2].tolist())  # image-left eye first
        iris.append(square_crop(im, eyes[0][0], eyes[0][1], 0.35 * side, 64) / 255.0)
        iris.append(square_crop(im, eyes[1][0], eyes[1][1], 0.35 * side, 64, mirror=True) / 255.0)
    inputs["iris"] = iris
    inputs["mobilefacenet"] = [(square_crop(im, cx, cy, side, 112) - 127.5) / 128.0 for _, im, (cx, cy, side), _, _ in faces]
    inputs["face_antispoofing"] = [square_crop(im, cx, cy, side, 256) / 255.0 for _, im, (cx, cy, side), _, _ in faces]

    inputs["sface"] = [aligned_face(im, kps) for _, im, _, kps, _ in faces]
    inputs["minifasnet"] = [minifas_crop(im, box)[..., ::-1] for _, im, _, _, box in faces]  # BGR

    print(f"verify: {len(images)} images, {len(faces)} faces (shared data: {args.shared})")
    print(f"{'model':<18} {'output':<32} {'n':>4} {'max abs diff':>13} {'tolerance':>20} {'d/tol':>7}  result")
    for spec in m["model"]:
        name = spec["name"]
        if name not in onx or (name not in tfl and spec["converter"] != "copy"):
            continue
        xs = inputs[name]
        diffs: dict[str, float] = {}
        ratios: dict[str, float] = {}
        tols = {o["name"]: (o.get("tolerance", spec["tolerance"]), o.get("rtol", spec.get("rtol", 0.0)))
                for o in spec["output"]}

        def note(out_name: str, ref: np.ndarray, got: np.ndarray) -> None:
            ref = ref.astype(np.float64)
            d = np.abs(ref - as_tflite_layout(got, ref.shape))
            atol, rtol = tols.get(out_name, (spec["tolerance"], spec.get("rtol", 0.0)))
            allowed = atol + rtol * np.abs(ref)
            ratio = float(np.max(np.where(d == 0, 0.0, d / np.maximum(allowed, 1e-30))))
            diffs[out_name] = max(diffs.get(out_name, 0.0), float(d.max()))
            ratios[out_name] = max(ratios.get(out_name, 0.0), ratio)

        if name == "mobilefacenet":
            batch_all = onx[name](np.stack(xs))
            for i in range(0, len(xs) - 1, 2):
                ref = tfl[name](np.stack([xs[i], xs[i + 1]]))
                for out_name, r in ref.items():
                    for j in (0, 1):
                        note(out_name, r[j:j + 1], onx[name](xs[i + j][None])[out_name])
                        note(out_name, r[j:j + 1], batch_all[out_name][i + j:i + j + 1])
        elif name == "sface":
            worst_cos = 1.0
            for x in xs:
                ref, got = tfl[name](x[None]), onx[name](x[None])
                for out_name, r in ref.items():
                    note(out_name, r, got[out_name])
                    a, b = r.ravel().astype(np.float64), got[out_name].ravel().astype(np.float64)
                    worst_cos = min(worst_cos, float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))
            print(f"{name:<18} {'cosine fp32 vs shipped int8 graph':<32} {len(xs):>4} min {worst_cos:.7f}")
            if worst_cos < 0.99999:
                failures.append(f"{name}: cosine to the shipped int8 graph {worst_cos:.7f} < 0.99999")
        elif name == "minifasnet":
            for x in xs:
                o = onx[name](x[None])["output"]
                if o.shape != (1, 3) or not np.all(np.isfinite(o)):
                    failures.append(f"{name}: output {o.shape} not 1x3 finite")
            print(f"{name:<18} {'output':<32} {len(xs):>4} {'(as shipped: hash + runs)':>41}  ok")
        else:
            for x in xs:
                ref = tfl[name](x[None])
                got = onx[name](x[None])
                for out_name, r in ref.items():
                    if out_name not in got:
                        failures.append(f"{name}: ONNX has no output {out_name}")
                        continue
                    note(out_name, r, got[out_name])
        for out_name, d in sorted(diffs.items()):
            atol, rtol = tols.get(out_name, (spec["tolerance"], spec.get("rtol", 0.0)))
            tol = f"{atol:.0e}" + (f" + {rtol:.0e}*|ref|" if rtol else "")
            ok = ratios[out_name] <= 1.0
            print(f"{name:<18} {out_name:<32} {len(xs):>4} {d:>13.3e} {tol:>20} {ratios[out_name]:>7.3f}  "
                  f"{'ok' if ok else 'FAIL'}")
            if not ok:
                failures.append(f"{name}/{out_name}: max abs diff {d:.3e}, worst diff / allowed "
                                f"{ratios[out_name]:.3f} > 1 (tolerance {tol})")

    if not args.quiet:
        fas = onx["face_antispoofing"]
        mfn = onx.get("minifasnet")
        print("face_antispoofing score = sum(|Identity| * Identity_1) (ONNX) and minifasnet P(real) "
              "(BGR, 2.7x crop) on attacks/:")
        for (name, *_), x, y in zip(faces, inputs["face_antispoofing"], inputs["minifasnet"]):
            if name.startswith("attacks/"):
                o = fas(x[None])
                score = float(np.sum(np.abs(o["Identity"]) * o["Identity_1"]))
                leaf = int(np.argmax(o["Identity_1"]))
                real = ""
                if mfn is not None:
                    z = mfn(y[None])["output"][0].astype(np.float64)
                    real = f"  P(real) {np.exp(z[0] - z.max()) / np.exp(z - z.max()).sum():.3f}"
                print(f"  {os.path.basename(name):<28} {score:.3f}  (leaf {leaf}){real}")

    if failures:
        print("verify: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("verify: all models within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
