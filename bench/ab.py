#!/usr/bin/env python3
"""Whole-process comparisons for `make bench`, each measured in one run, A and B alternating.

1. `faceproof check` on the standard request against `python_pipeline.py` (same models, same
   frames): wall time and peak RSS of each process, medians over `--runs` alternations, and the
   ratio of the medians.
2. Constant cost: `faceproof check` on a long real clip against a 6 s cut of it, alternating: the
   engine's own total (in-process `timings.total_ms`), frames decoded and analysed.

Alternating A and B in the same minutes matters on a shared machine: a neighbour's build slows
both sides alike instead of whichever happened to run second.

Usage: ab.py --bin target/release/faceproof --python VENV/bin/python --models DIR --shared DIR
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_rusage(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, the child's own peak RSS (MB, from wait4) and its stdout."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"{cmd[0]} failed ({code}): {err.read().decode(errors='replace')[-2000:]}")
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def cut(src: str, seconds: float, dst: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", src, "-t", str(seconds), "-c", "copy",
                    "-an", dst], check=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--shared", required=True, help="the shared data folder (holds data/)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--long", default="data/videos/live_selfie_portrait.mp4")
    args = ap.parse_args()
    data = lambda p: os.path.join(args.shared, p)
    tmp = tempfile.mkdtemp(prefix="faceproof-ab-")
    standard = os.path.join(tmp, "standard.mp4")
    cut(data("data/videos/live_talking_720x1280.mp4"), 6, standard)
    photo = data("data/faces/obama/1.jpg")

    rust = [args.bin, "check", "--video", standard, "--id", photo, "--models", args.models]
    py = [args.python, os.path.join(HERE, "python_pipeline.py"), "--video", standard, "--id",
          photo, "--models", args.models, "--window", "6", "--json"]
    run_rusage(rust)  # warm the page cache for both
    run_rusage(py)
    r_wall, r_rss, p_wall, p_rss = [], [], [], []
    for _ in range(args.runs):
        w, m, _ = run_rusage(rust)
        r_wall.append(w)
        r_rss.append(m)
        w, m, _ = run_rusage(py)
        p_wall.append(w)
        p_rss.append(m)
    med = statistics.median
    print(f"whole process, standard request, median of {args.runs} alternating runs:")
    print("| | wall s | peak RSS MB |\n|---|---|---|")
    print(f"| faceproof check | {med(r_wall):.2f} | {med(r_rss):.0f} |")
    print(f"| python_pipeline.py | {med(p_wall):.2f} | {med(p_rss):.0f} |")
    ratios = [p / r for p, r in zip(p_wall, r_wall)]
    print(f"python / faceproof: median of the per-run ratios {med(ratios):.1f}x "
          f"(per run: {', '.join(f'{x:.1f}' for x in ratios)}; ratio of the medians "
          f"{med(p_wall) / med(r_wall):.1f}x)")

    long = data(args.long)
    short = os.path.join(tmp, "long_first6.mp4")
    cut(long, 6, short)
    facts, totals = {}, {"long": [], "cut": []}
    for _ in range(args.runs):
        for name, clip in (("long", long), ("cut", short)):
            _, _, out = run_rusage([args.bin, "check", "--video", clip, "--models", args.models])
            v = json.loads(out)
            totals[name].append(v["timings"]["total_ms"])
            facts[name] = v["media"]
    print(f"\nconstant cost: {os.path.basename(long)} whole vs its first 6 s, engine total "
          f"(in process), median of {args.runs} alternating runs:")
    print("| clip | seconds | analysed s | frames decoded | frames analysed | total ms |")
    print("|---|---|---|---|---|---|")
    for name in ("long", "cut"):
        f = facts[name]
        print(f"| {name} | {f['duration_seconds']:.1f} | {f.get('analysed_seconds', 0):.1f} | "
              f"{f.get('frames_decoded', '?')} | {f['frames_analysed']} | {med(totals[name]):.0f} |")
    print(f"long / cut: {med(totals['long']) / med(totals['cut']):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
