// Web consoles beside a loaded coordinator (bench/console_bench.sh): waits until the fleet has
// registered, opens CONSOLES fleet pages in headless chromium (one tab each, in one browser logged
// in once, driven over WebDriver by tests/browser/webdriver.mjs), times each one's first render (navigation to the counts and the first page of rows
// shown), keeps them open (they poll every 2 s) until the load generator's measured window has
// ended (EDGENAS_WINDOW_START_S / _END_S from bench/fleet_bench.sh; without them, DURATION_S),
// then prints the latency of every API call the pages made in that window, as the browser saw
// it (Resource Timing), by operation, and of the calls before it (the opening).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { launch } from '../tests/browser/webdriver.mjs';

const [agents, consoles, durationS] = process.argv.slice(2).map(Number);
const { EDGENAS_ADMIN: admin, EDGENAS_KEY_DIR: keys, EDGENAS_HTTP_PORT: httpPort, EDGENAS_CTL: ctlBin } = process.env;
const url = `http://127.0.0.1:${httpPort}/`;
const ctl = (...args) => execFileSync(ctlBin, ['--admin', admin, '--key', `${keys}/admin.key`,
  '--server-key', `${keys}/coordinator.pub`, '--timeout', '10s', ...args], { encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
// The load generator's measured window, wall-clock ms.
const windowStart = t0 + 1000 * Number(process.env.EDGENAS_WINDOW_START_S || 0);
const windowEnd = process.env.EDGENAS_WINDOW_END_S ? t0 + 1000 * Number(process.env.EDGENAS_WINDOW_END_S) : null;
// CPU seconds used so far by every chromium process (utime + stime, /proc/PID/stat).
function chromiumCpuS() {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium')) continue;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone meanwhile */ }
  }
  return ticks / 100;
}

const token = ctl('console', 'token', '--ttl', '1h').trim();
const at = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
for (;;) {
  const known = JSON.parse(ctl('--json', 'status')).agents.alive;
  if (known >= 0.99 * agents) break;
  if (Date.now() - t0 > 300000) throw new Error(`only ${known} of ${agents} agents alive after 300 s`);
  await sleep(1000);
}
console.log(`fleet registered     at ${at()} after the coordinator started`);
const browser = await launch();
// One login for the browser (its session cookie), from a page of the console's origin.
const first = await browser.page();
await first.goto(`${url}api/v1/status`);
const login = await first.evaluate(async (u, t) => (await fetch(u, { method: 'POST', body: JSON.stringify({ token: t }),
  headers: { 'Content-Type': 'application/json' } })).status, `${url}api/login`, token);
if (login !== 200) throw new Error(`login: ${login}`);
const pages = [];
const renders = [];  // navigation to rows found, as WebDriver sees it (its round trips included)
const pageRenders = [];  // navigation start to the rows on screen, the page's own clock
for (let i = 0; i < consoles; i++) {
  const page = i === 0 ? first : await browser.newPage();
  const start = Date.now();
  await page.goto(url);
  await page.waitFor('tr[data-agent]', 60000);
  await page.waitFor('[data-count=known] b', 60000);
  renders.push(Date.now() - start);
  pages.push(page);
  // Where the first render's time went: the document, then each request, from navigation start.
  const own = await page.evaluate(() => performance.getEntriesByName('edgenas:fleet-rendered')[0].startTime);
  pageRenders.push(Math.round(own));
  const steps = await page.evaluate(() => [
    ['document', performance.getEntriesByType('navigation')[0].responseEnd],
    ...performance.getEntriesByType('resource').map((e) =>
      [new URL(e.name).pathname.replace('/api/v1/', ''), e.startTime, e.responseEnd]),
  ]);
  console.log(`console ${i + 1}: ${Math.round(own)} ms: ` +
    steps.map(([n, a, b]) => (b === undefined ? `${n} ${a.toFixed(0)}` : `${n} ${a.toFixed(0)}-${b.toFixed(0)}`)).join(', '));
}
const until = windowEnd ?? Date.now() + durationS * 1000;
if (Date.now() > windowStart) console.log('WARNING: the consoles were not all open when the measured window began (raise FLEET_BENCH_WARMUP)');
console.log(`consoles open       at ${at()}; they stay open until ${((until - t0) / 1000).toFixed(0)} s (the measured window: from ${((windowStart - t0) / 1000).toFixed(0)} s)`);
for (const page of pages) await page.evaluate(() => performance.setResourceTimingBufferSize(100000));
// Beside the browsers, a plain HTTP client (node's fetch) asks what a console asks, 4 times a
// second, so the API's latency is also seen without a browser's own queues.
const probe = await fetch(`${url}api/login`, { method: 'POST', body: JSON.stringify({ token }),
  headers: { 'Content-Type': 'application/json' } });
const cookie = probe.headers.get('set-cookie').split(';')[0];
const plain = [];
let cpu0 = null;
for (let k = 0; Date.now() < until; k++) {
  if (cpu0 === null && Date.now() >= windowStart) cpu0 = { s: chromiumCpuS(), at: Date.now() };
  const op = k % 2 ? 'fleet.summary' : 'agents.page?limit=50&sort=-last_seen';
  const t = performance.now();
  const res = await fetch(`${url}api/v1/${op}`, { headers: { Cookie: cookie } });
  await res.arrayBuffer();
  if (Date.now() >= windowStart) plain.push(performance.now() - t);
  await sleep(250);
}
cpu0 ??= { s: chromiumCpuS(), at: Date.now() };
const chromiumShare = (chromiumCpuS() - cpu0.s) / ((Date.now() - cpu0.at) / 1000);
const byOp = {};  // in the measured window
const before = [];  // the calls before it: while the consoles opened, then open and idle
const slow = [];  // the window's slowest calls: when, which console, and where the time went
for (const [i, page] of pages.entries()) {
  const entries = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/v1/'))
    .map((e) => [new URL(e.name).pathname.slice(8), performance.timeOrigin + e.startTime, e.responseEnd - e.startTime,
      e.requestStart - e.startTime, e.responseStart - e.requestStart, e.responseEnd - e.responseStart]));
  for (const [op, at, ms, queued, waiting, body] of entries) {
    if (at >= windowStart) {
      (byOp[op] ||= []).push(ms);
      slow.push({ at: (at - t0) / 1000, console: i + 1, op, ms, queued, waiting, body });
    } else {
      before.push(ms);
    }
  }
}
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
renders.sort((a, b) => a - b);
console.log(`consoles            ${consoles} on ${agents} agents, open until ${at()}`);
console.log(`chromium CPU        ${(100 * chromiumShare).toFixed(0)} % of one core in the measured window (all its processes)`);
pageRenders.sort((a, b) => a - b);
console.log(`first render ms     ${pageRenders.join(' ')} (median ${q(pageRenders, 0.5)}, max ${pageRenders[pageRenders.length - 1]}; the page's own clock: navigation start to counts and rows shown)`);
console.log(`  as WebDriver saw  ${renders.join(' ')} (median ${q(renders, 0.5)}; its own round trips to the browser included)`);
const all = Object.values(byOp).flat();
const line = (xs) => `${xs.length} calls: p50 ${q(xs, 0.5).toFixed(1)} ms, p99 ${q(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
console.log(`api, in the browsers ${line(all)} (the measured window)`);
if (before.length) console.log(`  before the window  ${line(before)} (the consoles opening, then idle)`);
console.log(`api, plain client    ${line(plain)}`);
slow.sort((a, b) => b.ms - a.ms);
for (const c of slow.slice(0, 5))
  console.log(`  slow: at ${c.at.toFixed(1)} s console ${c.console} ${c.op}: ${c.ms.toFixed(0)} ms ` +
    `(before the request was sent ${c.queued.toFixed(0)}, sent to first byte ${c.waiting.toFixed(0)}, body ${c.body.toFixed(0)})`);
for (const [op, xs] of Object.entries(byOp))
  console.log(`  ${op.padEnd(18)}${String(xs.length).padStart(5)} calls: p50 ${q(xs, 0.5).toFixed(1)} ms, p99 ${q(xs, 0.99).toFixed(1)} ms`);
await browser.close();
