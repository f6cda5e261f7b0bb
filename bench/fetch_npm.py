#!/usr/bin/env python3
"""Fetches the packages a package-lock.json pins, from the npm registry, without npm.

Every entry under "packages" (its "resolved" tarball URL, or the registry's URL for its name
and version, and its "integrity" hash) is downloaded (once: tarballs are cached beside the lockfile in .npm-cache/), checked against its
hash (a mismatch is an error and nothing is unpacked), and unpacked into node_modules/<name>.

Usage: fetch_npm.py DIR    (DIR holds package.json and package-lock.json)
"""
import base64
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import urllib.request


def verify(data, integrity, name):
    algo, _, want = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if got != want:
        sys.exit(f"fetch_npm: {name}: the tarball's {algo} is {got}, the lockfile pins {want}")


def registry_url(path, version):
    """The registry's tarball URL of a package (npm leaves "resolved" out of some lockfiles)."""
    name = path[len("node_modules/"):].split("/node_modules/")[-1]
    return f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz"


def fetch(url, cache):
    path = os.path.join(cache, os.path.basename(url))
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        with urllib.request.urlopen(url, timeout=60) as r:
            data = r.read()
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return open(path, "rb").read()


def unpack(data, dest):
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for m in tar.getmembers():
            # npm tarballs put everything under package/; nothing may land outside dest
            rel = m.name.split("/", 1)[1] if "/" in m.name else ""
            if not rel or os.path.isabs(rel) or ".." in rel.split("/") or not (m.isfile() or m.isdir()):
                continue
            target = os.path.join(dest, rel)
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(m) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    lock = json.load(open(os.path.join(root, "package-lock.json")))
    for path, pkg in lock.get("packages", {}).items():
        if not path.startswith("node_modules/"):
            continue
        if "integrity" not in pkg or "version" not in pkg:
            sys.exit(f"fetch_npm: {path} has no version or integrity in the lockfile")
        data = fetch(pkg.get("resolved") or registry_url(path, pkg["version"]),
                     os.path.join(root, ".npm-cache"))
        verify(data, pkg["integrity"], path)
        unpack(data, os.path.join(root, path))
        print(f"{path} {pkg.get('version', '')}")


if __name__ == "__main__":
    main()
