import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli, releasePlatform, TEMPORAL_CLI_VERSION } from '../stack/temporal-cli';
import { runMuse } from './helpers';

/**
 * `muse setup` on a machine without Go: the Temporal CLI comes from a release archive. Here a local
 * server stands in for Temporal's release host (MUSE_TEMPORAL_CLI_MIRROR), serving the CLI this machine
 * has, packed as Temporal packs its releases (`temporal` and `LICENSE` in a .tar.gz).
 */
const archivePath = `/v${TEMPORAL_CLI_VERSION}/temporal_cli_${TEMPORAL_CLI_VERSION}_${releasePlatform()}.tar.gz`;

let archive: string;
let sha256: string;
let server: http.Server;
let mirror: string;
const hits: string[] = [];

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-release-'));
  fs.copyFileSync(await ensureTemporalCli(), path.join(dir, 'temporal'));
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'MIT License (the test stand-in for the release archive)\n');
  archive = path.join(dir, 'release.tar.gz');
  execFileSync('tar', ['-I', 'gzip -1', '-cf', archive, '-C', dir, 'temporal', 'LICENSE']);
  sha256 = createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url !== archivePath) return void res.writeHead(404).end('Not Found');
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': fs.statSync(archive).size });
    fs.createReadStream(archive).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mirror = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}, 120_000);
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A user's machine with Node.js and neither Go nor the CLI: a PATH of the system's basics, an empty cache. */
function newcomer(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    PATH: '/usr/bin:/bin',
    HOME: process.env.HOME,
    MUSE_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'muse-cache-')),
    MUSE_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'muse-home-')),
    MUSE_GO: '',
    ...extra,
  };
  for (const bin of ['temporal', 'go'])
    expect(execFileSync('sh', ['-c', `command -v ${bin} || true`], { env: e }).toString()).toBe('');
  return e;
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';

describe('muse setup without Go', () => {
  it('fetches the release archive, checks its sha256, unpacks the CLI into the cache; the second run uses the cache', async () => {
    const e = newcomer({ MUSE_TEMPORAL_CLI_MIRROR: mirror, MUSE_TEMPORAL_CLI_SHA256: sha256 });
    const first = await runMuse(e, ['setup'], 120_000);
    expect(first.code, first.stderr).toBe(0);
    const cli = path.join(e.MUSE_CACHE_DIR!, 'bin', 'temporal');
    expect(first.stdout).toContain(`downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} from ${mirror}${archivePath}`);
    expect(first.stdout).toContain(`Temporal CLI: ${cli}`);
    expect(execFileSync(cli, ['--version']).toString()).toMatch(/temporal version/);
    // Nothing of the download is left beside the binary.
    expect(fs.readdirSync(path.dirname(cli))).toEqual(['temporal']);

    const fetched = hits.length;
    const second = await runMuse(e, ['setup'], 60_000);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(`Temporal CLI: ${cli}\n`);
    expect(hits.length).toBe(fetched);
  });

  it('refuses an archive whose sha256 is not the pinned one, in one line, and unpacks nothing', async () => {
    // No MUSE_TEMPORAL_CLI_SHA256: the archive must be Temporal's own release, which this one is not.
    const e = newcomer({ MUSE_TEMPORAL_CLI_MIRROR: mirror, MUSE_GO: process.env.MUSE_GO ?? '/usr/local/go/bin/go' });
    const r = await runMuse(e, ['setup'], 60_000);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toMatch(
      new RegExp(
        `${archivePath.replaceAll('.', '\\.')}: sha256 ${sha256}, expected [0-9a-f]{64}: refused, not unpacked`,
      ),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // A mismatch is not a reason to try another source: Go is there, and was not used.
    expect(r.stdout).not.toContain('building the Temporal CLI');
    expect(fs.readdirSync(path.join(e.MUSE_CACHE_DIR!, 'bin'))).toEqual([]);
  });

  it('gives up on a server that never answers, and with no Go names the three ways out in one line', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const e = newcomer({ MUSE_TEMPORAL_CLI_MIRROR: `http://127.0.0.1:${port}`, MUSE_DOWNLOAD_STALL_SECONDS: '2' });
      const r = await runMuse(e, ['setup'], 60_000);
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(30_000);
      const line = lastLine(r.stderr);
      expect(line).toContain('nothing arrived for 2 s');
      expect(line).toContain('no Go to build one');
      for (const way of ['TEMPORAL_CLI_PATH', 'MUSE_TEMPORAL_CLI_MIRROR', 'install Go']) expect(line).toContain(way);
    } finally {
      silent.close();
    }
  });

  it('falls back to building with Go when the archive cannot be reached', async () => {
    const closed = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const go = execFileSync('sh', ['-c', 'command -v go || echo /usr/local/go/bin/go']).toString().trim();
    const e = newcomer({ MUSE_TEMPORAL_CLI_MIRROR: `http://127.0.0.1:${closed}`, MUSE_GO: go });
    // go install needs its own environment (module and build caches under HOME, the proxy setting).
    for (const k of ['GOPATH', 'GOMODCACHE', 'GOCACHE', 'GOPROXY', 'GOFLAGS'])
      if (process.env[k]) e[k] = process.env[k];
    const r = await runMuse(e, ['setup'], 600_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('could not fetch the Temporal CLI');
    expect(r.stdout).toContain('building the Temporal CLI');
    const cli = path.join(e.MUSE_CACHE_DIR!, 'bin', 'temporal');
    expect(r.stdout).toContain(`Temporal CLI: ${cli}`);
    expect(execFileSync(cli, ['--version']).toString()).toMatch(/temporal version/);
  }, 620_000);
});
