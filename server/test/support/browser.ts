import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, without the background traffic a closed network refuses. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Keep timers and audio running at full speed in a page nobody looks at.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      ...extraArgs,
    ],
  });
}

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../docs/screenshots', import.meta.url));

/** Violations axe-core finds on the page as it is now, at the impact levels that fail a test. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's strict CSP (no inline scripts) stays in force.
  await page.evaluate(axe.source);
  const result = await page.evaluate(async () => {
    const run = (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run();
    return (await run).violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((node) => node.target.join(' ')).slice(0, 3),
    }));
  });
  return result
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/**
 * Writes docs/screenshots/NAME.png when EARSHOT_SCREENSHOTS=1 (the README shows them); otherwise only takes
 * the shot in memory so the rendering path stays tested.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const write = process.env.EARSHOT_SCREENSHOTS === '1';
  await page.screenshot({ path: write ? join(SCREENSHOT_DIR, `${name}.png`) : undefined, fullPage: true });
}
