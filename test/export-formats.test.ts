import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetReadObjects, parquetMetadata } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse as parseYaml } from 'yaml';
import { exportBatch, exportDataset, loadExportFolder } from '../export';
import { LlavaExample, OpenAiFtExample } from '../export/finetune';
import { rig, runBatch, type TestRig } from './helpers';

let t: TestRig;
let batchId: string;
let root: string;
const all = { minScore: 0, requireScreener: false };

beforeAll(async () => {
  t = await rig();
  ({ batchId } = await runBatch(t, 'formats', { size: 30, seed: 31, concurrency: 15 }));
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-formats-'));
});
afterAll(() => t?.close());

/**
 * Rows of a Parquet file as hyparquet (an independent, pure-JS reader) reads them. Strict about types:
 * only columns the file marks as text are decoded as text, so an image's bytes stay bytes.
 */
async function readParquet(file: string): Promise<Array<Record<string, unknown>>> {
  const b = fs.readFileSync(file);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return parquetReadObjects({ file: ab, compressors, utf8: false });
}
const splitFiles = (dir: string, split: string) =>
  fs
    .readdirSync(path.join(dir, 'data'))
    .filter((f) => f.startsWith(`${split}-`))
    .map((f) => path.join(dir, 'data', f));
async function idsBySplit(dir: string) {
  const out: Record<string, string[]> = {};
  for (const s of ['train', 'validation', 'test'])
    for (const f of splitFiles(dir, s))
      out[s] = [...(out[s] ?? []), ...(await readParquet(f)).map((r) => r.conversation_id as string)];
  return out;
}

describe('muse export --format hf', () => {
  it('writes Parquet splits, items.parquet with the images, and a card the Hub reads', async () => {
    const dir = path.join(root, 'hf');
    const r = await exportBatch(t.pool, batchId, dir, all, { format: 'hf' });
    expect(r.conversations).toBe(30);
    expect(r.splits).toEqual({ train: 24, validation: 3, test: 3 });
    expect(fs.readdirSync(path.join(dir, 'data')).sort()).toEqual([
      'test-00000-of-00001.parquet',
      'train-00000-of-00001.parquet',
      'validation-00000-of-00001.parquet',
    ]);
    const ids = await idsBySplit(dir);
    expect(Object.values(ids).flat().sort()).toEqual([...r.ids].sort());
    expect({ train: ids.train.length, validation: ids.validation.length, test: ids.test.length }).toEqual(r.splits);

    const rows = await readParquet(splitFiles(dir, 'train')[0]);
    const row = rows[0] as { utterances: Array<{ speaker: string; text: string; images: string[] }>; persona: object };
    expect(row.persona).toMatchObject({ name: expect.any(String), gender: expect.any(String) });
    expect(row.utterances.length).toBeGreaterThan(2);
    const named = rows.flatMap((x) => (x.utterances as Array<{ images: string[] }>).flatMap((u) => u.images));
    expect(named.length).toBeGreaterThan(0);
    for (const p of named) expect(p).toMatch(/^images\/[\w.-]+\.(png|jpg|webp)$/);

    // Every item a conversation names is in items.parquet, and every image's bytes are the stored ones.
    const items = await readParquet(path.join(dir, 'items.parquet'));
    const byId = new Map(items.map((i) => [i.id as string, i]));
    for (const x of rows) for (const id of x.mentioned_items as string[]) expect(byId.has(id), id).toBe(true);
    const digests = new Map(
      (await t.pool.query('SELECT id, image_sha256 FROM items WHERE id = ANY($1)', [[...byId.keys()]])).rows.map(
        (x) => [x.id, x.image_sha256],
      ),
    );
    for (const it of items) {
      const img = it.image as { bytes: Uint8Array; path: string };
      expect(img.path).toMatch(/^images\//);
      expect(createHash('sha256').update(img.bytes).digest('hex')).toBe(digests.get(it.id));
    }
    expect(new Set(named).size).toBeLessThanOrEqual(items.length);
    for (const p of named)
      expect(
        items.some((i) => (i.image as { path: string }).path === p),
        p,
      ).toBe(true);
    // `datasets` reads the features from the file's own metadata: images are Image features.
    const b = fs.readFileSync(path.join(dir, 'items.parquet'));
    const meta = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const hf = JSON.parse(meta.key_value_metadata!.find((k) => k.key === 'huggingface')!.value!);
    expect(hf.info.features.image).toEqual({ _type: 'Image' });

    // The card: YAML front matter with configs and data_files per split, and sizes that match.
    const card = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    const front = parseYaml(card.split('---\n')[1]);
    expect(front).toMatchObject({ license: expect.any(String), language: ['en'], size_categories: ['n<1K'] });
    expect(front.task_categories.length).toBeGreaterThan(0);
    expect(front.configs[0].data_files).toEqual([
      { split: 'train', path: 'data/train-*.parquet' },
      { split: 'validation', path: 'data/validation-*.parquet' },
      { split: 'test', path: 'data/test-*.parquet' },
    ]);
    expect(front.dataset_info[0].splits).toEqual([
      { name: 'train', num_examples: 24 },
      { name: 'validation', num_examples: 3 },
      { name: 'test', num_examples: 3 },
    ]);
    expect(front.dataset_info[1].features.find((f: { name: string }) => f.name === 'image')).toEqual({
      name: 'image',
      dtype: 'image',
    });
    expect(card).toMatch(/Simulated/);
    expect(card).toMatch(/@inproceedings\{wang2025muse/);
    expect(card).toMatch(/\| utterances per conversation \| [\d.]+ \| 11\.88 \|/);

    // The card's DuckDB snippet runs as written, from the dataset folder.
    const sql = /```sql\n([\s\S]*?)```/.exec(card)![1];
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const res = await con.runAndReadAll(sql);
      expect(res.currentRowCount).toBe(named.length);
    } finally {
      process.chdir(cwd);
      con.closeSync();
      db.closeSync();
    }
  });

  it('draws the same split from the batch and from a previous export, and another with another seed', async () => {
    const muse = path.join(root, 'muse');
    await exportBatch(t.pool, batchId, muse, all);
    const { dataset, problems } = await loadExportFolder(muse);
    expect(problems).toEqual([]);
    const again = path.join(root, 'hf-from-folder');
    await exportDataset(dataset, again, { format: 'hf' });
    const fromBatch = await readParquet(splitFiles(path.join(root, 'hf'), 'train')[0]);
    const fromFolder = await readParquet(splitFiles(again, 'train')[0]);
    expect(fromFolder).toEqual(fromBatch);
    expect(await readParquet(path.join(again, 'items.parquet'))).toEqual(
      await readParquet(path.join(root, 'hf', 'items.parquet')),
    );
    const other = path.join(root, 'hf-seed-7');
    await exportDataset(dataset, other, { format: 'hf', splitSeed: 7, split: '60/20/20' });
    const ids = await idsBySplit(other);
    expect([ids.train.length, ids.validation.length, ids.test.length]).toEqual([18, 6, 6]);
    expect(ids.test.sort()).not.toEqual((await idsBySplit(path.join(root, 'hf'))).test.sort());
  });

  it('keeps the good rows of a damaged export, names the bad ones, and reads nothing outside it', async () => {
    const src = path.join(root, 'muse');
    const damaged = path.join(root, 'damaged');
    fs.cpSync(src, damaged, { recursive: true });
    const lines = fs.readFileSync(path.join(damaged, 'dataset.jsonl'), 'utf8').trim().split('\n');
    const escaping = JSON.parse(lines[2]);
    escaping.Conversations[0].Image = ['../../../etc/passwd'];
    lines[1] = '{"Conversation_id": 7';
    lines[2] = JSON.stringify(escaping);
    fs.writeFileSync(path.join(damaged, 'dataset.jsonl'), lines.join('\n') + '\n');
    const { dataset, problems } = await loadExportFolder(damaged);
    expect(dataset.records).toHaveLength(28);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/dataset\.jsonl:2: /);
    expect(problems[1]).toMatch(/dataset\.jsonl:3: Image: \.\.\/\.\.\/\.\.\/etc\/passwd is not a file inside/);
    expect(() => dataset.imageFile('../outside.png')).toThrow(/points outside/);
  });
});

