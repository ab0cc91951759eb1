#!/usr/bin/env python3
"""Through the service, for `make bench`: FPT liveness requests against a real `faceproof serve`.

Starts `faceproof serve` on loopback with its own FACEPROOF_HOME (SQLite + local files in a
temporary folder, the models from `--models`), adds a tenant, then posts the standard request
(a 6 s 720p H.264 selfie + an ID photo, `POST /vision/ekyc/liveness`):

1. one at a time (`--sequential` requests): p50 / p95 latency;
2. `--clients` concurrent clients for `--seconds`: requests per second answered 200, p50 / p95,
   and how many were refused (429 / 503: the bounded queue);
3. the service's peak RSS (VmHWM of the process) over the whole run.

Standard library only. Every number is wall time on this machine as it is: run it on a quiet
machine, or read it beside the load average it prints.

Usage: serve_load.py --bin target/release/faceproof --models DIR --video CLIP --id PHOTO
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(fields: list[tuple[str, str, bytes]]) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, filename, data in fields:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def post(url: str, key: str, ctype: str, body: bytes) -> tuple[int, float]:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": ctype, "api-key": key})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        e.read()
        code = e.code
    return code, time.perf_counter() - t0


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--video", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--sequential", type=int, default=8)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="faceproof-serve-load-")
    port = free_port()
    cfg = os.path.join(work, "faceproof.toml")
    with open(cfg, "w") as f:
        f.write(f'[server]\nbind = "127.0.0.1:{port}"\n\n[vision]\nmodels_dir = "{args.models}"\n')
    env = dict(os.environ, FACEPROOF_HOME=work)
    out = subprocess.run([args.bin, "tenant", "add", "bench", "--config", cfg], env=env,
                         capture_output=True, text=True, check=True)
    key = json.loads(out.stdout)["fpt_api_key"]
    log = open(os.path.join(work, "serve.log"), "w")
    serve = subprocess.Popen([args.bin, "serve", "--config", cfg], env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        else:
            raise SystemExit(f"the service did not become ready (log in {work}/serve.log)")
        with open(args.video, "rb") as f:
            video = f.read()
        with open(args.id, "rb") as f:
            photo = f.read()
        ctype, body = multipart([("video", "selfie.mp4", video), ("cmnd", "id.jpg", photo)])
        url = base + "/vision/ekyc/liveness"
        code, _ = post(url, key, ctype, body)  # warm-up
        if code != 200:
            raise SystemExit(f"warm-up answered {code} (log in {work}/serve.log)")

        seq = []
        for _ in range(args.sequential):
            code, dt = post(url, key, ctype, body)
            if code == 200:
                seq.append(dt)

        lat, refused, lock = [], [], threading.Lock()
        stop = time.perf_counter() + args.seconds

        def client() -> None:
            while time.perf_counter() < stop:
                code, dt = post(url, key, ctype, body)
                with lock:
                    (lat if code == 200 else refused).append((code, dt))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        conc = [dt for _, dt in lat]
        report = {
            "load_average": os.getloadavg(),
            "one_at_a_time": {"requests": len(seq), "p50_s": round(pct(seq, 0.5), 3),
                              "p95_s": round(pct(seq, 0.95), 3)},
            "concurrent": {"clients": args.clients, "seconds": round(elapsed, 1),
                           "answered_200": len(conc),
                           "requests_per_s": round(len(conc) / elapsed, 2),
                           "p50_s": round(pct(conc, 0.5), 3), "p95_s": round(pct(conc, 0.95), 3),
                           "refused": sorted({c for c, _ in refused}),
                           "refused_count": len(refused)},
            "service_peak_rss_mb": round(peak_rss_mb(serve.pid), 1),
        }
        print(json.dumps(report, indent=2))
        return 0
    finally:
        serve.terminate()
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()


if __name__ == "__main__":
    raise SystemExit(main())
