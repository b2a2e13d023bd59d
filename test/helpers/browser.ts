/**
 * Real Chromium for the page's tests: Debian's /usr/bin/chromium driven by playwright-core
 * (never a downloaded browser), headless, `--no-sandbox` when run as root (Chromium refuses to
 * start its sandbox as root). One browser per test file; pages reused within it.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SMALL = { width: 800, height: 480 };
export const LAPTOP = { width: 1280, height: 800 };

export function launchBrowser(): Promise<Browser> {
  const root = process.getuid?.() === 0;
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: root ? ['--no-sandbox'] : [], timeout: 60_000 });
}

/** A context as a device on the LAN sees the box: its viewport, Chinese, downloads allowed. */
export async function openPage(browser: Browser, base: string, viewport = SMALL, o: { hasTouch?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, baseURL: base, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true, hasTouch: o.hasTouch ?? false });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  return { context, page };
}

/**
 * Counts the officer's touches: every `tap` is one click on the page (what a finger does on
 * the 7-inch screen). Typing a password is not a touch; the sign-in button is, but the three
 * tasks are counted after sign-in.
 */
export class Touches {
  count = 0;
  constructor(private readonly page: Page) {}
  async tap(selector: string): Promise<void> {
    await this.page.locator(selector).first().click();
    this.count++;
  }
  reset(): void {
    this.count = 0;
  }
}

/**
 * The fonts Chromium really drew a node's text with (DevTools protocol
 * CSS.getPlatformFontsForNode): family names and glyph counts. A Chinese sentence drawn by a
 * CJK font names it here; tofu (no font with the glyphs) would name a Latin face or none.
 */
export async function platformFonts(page: Page, selector: string): Promise<{ familyName: string; glyphCount: number; isCustomFont: boolean }[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    if (!nodeId) throw new Error(`no node ${selector}`);
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    return fonts;
  } finally {
    await cdp.detach();
  }
}

/**
 * Everything a finger can touch on the screen now (buttons, links, fields) that is smaller
 * than `min` px either way, described for the failure message. A checkbox counts by its
 * label (the label is what is touched); hidden and zero-size elements are not on screen.
 */
export function smallTargets(page: Page, min = 48): Promise<string[]> {
  return page.evaluate((min) => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, a[href], input, select, textarea, [role=button]'))) {
      const target = el instanceof HTMLInputElement && el.type === 'checkbox' ? (el.closest('label') ?? el) : el;
      const r = target.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (getComputedStyle(target).visibility === 'hidden') continue;
      if (r.width < min || r.height < min) out.push(`${target.tagName.toLowerCase()}${target.className ? '.' + String(target.className).replace(/\s+/g, '.') : ''} "${(target.textContent ?? '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return out;
  }, min);
}

/** Polls an async `get` (a page query) until it is truthy; rejects naming `what` after `ms`. */
export async function eventually<T>(what: string, get: () => Promise<T | undefined | false | null>, ms = 20_000, everyMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
