// Headless Chromium ($CHROMIUM, else chromium on PATH) driven by playwright-core, with the flags this
// closed network needs; used by the report page test and the screenshot script.
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, requirePrerequisite } from './dev-prerequisites.js';

/** Launches Chromium; throws a clear error when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: requirePrerequisite(CHROMIUM),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Opens an HTML file, collects console errors and failed requests, optionally takes a PNG. */
export async function renderPage(
  file: string,
  screenshot?: string,
  options: { fullPage?: boolean } = {},
): Promise<{ errors: string[]; svgs: number; title: string }> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 760, height: 1400 } });
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
    page.on('requestfailed', (request) => errors.push(`request: ${request.url()}`));
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const svgs = await page.locator('svg').count();
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: options.fullPage ?? true });
    return { errors, svgs, title: await page.title() };
  } finally {
    await browser.close();
  }
}