describe('fine-tuning exports', () => {
  it('openai-ft: one valid chat example per recommender turn, images inline, the same split as hf', async () => {
    const dir = path.join(root, 'openai-ft');
    const r = await exportBatch(t.pool, batchId, dir, all, { format: 'openai-ft' });
    const hfIds = await idsBySplit(path.join(root, 'hf'));
    const { records } = (await loadExportFolder(path.join(root, 'muse'))).dataset;
    for (const split of ['train', 'validation', 'test'] as const) {
      const lines = fs
        .readFileSync(path.join(dir, `${split}.jsonl`), 'utf8')
        .trim()
        .split('\n');
      const examples = lines.map((l) => OpenAiFtExample.parse(JSON.parse(l)));
      expect(examples.length).toBe(r.splits![split]);
      // Every recommender turn after the shopper's first words is one example; none from another split.
      const mine = records.filter((x) => hfIds[split].includes(x.Conversation_id));
      const expected = mine.reduce(
        (n, x) =>
          n +
          x.Conversations.filter((c, k) => 'Assistant' in c && x.Conversations.slice(0, k).some((p) => 'User' in p))
            .length,
        0,
      );
      expect(examples.length).toBe(expected);
      const answers = new Set(
        mine.flatMap((x) => x.Conversations.flatMap((c) => ('Assistant' in c ? [c.Assistant] : []))),
      );
      for (const e of examples) expect(answers.has(e.messages.at(-1)!.content as string)).toBe(true);
    }
    const train = fs.readFileSync(path.join(dir, 'train.jsonl'), 'utf8');
    expect(train).toMatch(/"type":"image_url","image_url":\{"url":"data:image\/png;base64,/);
  });

  it('llava: ShareGPT-style examples with one <image> token per image file, the same split as hf', async () => {
    const dir = path.join(root, 'llava');
    const r = await exportBatch(t.pool, batchId, dir, all, { format: 'llava' });
    const hfIds = await idsBySplit(path.join(root, 'hf'));
    let withImages = 0;
    for (const split of ['train', 'validation', 'test'] as const) {
      const examples = LlavaExample.array().parse(JSON.parse(fs.readFileSync(path.join(dir, `${split}.json`), 'utf8')));
      expect(examples.length).toBe(r.splits![split]);
      for (const e of examples) {
        expect(hfIds[split]).toContain(e.id.replace(/-\d+$/, ''));
        const imgs = e.image === undefined ? [] : typeof e.image === 'string' ? [e.image] : e.image;
        if (imgs.length) withImages++;
        for (const p of imgs) expect(fs.statSync(path.join(dir, p)).size).toBeGreaterThan(0);
      }
    }
    expect(withImages).toBeGreaterThan(0);
  });
});
