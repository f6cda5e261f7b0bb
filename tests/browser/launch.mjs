// Can playwright-core (coordinator/console/node_modules) drive Debian's chromium here? Launches
// it headless, renders a page, prints the browser's version. Run by the fresh-root check.
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('../../coordinator/console/node_modules/playwright-core/index.mjs', import.meta.url));
const { chromium } = await import(here);
const browser = await chromium.launch({ executablePath: process.env.EDGENAS_CHROMIUM || '/usr/bin/chromium' });
const page = await browser.newPage();
await page.setContent('<p id="x">rendered</p>');
const text = await page.textContent('#x');
console.log(`chromium ${browser.version()} driven by playwright-core: ${text}`);
await browser.close();
if (text !== 'rendered') process.exit(1);
