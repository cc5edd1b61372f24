/**
 * The worker's exact dense search at catalog sizes beyond the demo: N random items of D dimensions in a
 * scratch database (created on the stack's PostgreSQL server and dropped after), then the time to load
 * the index into memory and the time per top-50 query.
 *
 *   npx tsx bench/dense.ts [-n 20000] [--dims 1024]   (after `npx muse up`)
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DenseIndex } from '../catalog/dense';
import { createPool, migrate } from '../db/pool';
import { stackEndpoints } from '../stack';
import { ensureDatabase } from '../stack/postgres';

async function main() {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '20000' }, dims: { type: 'string', default: '1024' } },
  });
  const [n, dims] = [Number(values.n), Number(values.dims)];
  const u = new URL(stackEndpoints().databaseUrl);
  const admin = u.toString();
  u.pathname = '/muse_bench_dense';
  await ensureDatabase(u.toString());
  await migrate(u.toString());
  const pool = createPool(u.toString());
  try {
    let t0 = performance.now();
    await pool.query(
      `INSERT INTO items (id, source, title) SELECT 'b' || lpad(g::text, 7, '0'), 'demo', 'item ' || g FROM generate_series(1, $1) g`,
      [n],
    );
    await pool.query(
      `INSERT INTO item_embeddings (model, item_id, text_sha256, dims, vector)
      SELECT 'bench', id, '-', $1, (SELECT array_agg(random()::real) FROM generate_series(1, $1) WHERE id IS NOT NULL) FROM items`,
      [dims],
    );
    console.log(`stored ${n} x ${dims} random vectors in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const index = new DenseIndex(pool, 'bench');
    t0 = performance.now();
    await index.size();
    console.log(
      `load: ${((performance.now() - t0) / 1000).toFixed(2)} s (resident memory after: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB)`,
    );
    const query = Float32Array.from({ length: dims }, () => Math.random());
    t0 = performance.now();
    for (let i = 0; i < 20; i++) await index.search(query, { k: 50, requireImage: false });
    console.log(`search: ${((performance.now() - t0) / 20).toFixed(1)} ms per top-50 query`);
  } finally {
    await pool.end();
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query('DROP DATABASE muse_bench_dense WITH (FORCE)');
    await c.end();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
