#!/usr/bin/env python3
"""Unauthenticated upload attack against a child `faceproof serve`: N connections without a key
each stream ~20 MB to the silent endpoint; prints the child's RSS before, at the peak during and
after, and how many clients read the 401 rather than a network error.

Usage: scripts/unauth-upload-rss.py path/to/faceproof [connections] [mb] [path,path...]
"""
import os, socket, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
conns = int(sys.argv[2]) if len(sys.argv) > 2 else 30
size = int(float(sys.argv[3] if len(sys.argv) > 3 else 20) * 1024 * 1024)
PATHS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["/v1/silent/video-compare", "/openapi/liveness/v3/detection-result", "/vision/ekyc/liveness"]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def attack(port, path, results, i):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                  f"content-length: {size}\r\n\r\n".encode())
        chunk = b"A" * 65536
        sent = 0
        while sent < size:
            n = min(len(chunk), size - sent)
            s.sendall(chunk[:n])
            sent += n
        data = s.recv(4096)
        results[i] = data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
    except OSError as e:
        results[i] = f"network error: {type(e).__name__}"


def main():
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        cfg = os.path.join(d, "c.toml")
        with open(cfg, "w") as f:
            f.write(f'[store]\ndatabase_url = "sqlite://{d}/db.sqlite"\nartefacts = "{d}/art"\n'
                    f'[store.master_key]\nfile = "{d}/master.key"\ngenerate = true\n')
        child = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--config", cfg],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            time.sleep(1)
            before = rss_mb(child.pid)
            results = [None] * conns
            threads = [threading.Thread(target=attack, args=(port, PATHS[i % len(PATHS)], results, i))
                       for i in range(conns)]
            peak = before
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                peak = max(peak, rss_mb(child.pid))
                time.sleep(0.05)
            time.sleep(2)
            after = rss_mb(child.pid)
            answers = {}
            for r in results:
                answers[r] = answers.get(r, 0) + 1
            print(f"connections={conns} body={size / 2**20:.0f}MiB rss_before={before:.0f}MB "
                  f"rss_peak={peak:.0f}MB rss_after={after:.0f}MB answers={answers}")
        finally:
            child.terminate()
            child.wait()


main()
