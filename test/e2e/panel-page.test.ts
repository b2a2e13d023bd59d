/**
 * The duty officer's page in real Chromium (Debian's, headless), served by a real box: the
 * demo site with its simulated devices (test/helpers/panel-box.ts: Aedes, SQLite in a temp
 * folder, the Modbus TCP gateway with the siren relay, smoke detectors and the speaker as MQTT
 * clients), loopback and ephemeral ports. One browser for the file; the tests run in order on
 * one page, as one officer's shift: sign-in and lockout, an alarm arriving live, acknowledge,
 * the alert's screen and 吹哨, a broadcast reaching the speaker, sirens, a drill on every
 * screen, the log and its CSV, the drill review link, English, touch targets, screenshots.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, LAPTOP, launchBrowser, openPage, platformFonts, SMALL, smallTargets } from '../helpers/browser.ts';
import { panelClient } from '../helpers/panel-client.ts';
import { OFFICER, startPanelBox, type PanelBox } from '../helpers/panel-box.ts';
import { until } from '../helpers/until.ts';

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
let pb: PanelBox;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requested: string[] = [];
const pageErrors: string[] = [];

const shot = (name: string, p: Page = page): Promise<Buffer> => p.screenshot({ path: join(SHOTS, `${name}.png`) });
const events = (type: string) => pb.box.store.since(0).filter((e) => e.type === type).map((e) => e.payload as Record<string, any>);

async function signIn(p: Page, password = OFFICER.password): Promise<void> {
  await p.fill('input[name=username]', OFFICER.username);
  await p.fill('input[name=password]', password);
  await p.click('[data-action=sign-in]');
}

async function screen(hash: string, ready: string, p: Page = page): Promise<void> {
  await p.evaluate((h) => (location.hash = h), hash);
  await p.locator(ready).first().waitFor({ state: 'visible' });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [pb, browser] = await Promise.all([startPanelBox(), launchBrowser()]);
  console.log(pb.build.line);
  ({ context, page } = await openPage(browser, pb.base, SMALL));
  context.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(`${e.message} ${e.stack ?? ''}`.slice(0, 600)));
  // The page's own complaints (a part it could not draw); a refused request (the 401 before sign-in) is the test's to check.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && pageErrors.push(m.text()));
});

afterAll(async () => {
  await browser?.close();
  await pb?.stop();
});

describe('the officer page', () => {
  it('is served by the box: precompressed, its own files only, a CSP, and within 300 KB gzipped', async () => {
    expect(pb.build.manifest.total_gzip_bytes).toBeLessThanOrEqual(300 * 1024);
    const index = await fetch(`${pb.base}/`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-encoding')).toBe('br');
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const js = /src="\/(main-[A-Z0-9]{8}\.js)"/.exec(html)![1]!;
    const gz = await fetch(`${pb.base}/${js}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gz.headers.get('cache-control')).toContain('immutable');
    // Nothing from another origin: no CDN, no web font.
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${pb.base}/api/page-config`)).status).toBe(401);
  });

  it('signs in; five wrong passwords lock the pair out, said in Chinese; the verified password still gets in', async () => {
    // The officer's password was verified lately (another device of theirs): the lockout does not shut them out.
    expect((await panelClient(pb.base).signIn(OFFICER.username, OFFICER.password)).status).toBe(200);
    await page.goto('/');
    await page.locator('form.signin').waitFor();
    await shot('signin-800x480');
    const message = page.locator('[data-part=message]');
    for (let i = 0; i < 5; i++) {
      await signIn(page, `wrong-${i}`);
      await eventually(`wrong password ${i} answered`, async () => (await message.getAttribute('data-status')) === '401' && (await message.textContent()) === '用户名或密码错误' && (await page.locator('[data-action=sign-in]').isEnabled()), 20_000).catch(async () => {
        throw new Error(`after wrong password ${i}: ${await message.textContent()}`);
      });
      await page.evaluate(() => document.querySelector('[data-part=message]')!.removeAttribute('data-status'));
    }
    await signIn(page, 'wrong-5');
    await page.waitForFunction(() => document.querySelector('[data-part=message]')?.getAttribute('data-status') === '429');
    expect(await message.textContent()).toMatch(/^登录失败次数过多,请 \d+ 秒后再试$/);
    await shot('signin-locked-800x480');
    expect(events('session').some((e) => e.action === 'locked_out' && e.username === 'wang')).toBe(true);
    await signIn(page);
    await page.locator('.home').waitFor();
    await page.locator('.top .site-name', { hasText: '示范社区' }).waitFor();
    await page.locator('.all-clear').waitFor();
  });

  it('shows an alarm raised by two smoke detectors live, without a reload, in Chinese drawn by a CJK font', async () => {
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await pb.smoke('sm1', 'alarm');
    await pb.smoke('sm2', 'alarm');
    const card = page.locator('article.alert.lv-red');
    await card.waitFor();
    expect(await card.locator('.sentence').textContent()).toMatch(/火警/);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator('[data-zone=stairwell]').getAttribute('class')).toContain('lv-red');
    expect(await page.locator('.top .chip').textContent()).toBe('红色预警');
    // The glyphs come from a CJK font of the box (fonts-noto-cjk or WenQuanYi), not tofu.
    const fonts = await platformFonts(page, 'article.alert .sentence');
    expect(fonts.some((f) => /Noto Sans CJK|Noto Sans SC|WenQuanYi/.test(f.familyName) && f.glyphCount > 5)).toBe(true);
    // And a CJK character is as wide as the text is high (full width), as a real glyph is.
    const ratio = await page.evaluate(() => {
      const s = document.createElement('span');
      s.style.cssText = 'font-size:40px;position:absolute;visibility:hidden;white-space:nowrap';
      s.textContent = '警报警报警报警报警报';
      document.querySelector('#view')!.append(s);
      const w = s.getBoundingClientRect().width / 10 / 40;
      s.remove();
      return w;
    });
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
    await eventually('the siren sounding on the home screen', async () => (await page.locator('[data-action=silence-top]').isVisible()) && (await page.locator('.busy-item').count()) > 0);
    await shot('home-alarm-800x480');
  });

  it('acknowledges from the home screen in one touch; the box logs who', async () => {
    await page.locator('article.alert.lv-red [data-action=ack]').click();
    await page.locator('article.alert.lv-red .acked').waitFor();
    expect(await page.locator('article.alert.lv-red .acked').textContent()).toBe('已确认 · wang');
    const ack = events('command').find((c) => c.command?.type === 'ack');
    expect(ack).toMatchObject({ by: 'wang', role: 'officer', via: 'panel', result: { ok: true } });
  });

  it("the alert's screen: response clock, the readings that proved it, the zone's detectors, shelter and route; 吹哨 in two steps", async () => {
    await page.locator('article.alert.lv-red [data-action=details]').click();
    await page.locator('.alert-screen').waitFor();
    await page.locator('[data-step=clockAck].done').waitFor();
    expect(await page.locator('[data-step=clockRaised] .step-time').textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await page.locator('[data-step=clockAck] .step-who').textContent()).toBe('wang');
    expect(await page.locator('[data-step=clockEscalated]').getAttribute('class')).toBe('next');
    await page.locator('[data-part=evidence] .evidence li').first().waitFor();
    expect(await page.locator('[data-part=evidence]').textContent()).toMatch(/火警/);
    expect(await page.locator('[data-part=detectors]').textContent()).toMatch(/3号楼一层烟感报警.*3号楼二层烟感报警/);
    expect(await page.locator('[data-part=places]').textContent()).toMatch(/村委会避难所/);
    await shot('alert-800x480');

    await page.locator('[data-action=escalate]').click();
    const text = page.locator('.escalate textarea');
    expect(await text.inputValue()).toMatch(/^请求支援:.*火警/);
    await text.fill('3号楼火情,请求乡镇消防支援');
    await page.locator('[data-action=escalate-send]').click();
    // The second step: nothing is sent until confirmed.
    await page.locator('.modal [data-confirm=yes]').waitFor();
    expect(events('escalation')).toHaveLength(0);
    await page.locator('.modal [data-confirm=yes]').click();
    await page.locator('[data-step=clockEscalated].done').waitFor();
    expect(events('escalation').at(-1)).toMatchObject({ phase: 'sent', by: 'wang', text: '3号楼火情,请求乡镇消防支援' });
  });

  it('a broadcast from a template, confirmed in a second step (a cancel sends nothing), reaches the speaker, with progress per zone', async () => {
    await page.locator('.tabs [data-tab=broadcast]').click();
    await page.locator('[data-template=evacuation]').waitFor();
    expect(await page.locator('[data-part=places]').textContent()).toMatch(/村委会避难所.*北坡上山路线/);
    const before = events('command').filter((c) => c.command?.type === 'broadcast').length;
    await page.locator('[data-template=evacuation]').click();
    await page.locator('.modal [data-confirm=no]').click();
    await page.locator('.modal').waitFor({ state: 'detached' });
    expect(events('command').filter((c) => c.command?.type === 'broadcast')).toHaveLength(before);

    await page.locator('[data-template=evacuation]').click();
    const sheet = page.locator('.modal');
    expect(await sheet.locator('.preview').textContent()).toMatch(/撤离到村委会避难所/);
    await sheet.locator('[data-zone=stairwell]').click();
    await sheet.locator('[data-action=repeat-less]').click();
    await shot('broadcast-confirm-800x480');
    await sheet.locator('[data-confirm=yes]').click();
    const heard = await until('the evacuation at the speaker', () => pb.speaker.received.find((r) => r.command.type === 'broadcast' && r.command.template === 'evacuation' && r.command.by === 'wang'), 30_000);
    expect(heard.command).toMatchObject({ zone: 'stairwell', repeat: 2, priority: 'emergency' });
    expect(String(heard.command.text_zh)).toMatch(/撤离到村委会避难所/);
    expect(events('command').find((c) => c.command?.type === 'broadcast' && c.by === 'wang')).toMatchObject({ via: 'panel', command: { template: 'evacuation', zones: ['stairwell'], repeat: 2, emergency: true } });
    const progress = page.locator(`[data-part=progress] [data-activity="${heard.command.activity}"]`);
    await progress.waitFor();
    await eventually('the zone done', async () => (await progress.locator('[data-zone=stairwell]').getAttribute('data-state')) === 'done', 30_000);
    await shot('broadcast-800x480');
  });

  it('sirens: silence, then a test blip in one touch reaching the relay; a named signal only after the second step', async () => {
    await page.locator('.tabs [data-tab=sirens]').click();
    await page.locator('[data-action=siren-test]').waitFor();
    await page.locator('.sirens-screen [data-action=silence]').click();
    await eventually('the relay quiet', async () => !(await page.locator('[data-siren=siren1].on').count()));
    const relay = pb.modbus.devices.get('siren1')!;
    const mark = relay.coilWrites().length;
    await page.locator('[data-action=siren-test]').click();
    await until('the 3 s test blip at the relay', () => relay.coilWrites().slice(mark).find((w) => w.action === 'flash_on' && w.value === 30));
    expect(events('command').find((c) => c.command?.type === 'siren' && c.command.pattern === 'test')).toMatchObject({ by: 'wang', via: 'panel' });

    await page.locator('[data-pattern=air_raid_pre_alert]').click();
    expect(await page.locator('.modal h2').textContent()).toBe('确认鸣响「预先警报」?');
    expect(events('command').some((c) => c.command?.pattern === 'air_raid_pre_alert')).toBe(false);
    await shot('sirens-confirm-800x480');
    await page.locator('.modal [data-confirm=yes]').click();
    await until('the pre-alert effect', () => events('effect').find((e) => e.type === 'siren' && e.pattern === 'air_raid_pre_alert' && e.by === 'wang'));
    await page.locator('[data-siren=siren1].on').waitFor();
    await shot('sirens-800x480');
    await page.locator('[data-action=silence-top]').click();
    await until('silenced', () => events('command').filter((c) => c.command?.type === 'silence').length >= 2);
  });

  it("a rain alert's and a river alert's screens chart the last 24 h against their thresholds and stages", async () => {
    // A day of history in the log (the minutes the box would have read), light rain then heavy
    // for the last 3 h, and the river rising; then live over Modbus: the gauge's counter as fast
    // as its glitch limit allows (3,000 mm/min) and the river above its warning stage.
    const { store } = pb.box;
    const now = Date.now();
    let total = 0;
    for (let m = 24 * 60; m >= 2; m--) {
      total += m > 180 ? 0.02 : 0.2;
      store.addReading({ sensor: 'rg1', value: Math.round(total * 10) / 10, quality: 'good', atWall: now - m * 60_000 });
      store.addReading({ sensor: 'wl1', value: 1.5 + ((24 * 60 - m) / (24 * 60)) * 1.1, quality: 'good', atWall: now - m * 60_000 });
    }
    store.flushReadings();
    total = Math.round(total * 10) / 10;
    const gauge = pb.modbus.devices.get('rg1')!;
    pb.rain(total);
    pb.river(2.6);
    const polls = gauge.requests;
    await until('the baseline read by two polls', () => gauge.requests > polls + 2);
    pb.river(2.7);
    for (let mm = 20; mm <= 120; mm += 20) {
      pb.rain(total + mm);
      await new Promise((r) => setTimeout(r, 700));
    }
    const rain = await until('the red rain alert', () => events('transition').find((t) => t.kind === 'rain' && t.level === 'red'));
    const river = await until('the river above its warning stage', () => events('transition').find((t) => t.kind === 'water_level' && t.rule === 'stage_warning'), 30_000);
    pb.box.store.rollup(Date.now() + 120_000);
    await screen(`#/alert/${encodeURIComponent(rain.alert as string)}`, '.alert-screen');
    const chart = page.locator('[data-chart=rg1]');
    await chart.locator('.uplot canvas').waitFor();
    expect(await chart.locator('.u-legend').textContent()).toMatch(/每小时雨量.*1 小时累计.*3 小时累计.*24 小时累计/);
    expect(await chart.locator('[data-part=chart-lines]').textContent()).toMatch(/50 mm: 蓝色预警 12 h · 黄色预警 6 h · 橙色预警 3 h.*100 mm: 红色预警 3 h/);
    expect(await page.locator('[data-part=evidence]').textContent()).toMatch(/3 小时雨量 \d+/);
    await page.locator('[data-part=chart]').scrollIntoViewIfNeeded();
    await shot('alert-rain-chart-800x480');
    await screen(`#/alert/${encodeURIComponent(river.alert as string)}`, '.alert-screen');
    const level = page.locator('[data-chart=wl1]');
    await level.locator('.uplot canvas').waitFor();
    expect(await level.locator('[data-part=chart-lines]').textContent()).toMatch(/关注水位 2.2 m.*警戒水位 2.5 m.*保证水位 3.2 m/);
    await page.locator('[data-part=chart]').scrollIntoViewIfNeeded();
    await shot('alert-river-chart-800x480');
  });

  it('drill mode: a banner and a border on every screen while it runs', async () => {
    const api = panelClient(pb.base);
    await api.signIn(OFFICER.username, OFFICER.password);
    expect((await api.req('POST', '/api/commands', { type: 'drill', kind: 'water_level' })).status).toBe(200);
    const alertId = events('transition').find((t) => t.kind === 'smoke')!.alert as string;
    for (const [name, hash, ready] of [
      ['home', '#/', '.home'],
      ['alert', `#/alert/${encodeURIComponent(alertId)}`, '.alert-screen'],
      ['broadcast', '#/broadcast', '.broadcast-screen'],
      ['sirens', '#/sirens', '.sirens-screen'],
      ['log', '#/log', '.log-screen'],
    ] as const) {
      await screen(hash, ready);
      const banner = page.locator('[data-part=drill-banner]');
      await banner.waitFor();
      expect(await banner.textContent()).toMatch(/演练模式/);
      const border = await page.evaluate(() => {
        const s = getComputedStyle(document.querySelector('.frame')!);
        return `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`;
      });
      expect(border, name).toBe('8px solid rgb(106, 27, 154)');
      await shot(`drill-${name}-800x480`);
    }
    await page.locator('[data-part=drill-banner] [data-action=drill-end]').click();
    await page.locator('[data-part=drill-banner]').waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.body.classList.contains('drill'))).toBe(false);
  });

  it('the event log: filter by type, export CSV (BOM, Chinese intact), and the link to the drill review (复盘)', async () => {
    await screen('#/log', '.log-screen');
    await page.locator('[data-part=events] .event').first().waitFor();
    await page.selectOption('select[name=type]', 'transition');
    await page.selectOption('select[name=zone]', 'stairwell');
    await page.locator('[data-action=search]').click();
    await eventually('only stairwell transitions', async () => {
      const types = await page.locator('[data-part=events] .event').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.type));
      return types.length > 0 && types.every((t) => t === 'transition');
    });
    expect(await page.locator('[data-part=events]').textContent()).toMatch(/火警/);
    expect(await page.locator('[data-action=csv]').getAttribute('href')).toMatch(/format=csv.*type=transition.*zone=stairwell/);
    await shot('log-800x480');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-action=csv]').click()]);
    expect(download.suggestedFilename()).toMatch(/^events-demo-.*\.csv$/);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toBe('seq,at,type,zone,alert,level,by,text_zh,text_en,clock_trusted,payload');
    expect(lines.slice(1).filter(Boolean).every((l) => /^\d+,[^,]+,transition,stairwell,/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('3号楼楼梯间 火警'))).toBe(true);

    const review = page.locator('[data-part=drills] [data-review]').first();
    await review.waitFor();
    const href = (await review.getAttribute('href'))!;
    expect(href).toMatch(/^\/review\//);
    const [res] = await Promise.all([page.waitForNavigation(), review.click()]);
    expect(res?.status()).toBe(200);
    expect(await page.locator('body').textContent()).toMatch(/演练复盘/);
    await shot('review-800x480');
    await page.goBack();
    await page.locator('.log-screen').waitFor();
  });

  it('switches to English and back; the box sentences follow', async () => {
    await screen('#/', '.home');
    await page.locator('.top [data-action=lang]').click();
    await page.locator('.tabs [data-tab=home]').filter({ hasText: 'Home' }).waitFor();
    expect(await page.locator('article.alert.lv-red .sentence').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/fire confirmed/), expect.stringMatching(/mm of rain/)]));
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await shot('home-en-800x480');
    await page.locator('.top [data-action=lang]').click();
    await page.locator('.tabs [data-tab=home]').filter({ hasText: '总览' }).waitFor();
  });

  it('lists a sensor in fault on the home screen, in words', async () => {
    await screen('#/', '.home');
    await pb.smoke('sm2', 'low_battery');
    const fault = page.locator('[data-part=faults] .fault');
    await fault.waitFor();
    expect(await fault.textContent()).toMatch(/3号楼二层烟感/);
    await shot('home-fault-800x480');
  });

  it('every touch target on every screen is at least 48 px, at 800×480 and 1280×800; screenshots of both', async () => {
    const alertId = events('transition').find((t) => t.kind === 'smoke')!.alert as string;
    const screens = [
      ['home', '#/', '.home'],
      ['alert', `#/alert/${encodeURIComponent(alertId)}`, '.alert-screen'],
      ['broadcast', '#/broadcast', '[data-template=evacuation]'],
      ['sirens', '#/sirens', '[data-action=siren-test]'],
      ['log', '#/log', '[data-part=events] .event'],
    ] as const;
    const big = await openPage(browser, pb.base, LAPTOP);
    big.context.on('request', (r) => requested.push(r.url()));
    await big.page.goto('/');
    await signIn(big.page);
    await big.page.locator('.home').waitFor();
    for (const [p, size] of [
      [page, '800x480'],
      [big.page, '1280x800'],
    ] as const) {
      for (const [name, hash, ready] of screens) {
        await screen(hash, ready, p);
        await p.waitForTimeout(300); // charts and lists drawn
        expect(await smallTargets(p), `${name} at ${size}`).toEqual([]);
        if (size === '1280x800') await shot(`${name}-${size}`, p);
      }
    }
    await big.context.close();
    // The page asked nothing of any other origin, and threw nothing.
    expect(requested.filter((u) => !u.startsWith(pb.base))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('when the session ends (expiry, a box restart), the page goes back to sign-in by itself', async () => {
    await screen('#/', '.home');
    const token = (await context.cookies()).find((c) => c.name === 'sb_session')!.value;
    pb.box.panel!.sessions.end(token, 'expired');
    await page.locator('form.signin').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-part=drill-banner]').count()).toBe(0);
  });
});
