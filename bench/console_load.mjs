// The API calls of CONSOLES fleet pages without a browser (bench/console_bench.sh): each
// "console" asks what an open fleet page asks every 2 s (fleet.summary and the first page of
// agents.page by box id, together), from the fleet's registration until the load generator's
// measured window ends (EDGENAS_WINDOW_START_S / _END_S from bench/fleet_bench.sh), and the
// latency of the calls in that window is printed. Beside the run with real browsers it shows
// what serving the consoles costs the coordinator, apart from the browsers' own CPU.
import { execFileSync } from 'node:child_process';

const [agents, consoles] = process.argv.slice(2).map(Number);
const { EDGENAS_ADMIN: admin, EDGENAS_KEY_DIR: keys, EDGENAS_HTTP_PORT: httpPort, EDGENAS_CTL: ctlBin } = process.env;
const t0 = Date.now();
const windowStart = t0 + 1000 * Number(process.env.EDGENAS_WINDOW_START_S);
const windowEnd = t0 + 1000 * Number(process.env.EDGENAS_WINDOW_END_S);
const url = `http://127.0.0.1:${httpPort}/`;
const ctl = (...args) => execFileSync(ctlBin, ['--admin', admin, '--key', `${keys}/admin.key`,
  '--server-key', `${keys}/coordinator.pub`, '--timeout', '10s', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

while (JSON.parse(ctl('--json', 'status')).agents.alive < 0.99 * agents) {
  if (Date.now() > windowStart) throw new Error('the fleet had not registered when the measured window began');
  await sleep(1000);
}
const token = ctl('console', 'token', '--ttl', '1h').trim();
const login = await fetch(`${url}api/login`, { method: 'POST', body: JSON.stringify({ token }),
  headers: { 'Content-Type': 'application/json' } });
if (login.status !== 200) throw new Error(`login: ${login.status}`);
const cookie = login.headers.get('set-cookie').split(';')[0];
const ms = [];
async function call(op) {
  const t = performance.now();
  const res = await fetch(`${url}api/v1/${op}`, { headers: { Cookie: cookie } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${op}: ${res.status}`);
  if (Date.now() >= windowStart) ms.push(performance.now() - t);
}
// Each console at its own phase of the 2 s period, as pages opened one after another are.
await Promise.all(Array.from({ length: consoles }, async (_, i) => {
  await sleep((2000 * i) / consoles);
  while (Date.now() < windowEnd) {
    await Promise.all([call('fleet.summary'), call('agents.page?offset=0&limit=50&sort=agent_id')]);
    await sleep(2000);
  }
}));
const q = (p) => ms.sort((a, b) => a - b)[Math.min(ms.length - 1, Math.floor(p * ms.length))];
console.log(`consoles, no browser ${consoles}, polling as fleet pages do, until the window's end`);
console.log(`api, no browser     ${ms.length} calls: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms (the measured window)`);
