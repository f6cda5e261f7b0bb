// Web consoles beside a loaded coordinator (bench/console_bench.sh): waits until the fleet has
// registered, opens CONSOLES fleet pages in headless chromium (one browser context each, logged
// in), times each one's first render (navigation to the counts and the first page of rows
// shown), keeps them open (they poll every 2 s) for DURATION_S, then prints the latency of
// every API call the pages made, as the browser saw it (Resource Timing), by operation.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [agents, consoles, durationS] = process.argv.slice(2).map(Number);
const { EDGENAS_ADMIN: admin, EDGENAS_KEY_DIR: keys, EDGENAS_HTTP_PORT: httpPort, EDGENAS_CTL: ctlBin } = process.env;
const playwright = fileURLToPath(new URL('../coordinator/console/node_modules/playwright-core/index.mjs', import.meta.url));
const { chromium } = await import(playwright);
const url = `http://127.0.0.1:${httpPort}/`;
const ctl = (...args) => execFileSync(ctlBin, ['--admin', admin, '--key', `${keys}/admin.key`,
  '--server-key', `${keys}/coordinator.pub`, '--timeout', '10s', ...args], { encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const token = ctl('console', 'token', '--ttl', '1h').trim();
const t0 = Date.now();
for (;;) {
  const known = JSON.parse(ctl('--json', 'status')).agents.alive;
  if (known >= 0.99 * agents) break;
  if (Date.now() - t0 > 300000) throw new Error(`only ${known} of ${agents} agents alive after 300 s`);
  await sleep(1000);
}
const browser = await chromium.launch({ executablePath: process.env.EDGENAS_CHROMIUM || '/usr/bin/chromium' });
const pages = [];
const renders = [];
for (let i = 0; i < consoles; i++) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const login = await context.request.post(`${url}api/login`, { data: { token } });
  if (login.status() !== 200) throw new Error(`login: ${login.status()}`);
  const page = await context.newPage();
  const start = Date.now();
  await page.goto(url);
  await page.waitForSelector('tr[data-agent]');
  await page.waitForSelector('[data-count=known] b');
  renders.push(Date.now() - start);
  pages.push(page);
}
await sleep(durationS * 1000);
const byOp = {};
for (const page of pages) {
  const entries = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/v1/'))
    .map((e) => [new URL(e.name).pathname.slice(8), e.responseEnd - e.startTime]));
  for (const [op, ms] of entries) (byOp[op] ||= []).push(ms);
}
const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
renders.sort((a, b) => a - b);
console.log(`consoles            ${consoles} on ${agents} agents, open ${durationS} s`);
console.log(`first render ms     ${renders.join(' ')} (median ${q(renders, 0.5)}, max ${renders[renders.length - 1]})`);
const all = Object.values(byOp).flat();
console.log(`api calls           ${all.length}: p50 ${q(all, 0.5).toFixed(1)} ms, p99 ${q(all, 0.99).toFixed(1)} ms, max ${Math.max(...all).toFixed(1)} ms`);
for (const [op, xs] of Object.entries(byOp))
  console.log(`  ${op.padEnd(18)}${String(xs.length).padStart(5)} calls: p50 ${q(xs, 0.5).toFixed(1)} ms, p99 ${q(xs, 0.99).toFixed(1)} ms`);
await browser.close();
