#!/usr/bin/python3
"""Writes seed corpora for the fuzz targets into DIR/<target>/ (valid messages, configs, tool output)."""
import os
import sys

import msgpack

out = sys.argv[1]
source = {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 1024},
                      {"device": "npu0", "free_nodes": 1, "free_memory_mb": 4096}],
          "power_w": 9.5, "power_modelled": True, "window_ms": 5000}
job = {"tasks": [{"task_id": "ocr", "latency_req_ms": 30.0,
                  "rows": [{"device": "cpu", "runtime_ms": 20.0, "energy_j": 0.3, "nodes": 1},
                           {"device": "npu0", "runtime_ms": 3.0, "energy_j": 0.05, "nodes": 1}]}]}
hp = {"layers": 4, "filters": 32, "kernel": 3, "loss": "focal", "seed": 7}
reg = {"agent_version": "0.1", "hostname": "h", "power_source": "model",
       "devices": [{"name": "cpu", "total_nodes": 4, "total_memory_mb": 4096, "probe": "procfs"}]}
trace = {"trace_id": "t-1", "created_ms": 1, "context": {"job": job, "source": source}, "hparams": hp,
         "policy": "cold-start", "predictor_version": 0, "explore": False,
         "outcome": {"status": "ok", "accuracy": 0.9, "latency_ms": 1.0, "latency_modelled": False,
                     "energy_mj": 1.0, "energy_modelled": True, "search_time_s": 1.0, "trials": 1,
                     "met_latency": True}}
bodies = [
    ("register", reg), ("reregister", {"registration": reg, "state": {"queue": job, "source": source,
      "outbox_depth": 0, "searches_run": 0, "last_predictor_version": 0, "uptime_s": 5}}),
    ("welcome", {"coordinator_epoch": "e", "heartbeat_interval_ms": 5000, "dead_after_missed": 3,
                 "max_message_bytes": 1048576, "trace_resend_ms": 10000, "restored": False}),
    ("heartbeat", {"seq": 1, "source": source, "queued_tasks": 1, "outbox_depth": 0, "activity": "idle"}),
    ("heartbeat_ack", {"seq": 1}), ("queue_report", {"revision": 2, "job": job}),
    ("hparam_request", {"request_id": "r", "context": {"job": job, "source": source}}),
    ("hparam_reply", {"request_id": "r", "hparams": hp, "policy": "cold-start", "predictor_version": 0,
                      "explore": False}),
    ("trace", trace), ("ack", {"trace_ids": ["t-1"]}),
    ("command", {"command_id": "c", "action": "cancel", "args": {}}),
    ("error", {"code": "malformed", "message": "x", "ref_msg_id": 0}),
    ("admin_request", {"op": "status", "args": {}}),
    ("admin_response", {"ok": True, "result": {"a": [1, 2.5, "x", None]}}),
]

def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

for i, (t, body) in enumerate(bodies):
    env = {"version": 1, "type": t, "msg_id": i, "agent_id": "box", "ts_ms": 1, "body": body}
    write("fuzz_envelope", t, msgpack.packb(env, use_bin_type=True))
    write("fuzz_message_bodies", t, bytes([i]) + msgpack.packb(body, use_bin_type=True))
    write("fuzz_admin_views", t, msgpack.packb(env, use_bin_type=True))
import json
write("fuzz_json_context", "context", json.dumps({"job": job, "source": source}).encode())
write("fuzz_json_context", "trace", json.dumps(trace).encode())
for name, request in [("login", "POST\n/api/login\n\n\n\n{\"token\": \"00\"}"),
                      ("session", "GET\n/api/session\n\nS\n\n"),
                      ("page", "GET\n/api/v1/agents.page\noffset=0&limit=5&sort=-last_seen&filter=a\nS\n\n"),
                      ("summary", "GET\n/api/v1/fleet.summary\n\nS\n\n"),
                      ("show", "GET\n/api/v1/agents.show\nagent_id=box%201\nS\n\n"),
                      ("tokens", "POST\n/api/v1/console.tokens\n\nS\nC\n{}"),
                      ("command", "POST\n/api/v1/agents.command\n\nS\nC\n{\"agent_id\": \"box\", \"action\": \"cancel\"}"),
                      ("ask", "POST\n/api/v1/hparams.ask\n\nS\nC\n{\"context\": " + json.dumps({"job": job, "source": source}) + "}")]:
    write("fuzz_console_api", name, request.encode())
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
for p in os.listdir(os.path.join(src, "simulations", "profiles")):
    with open(os.path.join(src, "simulations", "profiles", p), "rb") as f:
        write("fuzz_device_profile", p, f.read())
