#!/usr/bin/env bash
# Builds the Debian packages with CPack, installs them with dpkg, checks the files, the user,
# the agent's key and the systemd units (systemd-analyze verify); then rolls the agent out to
# localhost with the Ansible role against a running coordinator; purges everything at the end.
# Needs root (dpkg); exits 77 (skipped) without it. Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "package_test: needs root for dpkg -i; skipped"; exit 77; fi
for p in edgenas-agent edgenas-coordinator; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "package_test: $p is installed on this machine already; not touching it; skipped"; exit 77
  fi
done
work=$(mktemp -d)
cleanup() {
  rm -f /etc/edgenas/coordinator.pub  # written by the Ansible role, not by a package
  dpkg --purge edgenas-agent edgenas-coordinator >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "package_test: FAIL: $*" >&2
  if [ -f "$work/c.log" ]; then echo "--- coordinator log:" >&2; tail -20 "$work/c.log" >&2; fi
  exit 1
}

(cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack"; }
agent_deb=$(ls "$work"/edgenas-agent_*.deb) coord_deb=$(ls "$work"/edgenas-coordinator_*.deb)
echo "built: $(basename "$agent_deb") $(basename "$coord_deb")"

# The agent package: the daemon and edgenas-search; the daemon itself must not need libtorch.
agent_files=$(dpkg-deb -c "$agent_deb") coord_files=$(dpkg-deb -c "$coord_deb")
has() { grep -q "$2" <<<"$1"; }
has "$agent_files" '/usr/bin/edgenas-agent$' || fail "agent binary missing"
has "$agent_files" '/usr/bin/edgenas-search$' || fail "edgenas-search missing"
has "$agent_files" '/usr/share/edgenas/profiles/atlas200dk.toml$' || fail "profiles missing"
has "$agent_files" '/lib/systemd/system/edgenas-agent.service$' || fail "agent unit missing"
has "$coord_files" '/usr/bin/edgenasctl$' || fail "edgenasctl missing"
has "$coord_files" '/usr/bin/edgenas-predictor$' || fail "trainer missing"
for f in model.edgenasp metrics.json pool.jsonl; do
  has "$coord_files" "/usr/share/edgenas/warm-start/$f\$" || fail "the warm start's $f is missing"
done
has "$(dpkg-deb -I "$agent_deb" conffiles)" '^/etc/edgenas/agent.toml$' || fail "agent.toml is not a conffile"
has "$(dpkg-deb -f "$agent_deb" Depends)" libzmq || fail "no shlib dependencies computed"
has "$(dpkg-deb -f "$agent_deb" Depends)" libopenblas0-pthread || fail "agent: no thread-safe BLAS"
has "$(dpkg-deb -f "$coord_deb" Depends)" libopenblas0-pthread || fail "coordinator: no thread-safe BLAS"
if has "$(ldd "$build/agent/io/edgenas-agent")" libtorch; then fail "edgenas-agent links libtorch"; fi

dpkg -i "$coord_deb" "$agent_deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
for f in /usr/bin/edgenas-agent /usr/bin/edgenas-search /usr/bin/edgenas-coordinator /usr/bin/edgenasctl \
         /usr/bin/edgenas-predictor /etc/edgenas/agent.toml /etc/edgenas/coordinator.toml \
         /lib/systemd/system/edgenas-agent.service /lib/systemd/system/edgenas-coordinator.service; do
  [ -e "$f" ] || fail "$f not installed"
done
getent passwd edgenas >/dev/null || fail "no edgenas user"
[ "$(stat -c '%U %a' /var/lib/edgenas/agent/agent.key)" = "edgenas 600" ] || fail "agent.key: $(stat -c '%U %a' /var/lib/edgenas/agent/agent.key)"
grep -q "public = " /var/lib/edgenas/agent/agent.pub || fail "agent.pub"
/usr/bin/edgenas-agent --help >/dev/null || fail "installed edgenas-agent does not run"
/usr/bin/edgenasctl --help >/dev/null || fail "installed edgenasctl does not run"
# The shipped configs load (each daemon refuses a bad config with exit 2).
out=$(runuser -u edgenas -- /usr/bin/edgenas-coordinator --config /etc/edgenas/coordinator.toml --check-config 2>&1) ||
  fail "coordinator.toml: $out"
has "$out" "warm start /usr/share/edgenas/warm-start" || fail "the installed coordinator does not find its warm start: $out"
systemd-analyze verify /lib/systemd/system/edgenas-agent.service /lib/systemd/system/edgenas-coordinator.service \
  >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
if grep -E "edgenas-(agent|coordinator)\.service" "$work/verify.log"; then fail "systemd-analyze verify warnings"; fi

dpkg --purge edgenas-agent >/dev/null || fail "purge agent"
[ ! -e /var/lib/edgenas/agent ] || fail "purge left /var/lib/edgenas/agent"
[ ! -e /usr/bin/edgenas-agent ] || fail "remove left the binary"
echo "packages: ok"

# The Ansible role rolls the agent out to localhost (local connection): installs the .deb,
# writes the config with the coordinator's key, fetches the box's key to the controller and
# pre-enrols it on a running coordinator; the agent started from that config gets in.
port=$((20000 + RANDOM % 20000))
ctl=(/usr/bin/edgenasctl --admin "tcp://127.0.0.1:$((port + 1))" --key "$work/keys/admin.key"
     --server-key "$work/keys/coordinator.pub")
/usr/bin/edgenas-coordinator --listen "tcp://127.0.0.1:$port" --admin "tcp://127.0.0.1:$((port + 1))" \
  --db "$work/c.db" --key-dir "$work/keys" --no-predictor --heartbeat-interval 500ms >"$work/c.log" 2>&1 &
coord=$!
trap 'kill $coord $agent 2>/dev/null; cleanup' EXIT
agent=
up=
for _ in $(seq 50); do
  if "${ctl[@]}" --timeout 500ms status >"$work/ctl.log" 2>&1; then up=1; break; fi
  sleep 0.2
done
[ -n "$up" ] || { cat "$work/ctl.log"; fail "the coordinator does not answer edgenasctl"; }
args_json=$(printf '"%s",' "${ctl[@]:1}")
cat >"$work/vars.json" <<JSON
{"edgenas_hosts": "all", "ansible_become": false, "ansible_python_interpreter": "/usr/bin/python3",
 "edgenas_agent_debs": {"amd64": "$agent_deb", "arm64": "/nonexistent/edgenas-agent_arm64.deb"},
 "edgenas_coordinator_endpoint": "tcp://127.0.0.1:$port",
 "edgenas_coordinator_key_file": "$work/keys/coordinator.pub", "edgenas_fetch_dir": "$work/fetched",
 "edgenas_accept_on": "localhost", "edgenas_ctl_args": [${args_json%,}], "edgenas_agent_id": "ansible-box"}
JSON
mkdir -p "$work/fetched"
here=$(cd "$(dirname "$0")/../.." && pwd)
play=(env ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ansible-playbook -i localhost, -c local
      "$here/deploy/ansible/site.yml" -e "@$work/vars.json")
# A fleet whose packages lack this box's architecture: the role stops with the reason.
if "${play[@]}" -e '{"edgenas_agent_debs": {"arm64": "/x/edgenas-agent_arm64.deb"}}' >"$work/ansible0.log" 2>&1 ||
   ! grep -q "no package for this box's architecture 'amd64'" "$work/ansible0.log"; then
  cat "$work/ansible0.log"; fail "a missing architecture was not refused with its reason"
fi
# The fleet's packages by architecture: this amd64 box gets the amd64 one (the arm64 path is
# never read here; an arm64 box would get it).
"${play[@]}" >"$work/ansible1.log" 2>&1 || { cat "$work/ansible1.log"; fail "ansible-playbook"; }
grep -q 'coordinator = "tcp://127.0.0.1:'"$port"'"' /etc/edgenas/agent.toml || fail "agent.toml not written"
cmp -s "$work/keys/coordinator.pub" /etc/edgenas/coordinator.pub || fail "coordinator.pub not copied"
key=$(sed -n 's/^public = "\(.*\)"$/\1/p' /var/lib/edgenas/agent/agent.pub)
cmp -s /var/lib/edgenas/agent/agent.pub "$work/fetched/localhost.pub" || fail "key not fetched"
"${ctl[@]}" --json keys list | /usr/bin/python3 -c '
import json, sys
keys = {k["key"]: k["state"] for k in json.load(sys.stdin)["keys"]}
sys.exit(0 if keys.get(sys.argv[1]) == "accepted" else 1)' "$key" || fail "key not accepted"
# Idempotent: a second run changes nothing.
"${play[@]}" >"$work/ansible2.log" 2>&1 || { cat "$work/ansible2.log"; fail "second ansible-playbook"; }
grep -qE "localhost +: ok=[0-9]+ +changed=0 " "$work/ansible2.log" || { cat "$work/ansible2.log"; fail "second run changed something"; }
# The agent as the service would run it: the edgenas user, the written config.
runuser -u edgenas -- /usr/bin/edgenas-agent run --config /etc/edgenas/agent.toml >"$work/agent.log" 2>&1 &
agent=$!
ok=
for _ in $(seq 100); do
  if "${ctl[@]}" agents list 2>/dev/null | grep -q "^ansible-box *alive"; then ok=1; break; fi
  sleep 0.2
done
[ -n "$ok" ] || { cat "$work/agent.log"; fail "the rolled-out agent did not register"; }
kill "$agent"; wait "$agent" 2>/dev/null || true
echo "ansible: ok"

rm -f /etc/edgenas/coordinator.pub
dpkg --purge edgenas-agent edgenas-coordinator >/dev/null || fail "purge"
echo "package_test: ok"
