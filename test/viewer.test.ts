/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { exportBatch, loadBatchDataset } from '../export';
import { conversationUiUrl } from '../client/connection';
import { fromDataset } from '../viewer/source';
import { readRecordFolder, type RecordSource } from '../readers/muse-record';
import { serveViewer } from '../viewer/server';
import { authorsFolder, rig, runBatch, type TestRig } from './helpers';

// Debian's Chromium, driven by playwright-core (never a browser download); .ci/run installs it.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = path.join(__dirname, '..', 'test-output');

let t: TestRig;
let batchId: string;
let browser: Browser;

beforeAll(async () => {
  t = await rig();
  ({ batchId } = await runBatch(t, 'viewer', { size: 16, seed: 57, concurrency: 16 }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  fs.mkdirSync(OUTPUT, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function withViewer<T>(src: RecordSource, fn: (page: Page, url: string) => Promise<T>): Promise<T> {
  const v = await serveViewer(src, { port: 0 });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(v.url);
    return await fn(page, v.url);
  } finally {
    await page.close();
    await v.close();
  }
}

/** Every image on the page has loaded and has pixels. */
async function imagesLoaded(page: Page): Promise<number[]> {
  await page.waitForFunction(() => [...document.images].every((i) => i.complete));
  return page.$$eval('main img', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
}

describe('muse view', () => {
  it('lists a batch, narrows it by a filter and a search, and shows a conversation with its images and run', async () => {
    const ds = await loadBatchDataset(t.pool, batchId, { minScore: 0, requireScreener: false });
    const src = fromDataset(ds, (id) => conversationUiUrl(t, id));
    await withViewer(src, async (page) => {
      await expect.poll(() => page.locator('#list li').count()).toBe(16);
      // A filter narrows the list to exactly the conversations it names.
      const outcome = ds.records.filter((r) => r.Target_reached_by === 'forced').length;
      expect(outcome).toBeGreaterThan(0);
      expect(outcome).toBeLessThan(16);
      await page.selectOption('select[name=outcome]', 'forced');
      await expect.poll(() => page.locator('#list li').count()).toBe(outcome);
      await page.selectOption('select[name=outcome]', '');
      await expect.poll(() => page.locator('#list li').count()).toBe(16);

      // Search by a conversation's id, open it, and every image it shows has loaded.
      const withImages = ds.records.find((r) => r.Conversations.some((c) => c.Image.length > 0))!;
      await page.fill('input[name=q]', withImages.Conversation_id);
      await expect.poll(() => page.locator('#list li').count()).toBe(1);
      await page.click('#list li');
      await page.waitForSelector('main .turn');
      expect(await page.locator('main .turn').count()).toBe(withImages.Conversations.length);
      const widths = await imagesLoaded(page);
      expect(widths.length).toBe(withImages.Conversations.flatMap((c) => c.Image).length);
      for (const w of widths) expect(w).toBeGreaterThan(0);
      const body = await page.locator('main').innerText();
      for (const want of [withImages.Persona, withImages.Requirement, `total ${withImages.Review.Total}/6`])
        expect(body).toContain(want);
      // The original beside the accepted rewrite, wherever stage 4 replaced a text.
      const rewritten = withImages.Conversations.filter((c) => c.Original).length;
      expect(await page.locator('main .original').count()).toBe(rewritten);
      expect(await page.getAttribute('#run-link', 'href')).toBe(conversationUiUrl(t, withImages.Conversation_id));
      await page.screenshot({ path: path.join(OUTPUT, 'viewer.png'), fullPage: true });
    });
  });

  it('reads the Muse record format as its authors wrote it: numeric ids, image paths without extensions', async () => {
    // The authors' layout, from one of our exports: images_main/<id>.png named as images_main/<id>.
    const ours = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-view-')), 'export');
    await exportBatch(t.pool, batchId, ours, { minScore: 0, requireScreener: false });
    const theirs = path.join(path.dirname(ours), 'authors');
    const records = authorsFolder(ours, theirs);
    records[3].Conversations[0].Image = ['images_main/not-there'];
    fs.writeFileSync(path.join(theirs, 'conversations.json'), JSON.stringify(records));
    const src = readRecordFolder(theirs);
    expect(src.conversations).toHaveLength(15);
    expect(src.problems).toEqual([
      `${path.join(theirs, 'conversations.json')}[3]: Image: images_main/not-there is not a file in the folder`,
    ]);
    const shown = src.conversations.find((c) => c.utterances.some((u) => u.images.length))!;
    await withViewer(src, async (page) => {
      await expect.poll(() => page.locator('#list li').count()).toBe(15);
      expect(await page.locator('#problems').innerText()).toContain('1 record(s) left out');
      await page.locator(`#list li[data-id="${shown.id}"]`).click();
      await page.waitForSelector('main .turn');
      const widths = await imagesLoaded(page);
      expect(widths.length).toBeGreaterThan(0);
      for (const w of widths) expect(w).toBeGreaterThan(0);
    });
    // Nothing outside the folder is served, whatever the name asked for.
    expect(() => src.imageFile('../export/dataset.jsonl')).toThrow(/not an image of this dataset/);
  });
});
