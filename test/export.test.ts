import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBatch } from '../export';
import { batchStats, formatStats } from '../client/stats';
import { ConversationRecord } from '../schemas/record';
import { rig, runBatch, type TestRig } from './helpers';

let t: TestRig;
let batchId: string;
let out: string;

beforeAll(async () => {
  t = await rig();
  ({ batchId } = await runBatch(t, 'export', { size: 25, seed: 9, concurrency: 10 }));
  out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-out-')), batchId);
});
afterAll(() => t?.close());

describe('export in the Muse record format', () => {
  it('writes one valid record per conversation, a JSONL of them all and every referenced image', async () => {
    // Every conversation is kept whatever stage 4 said (the thresholds have tests of their own).
    const report = await exportBatch(t.pool, batchId, out, { minScore: 0, requireScreener: false });
    expect(report).toMatchObject({ conversations: 25, counts: { considered: 25, kept: 25, dropped: 0 } });
    const files = fs.readdirSync(path.join(out, 'conversations'));
    expect(files).toHaveLength(25);
    const lines = fs.readFileSync(path.join(out, 'dataset.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(25);
    const records = lines.map((l) => ConversationRecord.parse(JSON.parse(l)));
    for (const f of files)
      expect(JSON.parse(fs.readFileSync(path.join(out, 'conversations', f), 'utf8'))).toEqual(
        records.find((r) => `${r.Conversation_id}.json` === f),
      );

    const images = (
      await t.pool.query('SELECT i.id, im.sha256 FROM items i JOIN images im ON im.sha256 = i.image_sha256')
    ).rows;
    const digest = new Map(images.map((r) => [r.id, r.sha256]));
    for (const r of records) {
      expect(r.Simulated).toBe(true);
      expect(r.Requirement.length).toBeGreaterThan(0);
      expect(r.Mentioned_items).toEqual([...new Set(r.Conversations.flatMap((c) => c.Mentioned_item))]);
      expect(r.Mentioned_items).toContain(r.Target_item);
      for (const turn of r.Conversations) {
        expect(Object.keys(turn).filter((k) => k === 'User' || k === 'Assistant')).toHaveLength(1);
        for (const img of turn.Image) {
          const item = path.basename(img, path.extname(img));
          const bytes = fs.readFileSync(path.join(out, img));
          expect(createHash('sha256').update(bytes).digest('hex')).toBe(digest.get(item));
        }
      }
      if (r.Opening === 'image') {
        const shown = r.Conversations[1];
        expect('User' in shown).toBe(true);
        expect(shown.Image).toHaveLength(1);
        expect(shown.Image[0]).toMatch(new RegExp(`^images/${r.Mentioned_items[0]}\\.(png|jpg|webp)$`));
      }
    }
    const stored = (
      await t.pool.query(
        'SELECT count(*)::int AS n FROM utterances u JOIN conversations c ON c.id = u.conversation_id WHERE c.batch_id = $1',
        [batchId],
      )
    ).rows[0].n;
    expect(report.ids).toHaveLength(25);
    expect(records.reduce((n, r) => n + r.Conversations.length, 0)).toBe(stored);
    expect(report.utterances).toBe(stored);
  });

  it('replaces a previous export whole and leaves no temporary folder behind', async () => {
    fs.writeFileSync(path.join(out, 'conversations', 'stale.json'), 'from an older export');
    await exportBatch(t.pool, batchId, out);
    expect(fs.existsSync(path.join(out, 'conversations', 'stale.json'))).toBe(false);
    expect(fs.readdirSync(path.dirname(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(fs.readdirSync(out).filter((f) => f.includes('.tmp-') || f.endsWith('.old'))).toEqual([]);
  });

  it('never deletes what it did not write: a file, a folder of other files, the current folder', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-out-safe-'));
    const file = path.join(root, 'notes.txt');
    fs.writeFileSync(file, 'mine');
    await expect(exportBatch(t.pool, batchId, file)).rejects.toThrow(/is a file, not a folder/);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine');

    const folder = path.join(root, 'work');
    fs.mkdirSync(path.join(folder, 'src'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'src', 'a.ts'), 'code');
    await expect(exportBatch(t.pool, batchId, folder)).rejects.toThrow(/muse did not write \(src\).*--force/);
    expect(fs.readdirSync(folder)).toEqual(['src']);
    // --force writes the export beside them and touches nothing else, then and on a second run.
    for (let k = 0; k < 2; k++) {
      await exportBatch(t.pool, batchId, folder, {}, { force: true });
      expect(fs.readFileSync(path.join(folder, 'src', 'a.ts'), 'utf8')).toBe('code');
      expect(fs.readdirSync(folder).sort()).toEqual([
        '.muse-export',
        'conversations',
        'dataset.jsonl',
        'images',
        'items.jsonl',
        'src',
        'summary.json',
      ]);
    }
    // A user's own images/ is never replaced, even with --force.
    const other = path.join(root, 'photos');
    fs.mkdirSync(path.join(other, 'images'), { recursive: true });
    fs.writeFileSync(path.join(other, 'images', 'cat.png'), 'meow');
    await expect(exportBatch(t.pool, batchId, other, {}, { force: true })).rejects.toThrow(
      /images already there and not written by muse/,
    );
    expect(fs.readdirSync(path.join(other, 'images'))).toEqual(['cat.png']);

    // `--out .` in a folder with other files is refused the same way.
    const cwd = process.cwd();
    try {
      process.chdir(folder);
      fs.rmSync('.muse-export');
      fs.rmSync('summary.json');
      await expect(exportBatch(t.pool, batchId, '.')).rejects.toThrow(/muse did not write/);
    } finally {
      process.chdir(cwd);
    }
    expect(fs.readFileSync(path.join(folder, 'src', 'a.ts'), 'utf8')).toBe('code');
  });

  it('muse stats reports the batch as the database holds it', async () => {
    const st = await batchStats(t.pool, batchId, 10);
    const stored = (
      await t.pool.query(
        'SELECT count(*)::int AS n FROM utterances u JOIN conversations c ON c.id = u.conversation_id WHERE c.batch_id = $1',
        [batchId],
      )
    ).rows[0].n;
    expect(st.conversations).toBe(25);
    expect(st.utterances).toBe(stored);
    expect(Object.values(st.lengthDistribution).reduce((a, b) => a + b, 0)).toBe(25);
    expect(Object.values(st.actions).reduce((a, b) => a + b, 0)).toBe(stored);
    expect(st.actions.accept).toBe(25);
    expect(st.targetByRetrieval + st.targetForced).toBe(25);
    // The shared test database has no dense index: every retrieved recommendation was full-text.
    const retrieved = (
      await t.pool.query(
        `SELECT count(*)::int AS n FROM utterances u JOIN conversations c ON c.id = u.conversation_id WHERE c.batch_id = $1 AND u.action = 'recommend' AND NOT (u.meta->>'forced')::boolean`,
        [batchId],
      )
    ).rows[0].n;
    expect(st.retrievers).toEqual({ fulltext: retrieved });
    expect(st.selfBleuSample).toBe(10);
    for (const v of [st.distinct1, st.distinct2, st.distinct3, st.selfBleu]) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(formatStats(batchId, st)).toContain('83,148');
  });

  it('refuses a batch with nothing to export, without touching the output folder', async () => {
    await expect(exportBatch(t.pool, 'no-such-batch', path.join(out, 'x'))).rejects.toThrow(/no batch no-such-batch/);
    await expect(exportBatch(t.pool, batchId, path.join(out, 'x'), { minScore: 6.5 })).rejects.toThrow(/minScore/);
    expect(fs.existsSync(path.join(out, 'x'))).toBe(false);
  });
});
