"""MiniFASNet's channel order, settled by measurement (BGR vs RGB), held out by person.

usage: $FACEPROOF_HOME/venv/bin/python models/measure_minifas.py   (FACEPROOF_SHARED as for verify.py)

Bona fide: 5 frames of every clip in <shared>/data/videos/live_* and real/bona_fide/, the genuine stills
in attacks/. Attacks: 5 frames of every real/replay/ clip and the print/screen/replay stills in attacks/.
Face: the pack's BlazeFace (short range, else full range); crop: the box enlarged 2.7x around its
centre, shifted to stay inside the image, bilinear to 128x128, raw 0-255. Score: P(real) = softmax[0].
Prints the AUC (bona fide above attack) per channel order, per frame and per source (median of its
frames), and a leave-one-person-out check: the order is chosen on every other person, the held-out
person's frames are scored with it. No fitting happens besides that choice.
"""
import glob, io, os, subprocess, sys
import numpy as np
from PIL import Image, ImageOps
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify as V
D = os.path.join(os.environ.get("FACEPROOF_SHARED") or os.path.join(os.path.dirname(V.REPO), "shared"), "data")
M = os.path.join(V.fp_home(), "models")
det_s = V.Onnx(M + "/blazeface_short.onnx"); det_f = V.Onnx(M + "/blazeface_full.onnx")
mfn = V.Onnx(M + "/minifasnet.onnx")
def frames(path, n=5):
    txt = subprocess.run(["ffprobe","-v","error","-show_entries","format=duration","-of","csv=p=0",path],capture_output=True,text=True).stdout.strip()
    try: dur = float(txt)
    except ValueError: dur = 3.0
    out = []
    for i in range(n):
        t = dur * (i + 0.5) / n
        r = subprocess.run(["ffmpeg","-v","error","-ss",f"{t:.3f}","-i",path,"-frames:v","1","-f","image2pipe","-vcodec","png","-"],capture_output=True)
        if r.stdout:
            out.append(Image.open(io.BytesIO(r.stdout)).convert("RGB"))
    return out
def score(im, order):
    d = V.detect(det_s, "blazeface_short", im) or V.detect(det_f, "blazeface_full", im)
    if d is None: return None
    x = V.minifas_crop(im, d[0])
    if order == "bgr": x = x[..., ::-1]
    z = mfn(x[None])["output"][0].astype(np.float64)
    e = np.exp(z - z.max()); return float(e[0] / e.sum())
samples = []  # (person, label 1=bona fide, source, image)
for p in sorted(glob.glob(D + "/videos/live_*.mp4")):
    samples += [(os.path.basename(p), 1, p, im) for im in frames(p)]
for p in sorted(glob.glob(D + "/real/bona_fide/*")):
    person = os.path.basename(p).split(".")[0]
    samples += [(person, 1, p, im) for im in frames(p)]
for p in sorted(glob.glob(D + "/real/replay/*")):
    person = os.path.basename(p).split(".")[0]
    samples += [(person, 0, p, im) for im in frames(p)]
for p in sorted(glob.glob(D + "/attacks/*.jpg") + glob.glob(D + "/attacks/*.png")):
    b = os.path.basename(p)
    person = "okuru_a" if b.endswith(("_a_1.jpg","_a_2.jpg","_a_3.jpg","_a_1.png")) else ("silentface" if "screen" in b or "counterpart" in b else b)
    lab = 1 if b.startswith("genuine") else 0
    samples.append((person, lab, p, ImageOps.exif_transpose(Image.open(p)).convert("RGB")))
rows = []
for person, lab, src, im in samples:
    s = {o: score(im, o) for o in ("bgr", "rgb")}
    if s["bgr"] is None: continue
    rows.append((person, lab, src, s["bgr"], s["rgb"]))
def auc(pos, neg):
    if not pos or not neg: return float("nan")
    pos, neg = np.array(pos), np.array(neg)
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))
def clip_scores(rs, k):  # per source: median over its frames
    by = {}
    for r in rs: by.setdefault((r[2], r[1], r[0]), []).append(r[k])
    return [(key[2], key[1], float(np.median(v))) for key, v in by.items()]
for k, name in ((3, "bgr"), (4, "rgb")):
    cs = clip_scores(rows, k)
    print(f"{name}: frame AUC {auc([r[k] for r in rows if r[1]], [r[k] for r in rows if not r[1]]):.3f}  "
          f"clip AUC {auc([c[2] for c in cs if c[1]], [c[2] for c in cs if not c[1]]):.3f}  "
          f"(bona fide sources {sum(1 for c in cs if c[1])}, attack sources {sum(1 for c in cs if not c[1])}, frames {len(rows)})")
# leave-one-person-out: choose the order on the other people (frame AUC), score the held-out person's sources
persons = sorted({r[0] for r in rows}); held = []; choices = {}
for p in persons:
    train = [r for r in rows if r[0] != p]
    best = max((3, 4), key=lambda k: auc([r[k] for r in train if r[1]], [r[k] for r in train if not r[1]]))
    choices[p] = "bgr" if best == 3 else "rgb"
    held += [(r[1], r[best]) for r in rows if r[0] == p]
print("LOPO choices:", {c: list(choices.values()).count(c) for c in set(choices.values())})
print(f"LOPO pooled frame AUC of the held-out choice: {auc([s for l, s in held if l], [s for l, s in held if not l]):.3f}")
print("per attack source (median P(real) bgr / rgb):")
for key in sorted({(r[2], r[1]) for r in rows}):
    b = np.median([r[3] for r in rows if r[2] == key[0]]); g = np.median([r[4] for r in rows if r[2] == key[0]])
    print(f"  {'live ' if key[1] else 'ATTACK'} {os.path.relpath(key[0], D):<45} {b:.3f} / {g:.3f}")
