// A small WebDriver client (the W3C protocol over HTTP, with node's fetch) for Debian's
// chromedriver and chromium: what the console's browser tests and bench/console_bench.mjs need,
// and nothing from the npm registry.
//   const browser = await launch();      // chromedriver on a free loopback port, chromium headless
//   const page = await browser.page();   // the first tab; browser.newPage() opens another
//   await page.goto(url); await page.click('button'); await page.screenshot('x.png');
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// As the machine's notes advise for a closed network, plus what keeps background tabs' timers
// running at full rate (a console in a second tab still polls every 2 s).
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows', '--window-size=1400,900'];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function until(what, f, timeoutMs, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await f();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

class Browser {
  constructor(driver, base, session, version) {
    Object.assign(this, { driver, base, session, version, active: null });
  }

  // One WebDriver command; a WebDriver error becomes an exception with its message.
  async call(method, path, body) {
    const res = await fetch(`${this.base}/session/${this.session}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const reply = await res.json();
    if (reply.value && reply.value.error) throw new Error(`webdriver ${method} ${path}: ${reply.value.error}: ${reply.value.message.split('\n')[0]}`);
    return reply.value;
  }

  async page() {
    this.active = await this.call('GET', '/window');
    return new Page(this, this.active);
  }

  async newPage() {
    const { handle } = await this.call('POST', '/window/new', { type: 'tab' });
    return new Page(this, handle);
  }

  // The browser's log since the last call: [{level, message, source}].
  async log() {
    return this.call('POST', '/se/log', { type: 'browser' });
  }

  async close() {
    await this.call('DELETE', '').catch(() => {});
    this.driver.kill();
  }
}

class Page {
  constructor(browser, handle) {
    Object.assign(this, { browser, handle });
  }

  async call(method, path, body) {
    if (this.browser.active !== this.handle) {
      await this.browser.call('POST', '/window', { handle: this.handle });
      this.browser.active = this.handle;
    }
    return this.browser.call(method, path, body);
  }

  goto(url) {
    return this.call('POST', '/url', { url });
  }

  // Runs fn(...args) in the page and returns its (awaited) result, which must be JSON.
  evaluate(fn, ...args) {
    return this.call('POST', '/execute/sync', { script: `return (${fn}).apply(null, arguments)`, args });
  }

  async element(selector) {
    const found = await this.call('POST', '/element', { using: 'css selector', value: selector });
    return Object.values(found)[0];
  }

  async waitFor(selector, timeoutMs = 30000) {
    await until(`${selector} on the page`, () => this.count(selector), timeoutMs);
  }

  count(selector) {
    return this.evaluate((s) => document.querySelectorAll(s).length, selector);
  }

  text(selector) {
    return this.evaluate((s) => {
      const el = document.querySelector(s);
      return el ? el.textContent : null;
    }, selector);
  }

  async click(selector) {
    await this.waitFor(selector);
    await this.call('POST', `/element/${await this.element(selector)}/click`, {});
  }

  // Replaces an input's value as typing would (input events included).
  async fill(selector, text) {
    await this.waitFor(selector);
    const id = await this.element(selector);
    await this.call('POST', `/element/${id}/clear`, {});
    await this.call('POST', `/element/${id}/value`, { text });
  }

  // The whole page, not only the window, as PNG (Chromium's DevTools command through chromedriver).
  async screenshot(path) {
    const { contentSize } = await this.call('POST', '/goog/cdp/execute', { cmd: 'Page.getLayoutMetrics', params: {} });
    const clip = { x: 0, y: 0, width: Math.ceil(contentSize.width), height: Math.ceil(contentSize.height), scale: 1 };
    const { data } = await this.call('POST', '/goog/cdp/execute',
      { cmd: 'Page.captureScreenshot', params: { format: 'png', clip, captureBeyondViewport: true } });
    writeFileSync(path, Buffer.from(data, 'base64'));
  }
}

async function startDriver(binary) {
  const port = await freePort();
  const driver = spawn(binary, [`--port=${port}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const ready = async () => {
    if (driver.exitCode !== null) throw new Error(`${binary} exited with ${driver.exitCode}`);
    try {
      return (await (await fetch(`${base}/status`)).json()).value.ready;
    } catch {
      return false;  // not listening yet
    }
  };
  await until(`${binary} answers on ${base}`, ready, 20000, 100);
  return { driver, base };
}

// Debian's chromium, headless, driven through Debian's chromedriver.
export async function launch({ chromium = process.env.EDGENAS_CHROMIUM || '/usr/bin/chromium',
  chromedriver = process.env.EDGENAS_CHROMEDRIVER || '/usr/bin/chromedriver' } = {}) {
  const { driver, base } = await startDriver(chromedriver);
  const capabilities = { alwaysMatch: { browserName: 'chrome', 'goog:loggingPrefs': { browser: 'ALL' },
    'goog:chromeOptions': { binary: chromium, args: CHROMIUM_ARGS } } };
  const res = await fetch(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ capabilities }) });
  const { value } = await res.json();
  if (value.error) {
    driver.kill();
    throw new Error(`chromedriver could not start ${chromium}: ${value.message.split('\n')[0]}`);
  }
  return new Browser(driver, base, value.sessionId, value.capabilities.browserVersion);
}
