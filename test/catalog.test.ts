import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAmazonCatalog } from '../catalog/amazon';
import { readAttributes } from '../catalog/attributes';
import { FullTextRetriever } from '../catalog/retrieval';
import { getItem } from '../db/items';
import { createPool, type Pool } from '../db/pool';
import { env } from './helpers';

let pool: Pool;
let dir: string;
const tag = `T${process.pid}`;
const line = (o: Record<string, unknown>) => JSON.stringify(o);

beforeAll(async () => {
  pool = createPool(env().databaseUrl);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-amazon-'));
  fs.mkdirSync(path.join(dir, 'img'));
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#b8302f' } })
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(dir, 'img', `${tag}A.png`), png);
  // Named like the MAIN image's URL, the way the Amazon dumps name their files.
  fs.writeFileSync(path.join(dir, 'img', '71abcXYZ.jpg'), await sharp(png).jpeg().toBuffer());
  const lines = [
    line({
      parent_asin: `${tag}A`,
      title: 'Red Linen Wrap Dress',
      features: ['Linen', 'Adjustable waist tie'],
      description: ['A red linen wrap dress for summer weddings.'],
      categories: ['Clothing, Shoes & Jewelry', 'Women', 'Clothing', 'Dresses'],
      price: 49.5,
      images: [],
      details: { Color: 'Red' },
      store: 'Acme',
    }),
    '{"parent_asin": "broken", "title": ',
    line({ parent_asin: `${tag}C`, features: ['no title here'] }),
    line({ parent_asin: `${tag}D`, title: 'Bad price', price: 'about twenty' }),
    '',
    line({
      parent_asin: `${tag}E`,
      title: 'Navy Wool Coat',
      description: ['Warm navy wool coat.'],
      categories: ['Clothing, Shoes & Jewelry', 'Men', 'Clothing', 'Coats'],
      price: '$120.00',
      images: [{ variant: 'MAIN', hi_res: 'https://m.media-amazon.com/images/I/71abcXYZ.jpg' }],
      store: null,
    }),
    line({ parent_asin: `${tag}F`, title: 'Plain Socks', categories: 'Socks' }),
    line({
      parent_asin: `${tag}G`,
      title: 'Grey Beanie',
      categories: ['Clothing, Shoes & Jewelry', 'Accessories', 'Hats'],
    }),
  ];
  fs.writeFileSync(path.join(dir, 'meta.jsonl'), lines.join('\n') + '\n');
});
afterAll(() => pool?.end());

