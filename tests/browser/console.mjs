// The web console in a real browser: Debian's chromium, headless, driven through Debian's
// chromedriver by the project's WebDriver client (webdriver.mjs).
// Run by tests/integration/console_browser_test.cpp against a real coordinator, which sets:
//   EDGENAS_CONSOLE_URL   http://127.0.0.1:PORT/
//   EDGENAS_CONSOLE_TOKEN a token from `edgenasctl console token`
//   EDGENAS_CTL           edgenasctl's argv for that coordinator, as a JSON array
//   EDGENAS_ARTIFACTS     where the screenshots go
//   EDGENAS_SCENARIO      fleet: counts, a moving progress bar, every page, 401 and CSRF
//                         keys:  accept EDGENAS_PENDING_KEY in the page; EDGENAS_PENDING_AGENT registers
// Exits 0 when every check held, 1 with the first that did not.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { launch, until } from './webdriver.mjs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const url = env('EDGENAS_CONSOLE_URL');
const artifacts = env('EDGENAS_ARTIFACTS');
const ctlArgv = JSON.parse(env('EDGENAS_CTL'));
rmSync(artifacts, { recursive: true, force: true });  // no screenshot of an earlier run
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

async function shot(page, name) {
  await page.screenshot(`${artifacts}/${name}.png`);
}

async function login(page) {
  const t0 = Date.now();
  await page.goto(url);
  await page.fill('input[name=token]', env('EDGENAS_CONSOLE_TOKEN'));
  await page.click('button[type=submit]');
  await page.waitFor('[data-count=known] b');
  console.log(`fleet page after login: ${Date.now() - t0} ms`);
}

async function counts(page) {
  const out = {};
  for (const k of ['known', 'alive', 'dead', 'offline'])
    out[k] = Number(await page.text(`[data-count=${k}] b`));
  return out;
}

// A request with the browser's cookies (its login session) and nothing else the page would add.
async function fetchWithCookies(page, path, init) {
  const cookies = await page.call('GET', '/cookie');
  const Cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  return (await fetch(`${url}${path}`, { ...init, headers: { ...init.headers, Cookie } })).status;
}

async function fleetScenario(page) {
  check((await fetch(`${url}api/v1/status`)).status === 401, 'no login: 401');
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
  const progress = async () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('tr[data-agent] .progress')]
    .map((e) => [e.closest('tr').dataset.agent, Number(e.dataset.progress)])));
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
    const ids = await page.evaluate(() => [...document.querySelectorAll('tr[data-agent]')].map((e) => e.dataset.agent));
    return ids.length >= 1 && ids.every((id) => id.includes(box));
  }, 10000);
  console.log('ok: the filter narrows the table');
  await page.click(`tr[data-agent="${box}"] a`);
  await page.waitFor('h2');
  check((await page.text('h1')).includes(box), `the box page of ${box}`);
  await new Promise((r) => setTimeout(r, 1500));
  await shot(page, 'box');
  // A box whose search has finished shows that search's Pareto front, as many candidates as
  // its trace carries.
  const done = await until('a search has reported', async () => ctl('traces', 'list').traces.find((t) => t.status === 'ok'), 90000);
  const stored = exportTraces(done.agent_id).find((t) => t.trace_id === done.trace_id);
  await page.goto(`${url}#/box/${encodeURIComponent(done.agent_id)}`);
  await page.waitFor('[data-front]');  // the latest search's front is shown first
  const show = `button[data-show-front="${done.trace_id}"]`;
  if (await page.count(show)) await page.click(show);
  const front = `[data-front="${done.trace_id}"]`;
  await page.waitFor(`${front} svg`);
  check(await page.count(`${front} table tbody tr`) === stored.outcome.pareto.points.length &&
        await page.count(`${front} svg circle`) === stored.outcome.pareto.points.length,
    `the box page shows ${done.agent_id}'s search front (${stored.outcome.pareto.points.length} candidates)`);
  await shot(page, 'box-front');
  // Its Source and Job over time: sampled once a minute from its heartbeats, charted from the
  // second sample on.
  await page.waitFor('[data-history]', 90000);
  check(await page.count('[data-history] svg') === 3, `the box page charts ${done.agent_id}'s Source and Job over time`);
  await shot(page, 'box-history');
  await page.click('nav a[href="#/predictor"]');
  await until('the predictor page', async () => (await page.evaluate(() => document.body.textContent)).includes('Versions'), 30000);
  await shot(page, 'predictor');
  await page.click('nav a[href="#/keys"]');
  await page.waitFor('table code');
  await shot(page, 'keys');
  // A change without the session's CSRF token is refused, even with its cookie.
  const forged = await fetchWithCookies(page, 'api/v1/predictor.train',
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"reason":"forged"}' });
  check(forged === 403, `a change without the CSRF token: 403 (got ${forged})`);
}

async function keysScenario(page) {
  const key = env('EDGENAS_PENDING_KEY');
  const agent = env('EDGENAS_PENDING_AGENT');
  await login(page);
  await page.click('nav a[href="#/keys"]');
  const rowText = () => page.evaluate((k) => {
    const code = document.querySelector(`code[data-key="${k}"]`);
    return code ? code.closest('tr').textContent : '';
  }, key);
  await until('the agent\'s key is listed', rowText, 30000);
  check((await rowText()).includes('pending'), 'the agent\'s key is listed as pending');
  await shot(page, 'keys-pending');
  await page.click(`tr:has(code[data-key="${key}"]) button[data-op="keys.accept"]`);
  await until('the accepted agent registers', async () =>
    ctl('agents', 'list').agents.some((a) => a.agent_id === agent && a.liveness === 'alive'), 20000);
  console.log('ok: accepting the key in the page let the agent register');
  await until('the page shows the key accepted', async () => (await rowText()).includes('accepted'), 30000);
  await shot(page, 'keys-accepted');
}

// Errors the page raised or printed. The browser also logs each failed request; of those only a
// 401 from the API is expected (the page asks for its session before the login).
function pageErrors(entries) {
  return entries.filter((e) => e.level === 'SEVERE' && !/\/api\/v1\/session - Failed to load resource: .* 401/.test(e.message))
    .map((e) => e.message);
}

const browser = await launch();
const page = await browser.page();
let status = 0;
try {
  if (env('EDGENAS_SCENARIO') === 'fleet') await fleetScenario(page);
  else await keysScenario(page);
  const errors = pageErrors(await browser.log());
  check(errors.length === 0, `no errors in the browser console (${JSON.stringify(errors)})`);
} catch (e) {
  console.error(String(e));
  const log = await browser.log().catch(() => []);
  for (const entry of pageErrors(log)) console.error(`browser: ${entry}`);
  await shot(page, 'failure').catch(() => {});
  status = 1;
}
await browser.close();
process.exit(status);
