#!/usr/bin/python3
"""A minimal edgenas agent in Python, written from docs/PROTOCOL.md alone.

Registers, heartbeats at the assigned interval, reports its queue, asks for
hyperparameters, delivers one trace and waits for its Ack. Exits 0 on success.
Usage: python_agent.py tcp://127.0.0.1:7700 COORDINATOR_PUBLIC_KEY_FILE
(CURVE, docs/PROTOCOL.md section 2: its own key pair, the coordinator's public key.)
"""
import sys
import time

import msgpack
import zmq

PROTOCOL_VERSION = 1
AGENT_ID = "py-agent"


class Agent:
    def __init__(self, endpoint, server_key_file):
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        server_key = None
        for line in open(server_key_file):
            if line.strip().startswith("public"):
                server_key = line.split("=", 1)[1].strip().strip('"')
        public, secret = zmq.curve_keypair()
        self.sock.curve_serverkey = server_key.encode()
        self.sock.curve_publickey = public
        self.sock.curve_secretkey = secret
        self.sock.connect(endpoint)
        self.msg_id = 0

    def send(self, msg_type, body):
        self.msg_id += 1
        env = {"version": PROTOCOL_VERSION, "type": msg_type, "msg_id": self.msg_id,
               "agent_id": AGENT_ID, "ts_ms": int(time.time() * 1000), "body": body}
        self.sock.send(msgpack.packb(env, use_bin_type=True))
        return self.msg_id

    def recv(self, timeout_s=5.0):
        if not self.sock.poll(int(timeout_s * 1000)):
            raise TimeoutError("no message from the coordinator")
        env = msgpack.unpackb(self.sock.recv(), raw=False)
        assert env["version"] == PROTOCOL_VERSION, env
        if env["type"] == "error":
            raise RuntimeError("coordinator error: %(code)s: %(message)s" % env["body"])
        return env["type"], env["body"]

    def expect(self, wanted, timeout_s=5.0):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            msg_type, body = self.recv(deadline - time.time())
            if msg_type == wanted:
                return body
            # heartbeat_ack and other replies may arrive in between
        raise TimeoutError("no %s" % wanted)


def main():
    agent = Agent(sys.argv[1], sys.argv[2])
    source = {"devices": [{"device": "cpu", "free_nodes": 2, "free_memory_mb": 1500}],
              "power_w": 6.5, "power_modelled": True, "window_ms": 5000}
    job = {"tasks": [{"task_id": "meter-ocr", "latency_req_ms": 40.0,
                      "rows": [{"device": "cpu", "runtime_ms": 25.0, "energy_j": 0.2, "nodes": 1}]}]}

    agent.send("register", {"agent_version": "py-0.1", "hostname": "python-box",
                            "devices": [{"name": "cpu", "total_nodes": 4, "total_memory_mb": 4096,
                                         "probe": "python"}],
                            "power_source": "model"})
    welcome = agent.expect("welcome")
    interval_s = welcome["heartbeat_interval_ms"] / 1000.0
    print("welcome: epoch %s, heartbeat every %.1f s" % (welcome["coordinator_epoch"], interval_s))

    agent.send("queue_report", {"revision": 1, "job": job})
    for seq in (1, 2):
        agent.send("heartbeat", {"seq": seq, "source": source, "queued_tasks": 1,
                                 "outbox_depth": 0, "activity": "idle"})
        assert agent.expect("heartbeat_ack")["seq"] == seq
        time.sleep(interval_s)

    agent.send("hparam_request", {"request_id": "py-req-1", "context": {"job": job, "source": source}})
    reply = agent.expect("hparam_reply")
    hp = reply["hparams"]
    assert reply["request_id"] == "py-req-1"
    assert 1 <= hp["layers"] <= 10 and hp["kernel"] % 2 == 1, hp
    print("hparams: %s (policy %s)" % (hp, reply["policy"]))

    trace = {"trace_id": "py-agent-run-1", "created_ms": int(time.time() * 1000),
             "context": {"job": job, "source": source}, "hparams": hp,
             "policy": reply["policy"], "predictor_version": reply["predictor_version"],
             "explore": reply["explore"],
             "outcome": {"status": "ok", "accuracy": 0.97, "latency_ms": 3.2, "latency_modelled": False,
                         "energy_mj": 4.0, "energy_modelled": True, "search_time_s": 12.0,
                         "trials": 8, "met_latency": True, "device": "cpu"}}
    for attempt in range(3):  # resend until acked; the coordinator deduplicates by trace_id
        agent.send("trace", trace)
        try:
            ack = agent.expect("ack", timeout_s=3.0)
            break
        except TimeoutError:
            continue
    else:
        raise SystemExit("trace was never acked")
    assert "py-agent-run-1" in ack["trace_ids"], ack
    print("trace acked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
