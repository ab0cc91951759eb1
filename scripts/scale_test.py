"""Scale-out suite driver: several `faceproof serve` replicas on one PostgreSQL and one S3 (moto),
behind HAProxy, all on loopback. Run by scripts/test-scale.sh (which starts the services and
installs HAProxy); never run against servers that matter.

What it proves (each phase prints one line of figures, and the run fails on the first broken claim):
  1. cross-replica: a signatureId reserved on replica A, filled on B, is read on C, and the
     signed image URL serves the uploaded bytes (sha256).
  2. single use: one signatureId posted to two replicas at the same moment is filled once; the
     loser leaves no artefact row, no upload intent and no object in the bucket.
  3. kill -9 under a bounded load through HAProxy: every capture that was answered SUCCESS is
     found afterwards (result by livenessId, far/near images by sha256 through the signed URLs,
     the artefact row's sha256 in PostgreSQL, the object in the bucket); HAProxy routes around
     the killed replica and it rejoins and serves again.
  4. rolling restart (SIGTERM, drain, start) under load: no request fails.
  5. retention on three replicas purging every second: each expired object is deleted once
     (the purge counts logged by all replicas add up to the number of expired objects) and
     nothing of them is left in the bucket or the database.
  6. webhooks: a receiver on loopback registered for the tenant gets one signed
     `session.completed` event per committed session of phases 1-5, delivered by the three
     replicas' workers from the shared outbox; every signature verifies; an event id seen twice
     is only possible for a replica killed mid-delivery in phase 3 (at least once), and is counted.

Standard library + requests + boto3 (both in the moto venv that scripts/test-services.sh makes).
"""

import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import boto3
import requests

BIN = os.environ.get("FACEPROOF_BIN", "target/release/faceproof")
SHARED = os.environ.get("FACEPROOF_SHARED_DATA", "../shared/data")
WORK = os.environ["SCALE_WORK"]
HAPROXY = os.environ.get("HAPROXY", "haproxy")
PSQL = os.environ["SCALE_PSQL"]
DB_URL = os.environ["FACEPROOF_TEST_DATABASE_URL"]
S3_ENDPOINT = os.environ["FACEPROOF_TEST_S3_ENDPOINT"]
BUCKET = os.environ["FACEPROOF_TEST_S3_BUCKET"]
REPLICAS = int(os.environ.get("SCALE_REPLICAS", "3"))
# Bounds of the load phases: requests and seconds.
KILL_LOAD_MAX_CAPTURES = int(os.environ.get("SCALE_KILL_CAPTURES", "36"))
KILL_LOAD_MAX_SECS = float(os.environ.get("SCALE_KILL_SECS", "50"))
HTTP_TIMEOUT = 60

T0 = time.monotonic()


