#!/usr/bin/env python3
"""Lints what deploy/ ships without a cluster: yamllint on every YAML file; the Kubernetes
manifests checked for what a client-side dry run would catch (kinds, names, selectors that
match their pod labels, volumes and config maps and secrets that exist, named ports that
exist); the Ansible playbook's syntax; the Grafana dashboard's JSON and that every metric it
queries is one the daemons export. Usage: manifests_test.py SOURCE_DIR"""
import glob
import json
import os
import re
import subprocess
import sys

import yaml

src = sys.argv[1]
deploy = os.path.join(src, "deploy")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


# 1. yamllint.
r = subprocess.run(["yamllint", "-c", os.path.join(deploy, ".yamllint"),
                    os.path.join(deploy, "k8s"), os.path.join(deploy, "ansible")],
                   capture_output=True, text=True)
if r.returncode != 0:
    fail("yamllint:\n" + r.stdout + r.stderr)

# 2. Kubernetes manifests.
docs = []
for f in sorted(glob.glob(os.path.join(deploy, "k8s", "*.yaml"))):
    for d in yaml.safe_load_all(open(f)):
        if d:
            docs.append((os.path.basename(f), d))
known_kinds = {"Namespace", "PersistentVolumeClaim", "ConfigMap", "Secret", "Deployment",
               "DaemonSet", "Service", "Kustomization"}
names = {}
for f, d in docs:
    kind = d.get("kind")
    if kind not in known_kinds:
        fail(f"{f}: unknown kind {kind!r}")
        continue
    if "apiVersion" not in d:
        fail(f"{f}: {kind} without apiVersion")
    if kind == "Kustomization":
        for res in d.get("resources", []):
            if not os.path.exists(os.path.join(deploy, "k8s", res)):
                fail(f"{f}: resource {res} does not exist")
        continue
    meta = d.get("metadata", {})
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", meta.get("name", "")):
        fail(f"{f}: {kind} has no valid metadata.name")
    if kind != "Namespace" and meta.get("namespace") != "edgenas":
        fail(f"{f}: {kind}/{meta.get('name')} is not in namespace edgenas")
    names.setdefault(kind, set()).add(meta.get("name"))

pod_labels = []
for f, d in docs:
    if d.get("kind") not in ("Deployment", "DaemonSet"):
        continue
    name = d["metadata"]["name"]
    spec = d["spec"]
    sel = spec["selector"]["matchLabels"]
    labels = spec["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in sel.items()):
        fail(f"{f}: {name}: selector {sel} does not match the pod labels {labels}")
    pod_labels.append(labels)
    pod = spec["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        if "configMap" in v and v["configMap"]["name"] not in names.get("ConfigMap", set()):
            fail(f"{f}: {name}: config map {v['configMap']['name']} is not defined")
        if "secret" in v and v["secret"]["secretName"] not in names.get("Secret", set()):
            fail(f"{f}: {name}: secret {v['secret']['secretName']} is not defined")
        if "persistentVolumeClaim" in v and \
                v["persistentVolumeClaim"]["claimName"] not in names.get("PersistentVolumeClaim", set()):
            fail(f"{f}: {name}: PVC {v['persistentVolumeClaim']['claimName']} is not defined")
    for c in pod["containers"] + pod.get("initContainers", []):
        ports = {p["name"] for p in c.get("ports", [])}
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                fail(f"{f}: {name}/{c['name']}: mounts undefined volume {m['name']}")
        for probe in ("livenessProbe", "readinessProbe"):
            port = c.get(probe, {}).get("httpGet", {}).get("port")
            if isinstance(port, str) and port not in ports:
                fail(f"{f}: {name}/{c['name']}: {probe} names port {port}, not declared")
            path = c.get(probe, {}).get("httpGet", {}).get("path")
            if path and path != "/healthz":
                fail(f"{f}: {name}: {probe} path {path} is not served")
        for arg in c.get("args", []):
            if arg.startswith("--") and arg not in ("--config", "--id", "--metrics"):
                fail(f"{f}: {name}: unknown daemon flag {arg}")
    # The config maps the daemons read parse as TOML with known sections (checked by the
    # daemons themselves in the package test; here: they are there).
for f, d in docs:
    if d.get("kind") != "Service":
        continue
    sel = d["spec"]["selector"]
    if not any(all(l.get(k) == v for k, v in sel.items()) for l in pod_labels):
        fail(f"{f}: service {d['metadata']['name']} selects no pod")

# 3. Ansible: the playbook's syntax, with the role.
r = subprocess.run(["ansible-playbook", "--syntax-check", "-i", "localhost,",
                    os.path.join(deploy, "ansible", "site.yml")],
                   capture_output=True, text=True, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
if r.returncode != 0:
    fail("ansible-playbook --syntax-check:\n" + r.stdout + r.stderr)

# A Z85 key may begin with "-" (1 in 85): every key the role hands edgenasctl follows "--",
# else edgenasctl reads it as an option (seen: "-m=+>oO..." failed the package test).
role = open(os.path.join(deploy, "ansible", "roles", "edgenas_agent", "tasks", "main.yml")).read()
for verb in re.findall(r"'keys', '(accept|reject|revoke)', ([^\]]*)\]", role):
    if not verb[1].startswith("'--'"):
        fail(f"ansible role: keys {verb[0]} passes its key without '--' before it")
if not re.search(r"'keys', 'accept'", role):
    fail("ansible role: no 'keys accept' found (the check above checks nothing)")

# 4. Grafana: every queried metric is exported by a daemon.
dash = json.load(open(os.path.join(deploy, "grafana", "edgenas-fleet.json")))
ids = [p["id"] for p in dash["panels"]]
if len(ids) != len(set(ids)):
    fail("grafana: duplicate panel ids")
exported = set()
for f in ("coordinator/io/metrics.cpp", "coordinator/io/server.cpp", "agent/io/agent_daemon.cpp"):
    exported |= set(re.findall(r'family\(\s*"([a-z_]+)"', open(os.path.join(src, f)).read()))
for p in dash["panels"]:
    for t in p["targets"]:
        for m in re.findall(r"\b(edgenas_[a-z_]+)", t["expr"]):
            base = re.sub(r"_(bucket|sum|count)$", "", m)
            if base not in exported:
                fail(f"grafana: panel '{p['title']}' queries {m}, which no daemon exports")

print(f"{len(docs)} manifests, {len(dash['panels'])} dashboard panels checked")
sys.exit(1 if failures else 0)
