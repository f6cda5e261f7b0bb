// The web console in a real browser: Debian's chromium, headless, driven by playwright-core.
// Run by tests/integration/console_browser_test.cpp against a real coordinator, which sets:
//   EDGENAS_CONSOLE_URL   http://127.0.0.1:PORT/
//   EDGENAS_CONSOLE_TOKEN a token from `edgenasctl console token`
//   EDGENAS_CTL           edgenasctl's argv for that coordinator, as a JSON array
//   EDGENAS_ARTIFACTS     where the screenshots go
//   EDGENAS_PLAYWRIGHT    playwright-core's index.mjs
//   EDGENAS_SCENARIO      fleet: counts, a moving progress bar, every page, 401 and CSRF
//                         keys:  accept EDGENAS_PENDING_KEY in the page; EDGENAS_PENDING_AGENT registers
// Exits 0 when every check held, 1 with the first that did not.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
// playwright-core lives with the console's other npm packages (coordinator/console).
const { chromium } = await import(env('EDGENAS_PLAYWRIGHT'));
const url = env('EDGENAS_CONSOLE_URL');
const artifacts = env('EDGENAS_ARTIFACTS');
const ctlArgv = JSON.parse(env('EDGENAS_CTL'));
mkdirSync(artifacts, { recursive: true });

function ctl(...args) {
  return JSON.parse(execFileSync(ctlArgv[0], [...ctlArgv.slice(1), '--json', ...args], { encoding: 'utf8' }));
}

// `edgenasctl traces export`: one JSON trace a line.
function exportTraces(agent) {
  const out = execFileSync(ctlArgv[0], [...ctlArgv.slice(1), 'traces', 'export', '--agent', agent], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l).map((l) => JSON.parse(l));
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function until(what, f, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true });
}

async function login(page) {
  const t0 = Date.now();
  await page.goto(url);
  await page.fill('input[name=token]', env('EDGENAS_CONSOLE_TOKEN'));
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-count=known] b');
  console.log(`fleet page after login: ${Date.now() - t0} ms`);
}

async function counts(page) {
  const out = {};
  for (const k of ['known', 'alive', 'dead', 'offline'])
    out[k] = Number(await page.textContent(`[data-count=${k}] b`));
  return out;
}

