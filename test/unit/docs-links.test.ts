import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Headings' anchors as GitHub makes them: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const h = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!h) continue;
    const base = h[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Every relative link of a markdown file (outside code), with its line. */
function links(markdown: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) return;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g))
      if (!/^[a-z]+:/.test(m[1])) out.push({ line: i + 1, target: m[1] });
  });
  return out;
}

describe('the docs', () => {
  it('keep every relative link and anchor alive (README, CONTRIBUTING, docs/)', () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
      for (const { line, target } of links(text)) {
        const [file, anchor] = target.split('#');
        const to = file ? path.join(path.dirname(path.join(ROOT, doc)), file) : path.join(ROOT, doc);
        if (!fs.existsSync(to)) broken.push(`${doc}:${line}: ${target}: no such file`);
        else if (anchor && to.endsWith('.md') && !anchors(fs.readFileSync(to, 'utf8')).has(anchor))
          broken.push(`${doc}:${line}: ${target}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README fits a page', () => {
    expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(200);
  });

  it('find a broken link when there is one (the check itself)', () => {
    expect(links('see [x](docs/NOPE.md#a) and `[y](z)`')).toEqual([{ line: 1, target: 'docs/NOPE.md#a' }]);
    expect(anchors('# The layers\n## Upgrading: open runs\n## The layers')).toEqual(
      new Set(['the-layers', 'upgrading-open-runs', 'the-layers-1']),
    );
  });
});