def log(msg):
    print(f"scale [{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def fail(msg):
    log(f"FAIL: {msg}")
    raise SystemExit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def free_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------- services we start ourselves

PREFIX = f"scale-{secrets.token_hex(4)}"
MASTER_KEY = secrets.token_hex(32)


def replica_config(i, port, short_retention):
    # short_retention: artefacts live 8 s and every replica purges every second (phase 5).
    ttl, purge = (8, 1) if short_retention else (86400, 600)
    path = f"{WORK}/r{i}{'-short' if short_retention else ''}.toml"
    with open(path, "w") as f:
        f.write(
            f"""[server]
bind = "127.0.0.1:{port}"
max_concurrent_checks = 1
max_queued_checks = 8
queue_timeout_secs = 60
shutdown_grace_secs = 30
drain_delay_secs = 2

[store]
database_url = "{DB_URL}"
artefacts = "s3://{BUCKET}/{PREFIX}"
artefact_ttl_secs = {ttl}
purge_interval_secs = {purge}

[store.s3]
endpoint = "{S3_ENDPOINT}"
region = "us-east-1"
access_key_id = "test"
secret_access_key = "test"
allow_http = true

[store.master_key]
env = "FACEPROOF_MASTER_KEY"
file = "{WORK}/master.key"
generate = false

# The load phases send hundreds of requests a second from one address (HAProxy on loopback): the
# per-client limits and the lockout are tested in crates/server/tests/ratelimit.rs, not here.
[server.rate_limit]
enabled = false

# Phase 6: the receiver is on loopback; short polls, retries and leases for the test's time.
[webhooks]
allow_private_targets = true
poll_interval_secs = 0.2
timeout_secs = 3.0
lease_secs = 8.0
initial_backoff_secs = 0.5
max_backoff_secs = 2.0
"""
        )
    return path


class Replica:
    def __init__(self, i):
        self.i = i
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.logs = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, short_retention=False):
        cfg = replica_config(self.i, self.port, short_retention)
        self.starts += 1
        path = f"{WORK}/r{self.i}.{self.starts}.log"
        self.logs.append(path)
        env = dict(os.environ, FACEPROOF_MASTER_KEY=MASTER_KEY)
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", cfg, "--no-demo"],
            stdout=open(path + ".out", "w"),
            stderr=open(path, "w"),
            env=env,
        )

    def wait_ready(self, secs=90):
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, f"replica {self.i} exited: see {self.logs[-1]}")
            try:
                if requests.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        fail(f"replica {self.i} not ready within {secs} s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term_and_wait(self, secs=60):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=secs)
        except subprocess.TimeoutExpired:
            fail(f"replica {self.i} did not stop within {secs} s of SIGTERM")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class HaProxy:
    def __init__(self, replicas):
        self.port = free_port()
        self.stats_port = free_port()
        cfg = f"{WORK}/haproxy.cfg"
        servers = "\n".join(
            f"    server r{r.i} 127.0.0.1:{r.port} check" for r in replicas
        )
        with open(cfg, "w") as f:
            f.write(
                f"""global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 90s
    timeout server 90s
    timeout queue 30s
    # A refused or reset connection (a killed or stopping replica) is retried on another one;
    # a request already sent is never replayed (retry-on conn-failure only: captures are not
    # idempotent).
    retries 3
    option redispatch
    retry-on conn-failure
    option http-server-close

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend be

backend be
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
{servers}

listen stats
    bind 127.0.0.1:{self.stats_port}
    stats enable
    stats uri /stats
"""
            )
        check(
            subprocess.run([HAPROXY, "-c", "-q", "-f", cfg]).returncode == 0,
            "haproxy refused its configuration",
        )
        self.proc = subprocess.Popen(
            [HAPROXY, "-db", "-f", cfg],
            stdout=open(f"{WORK}/haproxy.log", "w"),
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def status(self):
        """{server name: (status, sessions total)} from the stats CSV."""
        text = requests.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=5).text
        lines = text.lstrip("# ").splitlines()
        head = lines[0].split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(head, line.split(",")))
            if row.get("pxname") == "be" and row.get("svname", "").startswith("r"):
                out[row["svname"]] = (row["status"], int(row["stot"] or 0))
        return out

    def wait_status(self, name, want, secs=30):
        deadline = time.monotonic() + secs
        st = "?"
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, f"haproxy exited: see {WORK}/haproxy.log")
            try:
                st = self.status().get(name, ("?", 0))[0]
            except requests.RequestException:
                st = "stats not answering yet"
            if st.startswith(want):
                return
            time.sleep(0.1)
        fail(f"haproxy: {name} not {want} within {secs} s ({st})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def psql(sql):
    u = urllib.parse.urlparse(DB_URL)
    env = dict(os.environ, PGPASSWORD=u.password or "")
    out = subprocess.run(
        [PSQL, "-h", u.hostname, "-p", str(u.port), "-U", u.username, "-d", u.path.lstrip("/"),
         "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env=env, capture_output=True, text=True,
    )
    check(out.returncode == 0, f"psql failed: {out.stderr}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


s3 = boto3.client(
    "s3", endpoint_url=S3_ENDPOINT, region_name="us-east-1",
    aws_access_key_id="test", aws_secret_access_key="test",
)


def s3_objects(prefix):
    """{key: body sha256} of every object under prefix, read by an independent client."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
            out[o["Key"]] = sha(body)
    return out


# ---------------------------------------------------------------- the ADVANCE flow

class Client:
    """One tenant's ADVANCE client (token, signatureId, capture, result)."""

    def __init__(self, creds):
        self.access = creds["advance_access_key"]
        self.secret = creds["advance_secret_key"]
        self.session = requests.Session()
        self.token = None

    def new_token(self, base):
        ts = int(time.time() * 1000)
        sig = hashlib.sha256(f"{self.access}{self.secret}{ts}".encode()).hexdigest()
        r = self.session.post(base + "/openapi/auth/ticket/v1/generate-token",
                              json={"accessKey": self.access, "timestamp": ts, "signature": sig},
                              timeout=HTTP_TIMEOUT)
        check(r.status_code == 200, f"token: {r.status_code} {r.text}")
        self.token = r.json()["data"]["token"]

    def h(self):
        return {"X-ACCESS-TOKEN": self.token}

    def signature_id(self, base):
        r = self.session.post(base + "/openapi/liveness/v3/signature-id", json={},
                              headers=self.h(), timeout=HTTP_TIMEOUT)
        return r.status_code, (r.json() if r.headers.get("content-type", "").startswith("application/json") else {})

    def capture(self, base, far, near, signature_id=None, session=None):
        files = {"far": ("far.jpg", far, "image/jpeg"), "near": ("near.jpg", near, "image/jpeg")}
        data = {"signatureId": signature_id} if signature_id else {}
        r = (session or self.session).post(base + "/openapi/liveness/v3/capture", files=files,
                                           data=data, headers=self.h(), timeout=HTTP_TIMEOUT)
        try:
            j = r.json()
        except ValueError:
            j = {}
        return r.status_code, j

    def result(self, base, liveness_id=None, signature_id=None):
        body = {"livenessId": liveness_id} if liveness_id else {"signatureId": signature_id}
        r = self.session.post(base + "/openapi/liveness/v3/detection-result", json=body,
                              headers=self.h(), timeout=HTTP_TIMEOUT)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, {}


def fetch(url):
    r = requests.get(url, timeout=HTTP_TIMEOUT)
    check(r.status_code == 200, f"GET signed URL: {r.status_code}")
    return r.content


def artefact_rows(session_id):
    return {name: (key, digest, int(size)) for name, key, digest, size in
            psql(f"SELECT name, object_key, sha256, size FROM artefacts WHERE session_id = '{session_id}'")}


# Bytes an artefact grows by when sealed (store::ARTEFACT_ENCRYPTION_OVERHEAD).
SEAL_OVERHEAD = 97


def stripped_jpeg(b):
    """The bytes the store keeps of an uploaded JPEG: metadata segments (APP1-15 but Adobe APP14,
    non-JFIF APP0, comments) removed before the scan, everything from the scan on as sent
    (the store's metadata rule, docs/storage.md)."""
    out, pos = bytearray(b[:2]), 2
    while True:
        m = pos + 1
        while b[m] == 0xFF:
            m += 1
        marker = b[m]
        if marker == 0xD9:
            return bytes(out + b"\xff\xd9")
        if marker == 0xDA:
            return bytes(out + b[m - 1:])
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out += bytes([0xFF, marker])
            pos = m + 1
            continue
        end = m + 1 + int.from_bytes(b[m + 1:m + 3], "big")
        body = b[m + 3:end]
        keep = (body.startswith(b"JFIF\0") if marker == 0xE0 else
                body.startswith(b"Adobe") if marker == 0xEE else
                not (0xE1 <= marker <= 0xEF or marker == 0xFE))
        if keep:
            out += b"\xff" + b[m:end]
        pos = end


def verify_answered(client, base, lid, far_sha, near_sha):
    """A capture answered SUCCESS is there: result, both images by sha256, rows and objects."""
    st, j = client.result(base, liveness_id=lid)
    if st != 200 or j.get("code") != "SUCCESS":
        return f"{lid}: result {st} {j.get('code')}"
    d = j["data"]
    if sha(fetch(d["imageFarUrl"])) != far_sha or sha(fetch(d["imageNearUrl"])) != near_sha:
        return f"{lid}: served images differ from the uploaded ones"
    rows = artefact_rows(lid)
    for name in ("far", "near"):
        if name not in rows:
            return f"{lid}: no artefact row {name}"
    if rows["far"][1] != far_sha or rows["near"][1] != near_sha:
        return f"{lid}: artefact row sha256 differs from the upload"
    for name, (key, digest, size) in rows.items():
        # Objects are sealed at rest (docs/storage.md): the bucket holds the row's plaintext
        # encrypted, a fixed header and tag longer, never the plaintext itself.
        body = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}")["Body"].read()
        if sha(body) == digest or len(body) != size + SEAL_OVERHEAD:
            return f"{lid}: object {name} in the bucket is not its row's plaintext sealed"
    return None


# ---------------------------------------------------------------- phases

def phase_cross_replica(client, reps, far, near):
    client.new_token(reps[0].url)
    st, j = client.signature_id(reps[0].url)
    check(st == 200, f"signature-id: {st} {j}")
    sig = j["data"]["signatureId"]
    st, j = client.capture(reps[1].url, far, near, signature_id=sig)
    check(st == 200 and j.get("code") == "SUCCESS", f"capture on B: {st} {j}")
    lid = j["data"]["livenessId"]
    st, j = client.result(reps[2 % len(reps)].url, signature_id=sig)
    check(st == 200 and j.get("code") == "SUCCESS", f"result on C: {st} {j}")
    check(j["data"]["livenessScore"] is not None, "no score")
    err = verify_answered(client, reps[0].url, lid, sha(stripped_jpeg(far)), sha(stripped_jpeg(near)))
    check(err is None, f"cross-replica: {err}")
    log(f"phase 1 cross-replica: reserved on r0, filled on r1, read on r{2 % len(reps)}: ok")


def phase_single_use(client, reps, far, near, trials=4):
    outcomes = []
    for t in range(trials):
        st, j = client.signature_id(reps[t % len(reps)].url)
        sig = j["data"]["signatureId"]
        barrier = threading.Barrier(2)
        results = [None, None]

        def go(k):
            sess = requests.Session()
            barrier.wait()
            results[k] = client.capture(reps[(t + k) % len(reps)].url, far, near,
                                        signature_id=sig, session=sess)

        threads = [threading.Thread(target=go, args=(k,)) for k in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wins = [r for r in results if r[0] == 200 and r[1].get("code") == "SUCCESS"]
        check(len(wins) == 1, f"signatureId filled {len(wins)} times: {results}")
        loser = [r for r in results if r not in wins][0]
        outcomes.append(f"{loser[0]}/{loser[1].get('code')}")
        lid = wins[0][1]["data"]["livenessId"]
        rows = psql(f"SELECT id, status, consumed_at IS NOT NULL FROM sessions WHERE alias = '{sig}'")
        check(len(rows) == 1 and rows[0][0] == lid and rows[0][1] == "complete",
              f"sessions for {sig}: {rows}")
        # The loser's upload is cleaned up: its intent row and its objects go.
        tenant = psql(f"SELECT tenant_id FROM sessions WHERE id = '{lid}'")[0][0]
        want = {f"{PREFIX}/{key}" for key, _, _ in artefact_rows(lid).values()}
        deadline = time.monotonic() + 15
        while True:
            objs = set(s3_objects(f"{PREFIX}/t/{tenant}/{lid}/"))
            intents = psql(f"SELECT count(*) FROM uploads WHERE session_id = '{lid}'")[0][0]
            if objs == want and intents == "0":
                break
            check(time.monotonic() < deadline,
                  f"loser's upload not cleaned: {len(objs)} objects vs {len(want)} rows, {intents} intents")
            time.sleep(0.3)
    log(f"phase 2 single use: {trials} races of one signatureId on two replicas: 1 filled each; "
        f"losers answered {sorted(set(outcomes))}; no orphan object or intent")


class Load:
    """Bounded capture load through HAProxy: `workers` threads until `max_n` captures or `secs`."""

    def __init__(self, client, base, far, near, workers, max_n, secs, cheap=False, ref_lid=None):
        self.client, self.base, self.far, self.near = client, base, far, near
        self.max_n, self.deadline = max_n, time.monotonic() + secs
        self.cheap, self.ref_lid = cheap, ref_lid
        self.lock = threading.Lock()
        self.sent = 0
        self.answered = []  # (livenessId, far sha, near sha)
        self.ok = 0
        self.failed = []  # (status, code or error)
        self.stop_flag = False
        self.threads = [threading.Thread(target=self.run) for _ in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join()

    def take(self):
        with self.lock:
            if self.stop_flag or self.sent >= self.max_n or time.monotonic() > self.deadline:
                return False
            self.sent += 1
            return True

    def run(self):
        sess = requests.Session()
        while self.take():
            try:
                if self.cheap:
                    self.cheap_round(sess)
                else:
                    self.capture_round(sess)
            except requests.RequestException as e:
                with self.lock:
                    self.failed.append(("conn", type(e).__name__))

    def capture_round(self, sess):
        # Each request's own far image (a comment segment appended after EOI is harmless to
        # decoders) so every stored object has its own sha256.
        far = self.far + secrets.token_bytes(16)
        st, j = self.client.capture(self.base, far, self.near, session=sess)
        with self.lock:
            if st == 200 and j.get("code") == "SUCCESS":
                self.answered.append((j["data"]["livenessId"], sha(stripped_jpeg(far)),
                                      sha(stripped_jpeg(self.near))))
            else:
                self.failed.append((st, j.get("code")))

    def cheap_round(self, sess):
        h = self.client.h()
        r = sess.post(self.base + "/openapi/liveness/v3/signature-id", json={}, headers=h,
                      timeout=HTTP_TIMEOUT)
        good = r.status_code == 200 and r.json().get("code") == "SUCCESS"
        r2 = sess.post(self.base + "/openapi/liveness/v3/detection-result",
                       json={"livenessId": self.ref_lid}, headers=h, timeout=HTTP_TIMEOUT)
        good2 = r2.status_code == 200 and r2.json().get("code") == "SUCCESS"
        r3 = sess.get(self.base + "/healthz", timeout=HTTP_TIMEOUT)
        with self.lock:
            for g, resp in ((good, r), (good2, r2), (r3.status_code == 200, r3)):
                if g:
                    self.ok += 1
                else:
                    self.failed.append((resp.status_code, resp.text[:80]))


def phase_kill9(client, reps, lb, far, near):
    victims = [reps[1], reps[2 % len(reps)]]
    load = Load(client, lb.url, far, near, workers=3, max_n=KILL_LOAD_MAX_CAPTURES,
                secs=KILL_LOAD_MAX_SECS).start()
    rounds = []
    for v in victims:
        time.sleep(4)
        before = len(load.answered)
        v.kill9()
        killed_at = time.monotonic()
        lb.wait_status(f"r{v.i}", "DOWN", secs=10)
        detect = time.monotonic() - killed_at
        time.sleep(2)
        v.start()
        v.wait_ready()
        lb.wait_status(f"r{v.i}", "UP", secs=15)
        served_before = lb.status()[f"r{v.i}"][1]
        rounds.append((v, before, detect, served_before))
    load.join()
    answered = list(load.answered)
    check(answered, "no capture answered during the kill -9 load")
    missing = [e for e in (verify_answered(client, lb.url, *a) for a in answered) if e]
    check(not missing, f"answered but not found after kill -9: {missing}")
    # Each restarted replica serves again (HAProxy routed to it after it rejoined).
    for v, _, _, served_before in rounds:
        deadline = time.monotonic() + 20
        while lb.status()[f"r{v.i}"][1] <= served_before:
            check(time.monotonic() < deadline, f"r{v.i} rejoined but never served")
            client.result(lb.url, liveness_id=answered[0][0])
    fails = {}
    for f in load.failed:
        fails[str(f)] = fails.get(str(f), 0) + 1
    log(f"phase 3 kill -9: {len(rounds)} rounds, {load.sent} captures sent, {len(answered)} answered "
        f"SUCCESS, {len(answered)} found (result + far/near sha256 + rows + objects), "
        f"{len(load.failed)} not answered {fails}; HAProxy marked the victim DOWN in "
        f"{', '.join(f'{r[2]:.1f}' for r in rounds)} s; each victim rejoined and served again")
    return answered


def phase_rolling(client, reps, lb, far, near, ref_lid):
    load = Load(client, lb.url, far, near, workers=3, max_n=10**6, secs=240, cheap=True,
                ref_lid=ref_lid).start()
    caps = Load(client, lb.url, far, near, workers=1, max_n=10**6, secs=240).start()
    t = time.monotonic()
    for r in reps:
        code = r.term_and_wait()
        check(code == 0, f"r{r.i} exited {code} after SIGTERM")
        r.start(short_retention=True)
        r.wait_ready()
        lb.wait_status(f"r{r.i}", "UP", secs=15)
    took = time.monotonic() - t
    time.sleep(1)
    for l in (load, caps):
        l.stop_flag = True
    load.join()
    caps.join()
    check(not load.failed and not caps.failed,
          f"rolling restart dropped requests: {load.failed[:5]} {caps.failed[:5]}")
    # (Their images are not re-read: the restarted replicas give new artefacts an 8 s lifetime
    # for phase 5; phase 3 proved answered captures are found.)
    log(f"phase 4 rolling restart of {len(reps)} replicas in {took:.1f} s: {load.ok} light requests "
        f"+ {len(caps.answered)} captures answered, 0 failed")


PURGE_RE = re.compile(r"retention purge")
FIELD_RE = re.compile(r"\b(artefacts|objects)=(\d+)")


def purge_totals(reps):
    """Sum of the purge reports logged by every replica process started with short retention."""
    tot = {"artefacts": 0, "objects": 0}
    for r in reps:
        for path in r.logs:
            with open(path, errors="replace") as f:
                for line in f:
                    if PURGE_RE.search(line):
                        for k, v in FIELD_RE.findall(line):
                            tot[k] += int(v)
    return tot


def phase_retention(client, reps, lb, far, near):
    # Captures made during the rolling restart on already-restarted replicas expire too: wait
    # until every short-lived artefact so far is purged, then count from there.
    horizon = "(extract(epoch from now()) * 1000)::bigint + 3600000"
    deadline = time.monotonic() + 40
    while psql(f"SELECT count(*) FROM artefacts WHERE expires_at < {horizon}")[0][0] != "0":
        check(time.monotonic() < deadline, "short-lived artefacts of phase 4 never purged")
        time.sleep(0.5)
    base = purge_totals(reps)
    lids = []
    for _ in range(4):
        st, j = client.capture(lb.url, far + secrets.token_bytes(16), near)
        check(st == 200 and j.get("code") == "SUCCESS", f"capture: {st} {j}")
        lids.append(j["data"]["livenessId"])
    keys = {}
    for lid in lids:
        for name, (key, _, _) in artefact_rows(lid).items():
            keys[f"{PREFIX}/{key}"] = name
    n = len(keys)
    check(n >= 8, f"only {n} artefacts for 4 captures")
    present = s3_objects(f"{PREFIX}/t/")
    check(all(k in present for k in keys), "artefact objects missing before expiry")
    deadline = time.monotonic() + 40
    ids = ",".join(f"'{l}'" for l in lids)
    while psql(f"SELECT count(*) FROM artefacts WHERE session_id IN ({ids})")[0][0] != "0":
        check(time.monotonic() < deadline, "expired artefacts not purged within 40 s")
        time.sleep(0.5)
    time.sleep(2)  # the last purge's log line
    after = purge_totals(reps)
    purged = {k: after[k] - base[k] for k in after}
    present = s3_objects(f"{PREFIX}/t/")
    left = [k for k in keys if k in present]
    check(not left, f"{len(left)} purged artefacts still in the bucket")
    check(purged["objects"] == n and purged["artefacts"] == n,
          f"{n} expired objects, but the replicas' purge reports add up to {purged}: "
          "an object was deleted (and counted) by more than one replica")
    sessions = psql(f"SELECT count(*) FROM sessions WHERE id IN ({ids})")[0][0]
    log(f"phase 5 retention on {len(reps)} replicas (purge every 1 s): {n} expired objects, "
        f"purge reports add up to {purged['objects']} objects / {purged['artefacts']} rows, "
        f"0 left in the bucket, sessions kept ({sessions}/4, results outlive images)")


class Receiver:
    """A webhook endpoint on loopback: verifies each delivery's signature, records event ids."""

    def __init__(self):
        self.secret = None
        self.lock = threading.Lock()
        self.ids = {}
        self.sessions = {}
        self.bad = []
        me = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                me.record(self.headers, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, headers, body):
        parts = dict(p.split("=", 1) for p in headers.get("faceproof-signature", "").split(",") if "=" in p)
        ok = False
        if "t" in parts and "v1" in parts and self.secret:
            mac = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(mac, parts["v1"]) and abs(time.time() - int(parts["t"])) <= 300
        event = json.loads(body)
        with self.lock:
            if not ok:
                self.bad.append(event.get("id"))
            self.ids[event["id"]] = self.ids.get(event["id"], 0) + 1
            if event.get("type") == "session.completed":
                sid = event["data"].get("session_id")
                self.sessions.setdefault(sid, set()).add(event["id"])

    def stop(self):
        self.server.shutdown()


def phase_webhooks(reps, receiver, kills):
    pending = "SELECT count(*) FROM webhook_outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
    deadline = time.monotonic() + 60
    while psql(pending)[0][0] != "0":
        check(time.monotonic() < deadline, "webhook outbox not drained within 60 s")
        time.sleep(0.5)
    rows, delivered, dead = (int(x) for x in psql(
        "SELECT count(*), count(delivered_at), count(dead_at) FROM webhook_outbox")[0])
    # One session.completed per committed session; session.needs_review beside it for verdicts
    # in the review band.
    completed = int(psql(
        "SELECT count(*) FROM webhook_outbox WHERE event_type = 'session.completed'")[0][0])
    done = int(psql("SELECT count(*) FROM sessions WHERE status <> 'pending'")[0][0])
    check(completed == done, f"{done} committed sessions but {completed} session.completed rows")
    check(delivered == rows and dead == 0, f"{rows} rows: {delivered} delivered, {dead} dead")
    with receiver.lock:
        ids, sessions, bad = dict(receiver.ids), dict(receiver.sessions), list(receiver.bad)
    check(not bad, f"{len(bad)} deliveries with a bad signature")
    check(len(ids) == rows, f"{rows} events, {len(ids)} distinct ids received")
    check(len(sessions) == completed and all(len(v) == 1 for v in sessions.values()),
          "a session reported by more than one session.completed event")
    dupes = sum(ids.values()) - len(ids)
    check(dupes <= kills, f"{dupes} events received twice with only {kills} replicas killed")
    by = []
    for r in reps:
        n = 0
        for path in r.logs:
            with open(path, errors="replace") as f:
                n += sum(1 for line in f if "webhook delivered" in line)
        by.append(n)
    log(f"phase 6 webhooks: {rows} committed sessions, {len(ids)} events received with valid "
        f"signatures, {dupes} received twice (replicas killed mid-run: {kills}), 0 dead; "
        f"delivered by replica: {by}")


def sizing():
    """Row and object sizes measured on what the suite stored (docs/scaling.md)."""
    n_sess, row_sess = psql("SELECT count(*), coalesce(avg(pg_column_size(s.*)), 0)::int FROM sessions s")[0]
    n_art, row_art = psql("SELECT count(*), coalesce(avg(pg_column_size(a.*)), 0)::int FROM artefacts a")[0]
    rel = {t: int(psql(f"SELECT pg_total_relation_size('{t}')")[0][0]) for t in ("sessions", "artefacts", "uploads")}
    per = psql("SELECT count(*), coalesce(avg(total), 0)::bigint, coalesce(avg(n), 0)::numeric(6,2) FROM "
               "(SELECT session_id, sum(size) AS total, count(*) AS n FROM artefacts GROUP BY session_id) x")[0]
    log(f"sizing: {n_sess} sessions, row {row_sess} B avg, table+indexes {rel['sessions']} B "
        f"({rel['sessions'] // max(int(n_sess), 1)} B/session); {n_art} artefact rows, row {row_art} B avg, "
        f"table+indexes {rel['artefacts']} B ({rel['artefacts'] // max(int(n_art), 1)} B/row); "
        f"per capture session with images: {per[2]} objects, {per[1]} bytes in S3 ({per[0]} sessions)")


def main():
    far = open(os.path.join(SHARED, "faces/obama/1.jpg"), "rb").read()
    near = open(os.path.join(SHARED, "faces/obama/2.jpg"), "rb").read()
    reps = [Replica(i) for i in range(REPLICAS)]
    lb = None
    try:
        # The first start creates the schema; then the tenant; then the others.
        reps[0].start()
        reps[0].wait_ready()
        cfg0 = replica_config(0, reps[0].port, False)
        out = subprocess.run([BIN, "tenant", "add", "scale", "--config", cfg0],
                             env=dict(os.environ, FACEPROOF_MASTER_KEY=MASTER_KEY),
                             capture_output=True, text=True)
        check(out.returncode == 0, f"tenant add: {out.stdout} {out.stderr}")
        creds = json.loads(out.stdout)
        receiver = Receiver()
        out = subprocess.run([BIN, "tenant", "webhook", "add", "scale", receiver.url, "--config", cfg0],
                             env=dict(os.environ, FACEPROOF_MASTER_KEY=MASTER_KEY),
                             capture_output=True, text=True)
        check(out.returncode == 0, f"webhook add: {out.stdout} {out.stderr}")
        receiver.secret = json.loads(out.stdout)["secret"]
        for r in reps[1:]:
            r.start()
        for r in reps[1:]:
            r.wait_ready()
        lb = HaProxy(reps)
        for r in reps:
            lb.wait_status(f"r{r.i}", "UP")
        log(f"{len(reps)} replicas + HAProxy up (PostgreSQL + S3 prefix {PREFIX})")
        client = Client(creds)
        phase_cross_replica(client, reps, far, near)
        phase_single_use(client, reps, far, near)
        answered = phase_kill9(client, reps, lb, far, near)
        phase_rolling(client, reps, lb, far, near, answered[0][0])
        phase_retention(client, reps, lb, far, near)
        phase_webhooks(reps, receiver, kills=2)
        sizing()
        log("all phases passed")
    finally:
        if lb:
            lb.stop()
        for r in reps:
            r.stop()


if __name__ == "__main__":
    # A timeout's SIGTERM still stops the replicas and HAProxy (the finally block in main).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
