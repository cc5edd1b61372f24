import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { RecordConversation, RecordSource } from '../readers/muse-record';

const PAGE = path.join(__dirname, 'page.html');
/** At most this many rows in one list answer; the page says how many matched. */
const LIST_LIMIT = 500;
const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

/** The list's filters, from the query string: each one narrows, an empty one does not. */
export function matches(c: RecordConversation, q: URLSearchParams): boolean {
  const opening = q.get('opening');
  const outcome = q.get('outcome');
  const category = q.get('category');
  const screener = q.get('screener');
  const minTotal = q.get('minTotal');
  const search = q.get('q')?.trim().toLowerCase();
  if (opening && c.opening !== opening) return false;
  if (outcome && c.outcome !== outcome) return false;
  if (category && c.category !== category) return false;
  if (screener && (c.review === null || c.review.fitsContext !== (screener === 'yes'))) return false;
  if (minTotal && (c.review === null || c.review.total < Number(minTotal))) return false;
  if (search) {
    const hay = [c.id, c.persona, c.scenario, c.requirement ?? '', ...c.utterances.map((u) => u.text)]
      .join('\n')
      .toLowerCase();
    if (!hay.includes(search)) return false;
  }
  return true;
}

const summary = (c: RecordConversation) => ({
  id: c.id,
  persona: c.persona.replace(/^Name: ([^,]+),.*$/, '$1'),
  category: c.category,
  opening: c.opening,
  outcome: c.outcome,
  total: c.review?.total ?? null,
  fitsContext: c.review?.fitsContext ?? null,
  utterances: c.utterances.length,
  requirement: c.requirement,
});

const distinct = (xs: Array<string | null>) => [...new Set(xs.filter((x): x is string => x !== null))].sort();

/**
 * Serves the viewer on 127.0.0.1 (or `host`): the page, a JSON API over the source's conversations,
 * and their images. Nothing outside the source is served: an image is served only by a name one of
 * its conversations uses.
 */
export async function serveViewer(
  src: RecordSource,
  o: { port: number; host?: string },
): Promise<{ url: string; close: () => Promise<void> }> {
  const page = fs.readFileSync(PAGE, 'utf8');
  const byId = new Map(src.conversations.map((c) => [c.id, c]));
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://viewer');
    try {
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(page);
      }
      if (url.pathname === '/api/meta')
        return json(res, 200, {
          title: src.title,
          conversations: src.conversations.length,
          problems: src.problems.slice(0, 20),
          problemCount: src.problems.length,
          categories: distinct(src.conversations.map((c) => c.category)),
          openings: distinct(src.conversations.map((c) => c.opening)),
          outcomes: distinct(src.conversations.map((c) => c.outcome)),
          reviewed: src.conversations.some((c) => c.review !== null),
        });
      if (url.pathname === '/api/conversations') {
        const hits = src.conversations.filter((c) => matches(c, url.searchParams));
        return json(res, 200, { total: hits.length, rows: hits.slice(0, LIST_LIMIT).map(summary) });
      }
      const one = /^\/api\/conversations\/(.+)$/.exec(url.pathname);
      if (one) {
        const c = byId.get(decodeURIComponent(one[1]));
        return c ? json(res, 200, c) : json(res, 404, { error: `no conversation ${one[1]}` });
      }
      if (url.pathname.startsWith('/files/')) {
        const name = decodeURIComponent(url.pathname.slice('/files/'.length));
        const file = src.imageFile(name);
        res.writeHead(200, {
          'content-type': IMAGE_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
          'cache-control': 'max-age=3600',
        });
        return fs.createReadStream(file).pipe(res);
      }
      json(res, 404, { error: `nothing at ${url.pathname}` });
    } catch (e) {
      json(res, 404, { error: (e as Error).message });
    }
  });
  // A slow or stalled client cannot hold the server.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