describe('the Amazon Reviews 2023 importer', () => {
  it('keeps every good line and names the line and field of every bad one', async () => {
    const r = await importAmazonCatalog(pool, path.join(dir, 'meta.jsonl'), path.join(dir, 'img'));
    expect(r.imported).toBe(3);
    expect(r.withoutImage).toBe(1);
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 7]);
    expect(r.errors[0].problem).toMatch(/not valid JSON/);
    expect(r.errors[1].problem).toMatch(/^title: /);
    expect(r.errors[2].problem).toMatch(/^price: /);
    expect(r.errors[3].problem).toMatch(/^categories: /);

    const dress = await getItem(pool, `${tag}A`);
    expect(dress).toMatchObject({
      source: 'amazon',
      price: 49.5,
      store: 'Acme',
      description: 'A red linen wrap dress for summer weddings.',
    });
    expect(dress.imagePath).toMatch(/\.png$/);
    expect(readAttributes(dress)).toMatchObject({ noun: 'dress', colour: 'red', material: 'linen' });
    const coat = await getItem(pool, `${tag}E`);
    expect(coat.price).toBe(120);
    expect(coat.imagePath).toMatch(/\.jpg$/);
    expect(coat.imageUrl).toBe('https://m.media-amazon.com/images/I/71abcXYZ.jpg');
    expect(dress.imageUrl).toBeNull();
    expect((await getItem(pool, `${tag}G`)).imageSha256).toBeNull();
  });

  it('is idempotent and makes the items findable by full-text search', async () => {
    const count = async () =>
      (await pool.query('SELECT count(*)::int AS n FROM items WHERE id LIKE $1', [`${tag}%`])).rows[0].n;
    await importAmazonCatalog(pool, path.join(dir, 'meta.jsonl'), path.join(dir, 'img'));
    expect(await count()).toBe(3);
    const hits = await new FullTextRetriever(pool).search('red linen wrap dress for a summer wedding', { k: 3 });
    expect(hits[0].itemId).toBe(`${tag}A`);
    const excluded = await new FullTextRetriever(pool).search('red linen wrap dress', { k: 8, exclude: [`${tag}A`] });
    expect(excluded.map((h) => h.itemId)).not.toContain(`${tag}A`);
  });

  it('reports every kind of bad line with its number and field, keeps every good one, and reads nothing outside --images', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-amazon-bad-'));
    fs.mkdirSync(path.join(d, 'img'));
    fs.mkdirSync(path.join(d, 'outside'));
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#2f30b8' } })
      .png()
      .toBuffer();
    const secret = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    fs.writeFileSync(path.join(d, 'outside', 'secret.png'), secret);
    fs.symlinkSync(path.join(d, 'outside', 'secret.png'), path.join(d, 'img', `${tag}L.png`));
    fs.writeFileSync(path.join(d, 'img', `${tag}T.png`), png.subarray(0, Math.floor(png.length / 2)));
    fs.writeFileSync(path.join(d, 'img', `${tag}Z.png`), png);
    const item = (id: string, extra: Record<string, unknown> = {}) =>
      line({ parent_asin: id, title: `Item ${id}`, categories: ['Clothing', 'Shirts'], ...extra });
    const lines: Buffer[] = [
      Buffer.from(item(`${tag}N`, { title: 'Nul\u0000 title' })),
      Buffer.concat([Buffer.from(item(`${tag}U`).slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      Buffer.from(item(`${tag}H`, { description: ['x'.repeat(5 * 1024 * 1024)] })),
      Buffer.from(
        item(`${tag}V`, { title: Array.from({ length: 200_000 }, (_, i) => `w${i.toString(36)}`).join(' ') }),
      ),
      Buffer.from(item('../outside/secret')),
      Buffer.from(item(`${tag}L`)),
      Buffer.from(item(`${tag}T`)),
      Buffer.from(item(`${tag}Z`)),
    ];
    fs.writeFileSync(path.join(d, 'bad.jsonl'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const r = await importAmazonCatalog(pool, path.join(d, 'bad.jsonl'), path.join(d, 'img'));
    const problem = (n: number) => r.errors.find((e) => e.line === n)?.problem ?? '(none)';
    expect(problem(1)).toMatch(/^title: contains a NUL character/);
    expect(problem(2)).toMatch(/not valid UTF-8 \(byte \d+ of the line is 0xff\)/);
    expect(problem(3)).toMatch(/the line is 5,24\d,\d{3} bytes, more than the 4 MiB/);
    expect(problem(4)).toMatch(/^database: .*too long for tsvector/);
    expect(problem(5)).toMatch(/^parent_asin: must be safe as a file name/);
    expect(problem(6)).toMatch(/leads outside --images/);
    expect(problem(7)).toMatch(/^image .*T\.png: /);
    expect(r.errors).toHaveLength(7);
    expect(r.imported).toBe(1);
    expect((await getItem(pool, `${tag}Z`)).imageSha256).not.toBeNull();
    const secretSha = (await import('node:crypto')).createHash('sha256').update(secret).digest('hex');
    expect((await pool.query('SELECT 1 FROM images WHERE sha256 = $1', [secretSha])).rowCount).toBe(0);
    expect(
      (
        await pool.query('SELECT 1 FROM items WHERE id = ANY($1)', [
          [`${tag}N`, `${tag}U`, `${tag}H`, `${tag}V`, `${tag}L`, `${tag}T`],
        ])
      ).rowCount,
    ).toBe(0);
  });

  it('says clearly when the file or the image folder is missing', async () => {
    await expect(importAmazonCatalog(pool, path.join(dir, 'nope.jsonl'))).rejects.toThrow(/nope.jsonl: no such file/);
    await expect(importAmazonCatalog(pool, path.join(dir, 'meta.jsonl'), path.join(dir, 'nope'))).rejects.toThrow(
      /--images .*nope: not a folder/,
    );
  });

  it('names a folder given where the catalog file belongs (not a raw EISDIR)', async () => {
    await expect(importAmazonCatalog(pool, dir)).rejects.toThrow(
      new RegExp(`${dir}: a folder, not a file; give the \\.jsonl file of item metadata inside it`),
    );
  });

  it('reads the Hugging Face converted form: images as a dict of lists, details as JSON text, price "None"', async () => {
    const hf = path.join(dir, 'hf.jsonl');
    fs.writeFileSync(
      hf,
      [
        line({
          parent_asin: `${tag}H`,
          title: 'Olive Cotton Overshirt',
          features: ['Cotton'],
          description: [],
          categories: ['Clothing, Shoes & Jewelry', 'Men', 'Clothing', 'Shirts'],
          price: 'None',
          images: {
            hi_res: [null, 'https://m.media-amazon.com/images/I/71abcXYZ.jpg'],
            large: ['https://m.media-amazon.com/images/I/small1.jpg', 'https://m.media-amazon.com/images/I/l2.jpg'],
            thumb: ['https://m.media-amazon.com/images/I/t1.jpg', 'https://m.media-amazon.com/images/I/t2.jpg'],
            variant: ['PT01', 'MAIN'],
          },
          details: JSON.stringify({ Color: 'Olive', Material: 'Cotton' }),
          store: 'Acme',
        }),
        line({ parent_asin: `${tag}I`, title: 'Priced', price: '24.99', details: '{not json' }),
      ].join('\n') + '\n',
    );
    const r = await importAmazonCatalog(pool, hf, path.join(dir, 'img'));
    expect(r.imported).toBe(1);
    expect(r.errors).toEqual([{ line: 2, problem: expect.stringMatching(/^details: not valid JSON text/) }]);
    const it = await getItem(pool, `${tag}H`);
    expect(it).toMatchObject({ price: null, details: { Color: 'Olive', Material: 'Cotton' } });
    // The MAIN variant's image, found by its file name in --images.
    expect(it.imageSha256).not.toBeNull();
    expect(it.imageUrl).toBe('https://m.media-amazon.com/images/I/71abcXYZ.jpg');
  });

  it('says at once when a file has no usable categories (Amazon_Fashion), instead of failing in stage 1', async () => {
    const fashion = path.join(dir, 'Amazon_Fashion.jsonl');
    fs.writeFileSync(
      fashion,
      [1, 2, 3]
        .map((k) =>
          line({ parent_asin: `${tag}AF${k}`, title: `Scarf ${k}`, categories: [], main_category: 'AMAZON FASHION' }),
        )
        .join('\n') + '\n',
    );
    const r = await importAmazonCatalog(pool, fashion);
    expect(r.imported).toBe(3);
    expect(r.withoutCategories).toBe(3);
    expect(r.warning).toMatch(/none of the 3 items imported from .*Amazon_Fashion\.jsonl has categories/);
    expect(r.warning).toMatch(/Clothing_Shoes_and_Jewelry/);
  });
});
