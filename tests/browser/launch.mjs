// Can the project's WebDriver client drive Debian's chromium through Debian's chromedriver here?
// Starts both, renders a page headless, prints the browser's version. Run by the fresh-root check.
import { launch } from './webdriver.mjs';

const browser = await launch();
let text = null;
try {
  const page = await browser.page();
  await page.goto('data:text/html,<p id="x">rendered</p>');
  text = await page.text('#x');
  console.log(`chromium ${browser.version} driven by chromedriver: ${text}`);
} finally {
  await browser.close();
}
if (text !== 'rendered') process.exit(1);
