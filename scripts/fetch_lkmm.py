#!/usr/bin/env python3
"""Fetch the Linux-kernel memory model and its litmus tests from Debian.

gupsim evaluates the kernel's own ``linux-kernel.cat``/``.bell``/``.def`` and
``lock.cat`` and judges the kernel's C litmus tests; neither is copied into
this repository. When no kernel tree is at hand (``--cat-dir``,
``$GUPSIM_LKMM_DIR``), ``make`` runs this script: it reads Debian's package
index (the first suite of ``SUITES`` that has one), downloads the newest
``linux-source-N`` package, checks its SHA256 against the index, and unpacks
only ``tools/memory-model/`` and ``Documentation/litmus-tests/`` into::

    DEST/model/                 linux-kernel.{bell,cat,def,cfg}, lock.cat, docs
    DEST/tools-memory-model/    tools/memory-model/litmus-tests/*.litmus
    DEST/documentation/         Documentation/litmus-tests/{atomic,locking,rcu}/
    DEST/SOURCE                 which package and version it came from

Standard library only; about 165 MB downloaded and 15 s of unpacking. Usage:
``python3 scripts/fetch_lkmm.py [DEST]`` (default ``.cache/lkmm`` in the
repository). Exit 0 when DEST already holds the model.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

MIRROR = os.environ.get("GUPSIM_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITES = ("sid", "forky", "trixie")
MODEL_FILES = ("linux-kernel.bell", "linux-kernel.cat", "linux-kernel.def", "lock.cat")
ROOT = Path(__file__).resolve().parents[1]


def _version_key(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in v.replace("-", ".").split("."))


def newest_linux_source(suite: str) -> dict[str, str] | None:
    url = f"{MIRROR}/dists/{suite}/main/binary-all/Packages.xz"
    with urllib.request.urlopen(url, timeout=60) as r:
        text = lzma.decompress(r.read()).decode("utf-8", "replace")
    best = None
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] not in (" ", "\t") and ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v.strip()
        name = fields.get("Package", "")
        if name.startswith("linux-source-") and "Filename" in fields:
            if best is None or _version_key(fields["Version"]) > _version_key(best["Version"]):
                best = fields
    return best


def _ar_member(f, wanted_prefix: bytes):
    """Position ``f`` (a .deb, an ar archive) at the member whose name starts
    with ``wanted_prefix`` and return its size."""
    if f.read(8) != b"!<arch>\n":
        raise SystemExit("fetch_lkmm: the download is not a Debian package (no ar header)")
    while True:
        hdr = f.read(60)
        if len(hdr) < 60:
            raise SystemExit(f"fetch_lkmm: no {wanted_prefix.decode()} in the package")
        name, size = hdr[:16].strip(), int(hdr[48:58])
        if name.startswith(wanted_prefix):
            return size
        f.seek(size + (size & 1), 1)


def unpack(deb: Path, dest: Path) -> None:
    keep = {"tools/memory-model/": None, "Documentation/litmus-tests/": None}
    with open(deb, "rb") as f:
        _ar_member(f, b"data.tar")
        with tarfile.open(fileobj=f, mode="r|xz") as outer:
            for m in outer:
                if m.name.startswith("./usr/src/linux-source-") and m.name.endswith(".tar.xz"):
                    inner_f = outer.extractfile(m)
                    with tarfile.open(fileobj=inner_f, mode="r|xz") as inner:
                        for im in inner:
                            rel = im.name.split("/", 1)[1] if "/" in im.name else ""
                            if not im.isfile() or not any(rel.startswith(k) for k in keep):
                                continue
                            target = _place(dest, rel)
                            if target is None:
                                continue
                            target.parent.mkdir(parents=True, exist_ok=True)
                            with inner.extractfile(im) as src, open(target, "wb") as out:
                                shutil.copyfileobj(src, out)
                    return
    raise SystemExit("fetch_lkmm: the package holds no kernel source tarball")


def _place(dest: Path, rel: str) -> Path | None:
    if rel.startswith("tools/memory-model/litmus-tests/"):
        return dest / "tools-memory-model" / rel.removeprefix("tools/memory-model/litmus-tests/")
    if rel.startswith("tools/memory-model/Documentation/"):
        return dest / "model" / rel.removeprefix("tools/memory-model/Documentation/")
    if rel.startswith("tools/memory-model/"):
        tail = rel.removeprefix("tools/memory-model/")
        return None if "/" in tail else dest / "model" / tail
    if rel.startswith("Documentation/litmus-tests/"):
        return dest / "documentation" / rel.removeprefix("Documentation/litmus-tests/")
    return None


def main(argv: list[str]) -> int:
    dest = Path(argv[1]) if len(argv) > 1 else ROOT / ".cache" / "lkmm"
    if all((dest / "model" / f).is_file() for f in MODEL_FILES):
        print(f"fetch_lkmm: {dest} already holds the kernel memory model")
        return 0
    pkg = suite = None
    for suite in SUITES:
        try:
            pkg = newest_linux_source(suite)
        except OSError as e:
            print(f"fetch_lkmm: {MIRROR} {suite}: {e}", file=sys.stderr)
            continue
        if pkg:
            break
    if not pkg:
        print(f"fetch_lkmm: no linux-source package found at {MIRROR} (suites {', '.join(SUITES)}); "
              "set GUPSIM_LKMM_DIR to a kernel tree's tools/memory-model instead", file=sys.stderr)
        return 2
    url = f"{MIRROR}/{pkg['Filename']}"
    print(f"fetch_lkmm: {pkg['Package']} {pkg['Version']} ({suite}) from {url}")
    tmp = Path(tempfile.mkdtemp(prefix="gupsim-lkmm-"))
    try:
        deb = tmp / "linux-source.deb"
        h = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=300) as r, open(deb, "wb") as out:
            while chunk := r.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
        if "SHA256" in pkg and h.hexdigest() != pkg["SHA256"]:
            print(f"fetch_lkmm: SHA256 of {url} is {h.hexdigest()}, the index says {pkg['SHA256']}",
                  file=sys.stderr)
            return 2
        staging = tmp / "lkmm"
        unpack(deb, staging)
        missing = [f for f in MODEL_FILES if not (staging / "model" / f).is_file()]
        if missing:
            print(f"fetch_lkmm: {pkg['Package']} has no tools/memory-model/{missing[0]}", file=sys.stderr)
            return 2
        (staging / "SOURCE").write_text(f"{pkg['Package']} {pkg['Version']} {suite} {url} "
                                        f"sha256={h.hexdigest()}\n")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(dest))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(list(dest.rglob("*.litmus")))
    print(f"fetch_lkmm: {dest}: the model and {n} litmus tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