with open(os.path.join(src, "deploy", "config", "agent.toml"), "rb") as f:
    write("fuzz_agent_config", "agent.toml", f.read())
write("fuzz_npu_smi", "310", b"""| NPU     Name      | Health          | Power(W)          Temp(C)              |
| Chip    Device    | Bus-Id          | AICore(%)         Memory-Usage(MB)     |
+===================+=================+========================================+
| 1       310       | OK              | 12.8              49                   |
| 0       0         | 0000:01:00.0    | 50                2621 / 8192          |
+-------------------+-----------------+----------------------------------------+
""")
write("fuzz_idx", "labels", bytes([0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2]))
write("fuzz_idx", "images", bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]))
write("fuzz_image", "p5", b"P5\n2 2\n255\n\x00\x10\x20\x30")
write("fuzz_image", "p2", b"P2\n# c\n2 1\n10\n0 10\n")
write("fuzz_nb201_table", "two_rows", b"id,arch_str,params_mb_c10,flops_m_c10,acc_c10_test,help_raspi4_ms\n"
      b"0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.073306,7.78305,10.0,0.0112835\n"
      b"1,|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|,1.53155,220.12,94.0,98.8\n")
write("fuzz_search_files", "results", json.dumps({"status": "ok", "elapsed_s": 50.0, "trials": 9,
      "best": {"test_accuracy": 0.99, "latency_ms": 0.3, "latency_modelled": True, "energy_mj": 2.0,
               "energy_modelled": True, "met_latency": True, "latency_device": "npu0"}}).encode())
write("fuzz_search_files", "run", json.dumps({"run_id": "box-s1", "trigger": "local", "phase": "running",
      "dir": "/tmp/x", "started_wall_ms": 1, "pid": 5, "request_id": "r", "overrides": {"trials": 3},
      "context": {"job": job, "source": source}, "cancel_reason": "",
      "reply": {"request_id": "r", "hparams": hp, "policy": "cold-start", "predictor_version": 0,
                "explore": False}}).encode())
# A small valid predictor file: header + weights for a 1-layer trunk and the four heads.
import struct
names = 47
header = {"predictor_version": 1, "feature_norm": {"version": 1, "mean": [0.0] * names, "scale": [1.0] * names},
          "trunk": {"widths": [names, 2], "activation": "relu"}, "head_input": 2, "heads": [10, 6, 3, 3], "meta": {}}
h = json.dumps(header).encode()
w = b""
for (i, o) in [(names, 2), (2, 10), (2, 6), (2, 3), (2, 3)]:
    w += struct.pack("<%df" % (i * o + o), *([0.01] * (i * o + o)))
write("fuzz_predictor_model", "v1", b"EDGENASP" + struct.pack("<II", 1, len(h)) + h + w)

# A latency model version: one kind with its own model, one transferred from it (100 features).
width = 100
kind = lambda name: {"kind": name, "runtime": "libtorch 1.13.1", "threads": 1, "space": "cnn"}
scores = {"samples": 300, "heldout": 60, "heldout_error_pct": 3.0, "flops_heldout_error_pct": 12.0,
          "heldout_spearman": 0.98, "flops_heldout_spearman": 0.8, "serves": True, "why": "ok"}
own = dict(scores, kind=kind("ARM Cortex-A55"), method="additive",
           additive={"device": "a55", "intercept": 0.2, "weights": [0.001] * width, "floor_ms": 0.01})
moved = dict(scores, kind=kind("ARM Cortex-A72"), method="transfer",
             transfer={"sources": ["a55"], "intercept": 0.1, "source_weights": [1.0],
                       "own_weights": [0.0] * width, "lambda": 1.0, "own_ratio": 10.0,
                       "loo_log_p95": 0.1, "floor_ms": 0.01})
write("fuzz_latency_models", "v1", json.dumps(
    {"version": 1, "created_ms": 0, "scale": {"mean": [0.0] * width, "scale": [1.0] * width},
     "kinds": [own, moved]}).encode())

