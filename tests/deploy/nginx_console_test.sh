#!/usr/bin/env bash
# deploy/nginx/edgenas-console.conf, tested: a coordinator and nginx (the example with test ports
# and a self-signed certificate) in a network namespace of their own; from outside it, over a
# veth pair, the console answers through TLS, its session cookie comes back Secure, /metrics is
# refused, and the coordinator's own HTTP port (loopback in the namespace) cannot be reached.
# Usage: nginx_console_test.sh BUILD_DIR. Root only (ip netns); exit 77 (skipped) otherwise.
set -euo pipefail
build=${1:?usage: nginx_console_test.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root for ip netns"; exit 77; }
for tool in nginx ip curl openssl; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (deploy/install-deps.sh installs it)"; exit 1; }
done
tmp=$(mktemp -d)
ns=edgenas-tls-$$
host_if=etls$$h
net=10.231.$((RANDOM % 250))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # Anything still in the namespace (nginx's worker) goes with it.
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- coordinator"; tail -20 "$tmp/coordinator.log" || true
         echo "--- nginx"; cat "$tmp/nginx-error.log" 2>/dev/null || true; exit 1; }
ok() { echo "ok: $*"; }

# The namespace, reachable from here at $net.2 over a veth pair.
ip netns add "$ns"
ip link add "$host_if" type veth peer name eth0 netns "$ns"
ip addr add "$net.1/30" dev "$host_if" && ip link set "$host_if" up
ip -n "$ns" addr add "$net.2/30" dev eth0
ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up
in_ns() { ip netns exec "$ns" "$@"; }

# The coordinator inside, its HTTP port on the namespace's loopback.
# (ip netns exec execs the program: $! is the coordinator itself, so cleanup reaches it.)
ip netns exec "$ns" "$build/coordinator/io/edgenas-coordinator" --listen tcp://127.0.0.1:7700 \
  --admin tcp://127.0.0.1:7701 --db "$tmp/coordinator.db" --metrics 127.0.0.1:9464 \
  >"$tmp/coordinator.log" 2>&1 &
pids+=($!)
ctl() { in_ns "$build/coordinator/ctl/edgenasctl" --admin tcp://127.0.0.1:7701 \
          --key "$tmp/admin.key" --server-key "$tmp/coordinator.pub" "$@"; }
for _ in $(seq 100); do
  [ -f "$tmp/admin.key" ] && ctl --timeout 200ms status >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(ctl console token --ttl 10m 2>/dev/null) || fail "no console token"

# nginx inside with the example: test ports, this certificate, nothing of the host's config.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=console.example.org \
  -addext subjectAltName=DNS:console.example.org -keyout "$tmp/console.key" \
  -out "$tmp/console.crt" 2>/dev/null
sed -e 's/listen 443 ssl;/listen 8443 ssl;/' -e 's/listen 80;/listen 8080;/' -e '/listen \[::\]/d' \
    -e "s|/etc/edgenas/tls/|$tmp/|" "$here/deploy/nginx/edgenas-console.conf" >"$tmp/console.conf"
cat >"$tmp/nginx.conf" <<NGINX
user root;
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events {}
http {
  access_log $tmp/nginx-access.log;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  include $tmp/console.conf;
}
NGINX
in_ns nginx -t -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" >/dev/null 2>&1 || fail "nginx -t refused the example"
ip netns exec "$ns" nginx -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" &
pids+=($!)

# From outside the namespace.
tls() { curl -sS --max-time 5 --cacert "$tmp/console.crt" \
          --resolve "console.example.org:8443:$net.2" "$@"; }
url=https://console.example.org:8443
for _ in $(seq 50); do tls -o /dev/null "$url/" 2>/dev/null && break; sleep 0.1; done
[ "$(tls -o /dev/null -w '%{http_code}' "$url/")" = 200 ] || fail "the console page over TLS"
tls "$url/" | grep -q '<div id="app">' || fail "the console page's HTML"
ok "the console over TLS through nginx"
[ "$(tls -o /dev/null -w '%{http_code}' "$url/api/v1/status")" = 401 ] || fail "no login: 401"
ok "no login: 401"
headers=$(tls -D - -o "$tmp/login.json" -H 'Content-Type: application/json' \
            -d "{\"token\": \"$token\"}" "$url/api/login")
cookie=$(echo "$headers" | tr -d '\r' | grep -i '^set-cookie: edgenas_session=') || fail "no session cookie"
echo "$cookie" | grep -qi '; *secure' || fail "the session cookie is not Secure behind TLS: $cookie"
echo "$cookie" | grep -qi 'httponly' || fail "the session cookie is not HttpOnly: $cookie"
ok "login: the session cookie is Secure, HttpOnly"
session=$(echo "$cookie" | sed -e 's/^[Ss]et-[Cc]ookie: //' -e 's/;.*//')
[ "$(tls -o /dev/null -w '%{http_code}' -H "Cookie: $session" "$url/api/v1/fleet.summary")" = 200 ] ||
  fail "the API with the session"
ok "the API with the session"
[ "$(tls -o /dev/null -w '%{http_code}' "$url/metrics")" = 403 ] || fail "/metrics from outside is not refused"
ok "/metrics refused from outside"
echo "$headers" | grep -qi '^strict-transport-security' || fail "no HSTS header"
[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://$net.2:8080/")" = 301 ] || fail "HTTP does not redirect"
ok "plain HTTP redirects to HTTPS"
if curl -sS -o /dev/null --max-time 3 "http://$net.2:9464/healthz" 2>/dev/null; then
  fail "the coordinator's own HTTP port is reachable from outside the namespace"
fi
ok "the coordinator's own port is not reachable from the network"
echo "nginx console test passed"