async function fleetScenario(browser, context, page) {
  const anon = await browser.newContext();
  check((await anon.request.get(`${url}api/v1/status`)).status() === 401, 'no login: 401');
  await anon.close();
  await login(page);
  // The page's counts equal edgenasctl's (both read the same admin port; agents still joining
  // can move them between the two reads, so a few tries).
  await until('the fleet counts equal edgenasctl status', async () => {
    const shown = await counts(page);
    const agents = ctl('status').agents;
    return ['known', 'alive', 'dead', 'offline'].every((k) => shown[k] === agents[k]) && shown.known > 0;
  }, 20000);
  console.log('ok: the fleet counts equal edgenasctl status');
  // A running search's progress bar moves without a reload.
  const progress = async () => page.$$eval('tr[data-agent] .progress', (els) =>
    Object.fromEntries(els.map((e) => [e.closest('tr').dataset.agent, Number(e.dataset.progress)])));
  const first = await until('a search is running', async () => {
    const p = await progress();
    return Object.keys(p).length > 0 ? p : null;
  }, 90000);
  await until('a progress bar moves', async () => {
    const now = await progress();
    return Object.entries(now).some(([id, v]) => first[id] !== undefined && v > first[id]);
  }, 30000);
  console.log('ok: a progress bar moved');
  await shot(page, 'fleet');
  // The busiest box's page, then the predictor's and the keys'.
  const box = Object.keys(first).sort((a, b) => (b.startsWith('real') ? 1 : 0) - (a.startsWith('real') ? 1 : 0))[0];
  // The filter narrows the table at the coordinator (to that box).
  await page.fill('input[type=search]', box);
  await until('the filter narrows the table', async () => {
    const ids = await page.$$eval('tr[data-agent]', (els) => els.map((e) => e.dataset.agent));
    return ids.length >= 1 && ids.every((id) => id.includes(box));
  }, 10000);
  console.log('ok: the filter narrows the table');
  await page.click(`tr[data-agent="${box}"] a`);
  await page.waitForSelector('h2');
  check((await page.textContent('h1')).includes(box), `the box page of ${box}`);
  await page.waitForTimeout(1500);
  await shot(page, 'box');
  // A box whose search has finished shows that search's Pareto front, as many candidates as
  // its trace carries.
  const done = await until('a search has reported', async () => ctl('traces', 'list').traces.find((t) => t.status === 'ok'), 90000);
  const stored = exportTraces(done.agent_id).find((t) => t.trace_id === done.trace_id);
  await page.goto(`${url}#/box/${encodeURIComponent(done.agent_id)}`);
  await page.waitForSelector('[data-front]');  // the latest search's front is shown first
  const show = page.locator(`button[data-show-front="${done.trace_id}"]`);
  if (await show.count()) await show.click();
  const front = page.locator(`[data-front="${done.trace_id}"]`);
  await front.locator('canvas').waitFor();
  check(await front.locator('table:not(.u-legend) tbody tr').count() === stored.outcome.pareto.points.length,
    `the box page shows ${done.agent_id}'s search front (${stored.outcome.pareto.points.length} candidates)`);
  await shot(page, 'box-front');
  // Its Source and Job over time: sampled once a minute from its heartbeats, charted from the
  // second sample on.
  const history = page.locator('[data-history]');
  await history.waitFor({ timeout: 90000 });
  check(await history.locator('canvas').count() === 3, `the box page charts ${done.agent_id}'s Source and Job over time`);
  await shot(page, 'box-history');
  await page.click('nav a[href="#/predictor"]');
  await page.waitForSelector('text=Versions');
  await shot(page, 'predictor');
  await page.click('nav a[href="#/keys"]');
  await page.waitForSelector('table code');
  await shot(page, 'keys');
  // A change without the session's CSRF token is refused, even with its cookie.
  const forged = await context.request.post(`${url}api/v1/predictor.train`, { data: { reason: 'forged' } });
  check(forged.status() === 403, 'a change without the CSRF token: 403');
}

async function keysScenario(page) {
  const key = env('EDGENAS_PENDING_KEY');
  const agent = env('EDGENAS_PENDING_AGENT');
  await login(page);
  await page.click('nav a[href="#/keys"]');
  const row = page.locator('tr', { has: page.locator(`code[data-key="${key}"]`) });
  await row.waitFor();
  check((await row.textContent()).includes('pending'), 'the agent\'s key is listed as pending');
  await shot(page, 'keys-pending');
  await row.locator('button[data-op="keys.accept"]').click();
  await until('the accepted agent registers', async () =>
    ctl('agents', 'list').agents.some((a) => a.agent_id === agent && a.liveness === 'alive'), 20000);
  console.log('ok: accepting the key in the page let the agent register');
  await page.waitForFunction((k) => {
    const code = document.querySelector(`code[data-key="${k}"]`);
    return code && code.closest('tr').textContent.includes('accepted');
  }, key);
  await shot(page, 'keys-accepted');
}

const browser = await chromium.launch({ executablePath: process.env.EDGENAS_CHROMIUM || '/usr/bin/chromium' });
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const page = await context.newPage();
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));
let status = 0;
try {
  if (env('EDGENAS_SCENARIO') === 'fleet') await fleetScenario(browser, context, page);
  else await keysScenario(page);
  check(errors.length === 0, `no errors in the browser console (${JSON.stringify(errors)})`);
} catch (e) {
  console.error(String(e));
  await shot(page, 'failure').catch(() => {});
  status = 1;
}
await browser.close();
process.exit(status);
