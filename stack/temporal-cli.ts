import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { config } from './config';

/** The Temporal CLI muse runs: its dev server is the stack, and the tests' server. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
/** Later tags carry a replace directive that `go install` refuses. */
const CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;

/** sha256 of each release archive of TEMPORAL_CLI_VERSION, as Temporal published them. */
const RELEASE_SHA256: Readonly<Record<string, string>> = {
  linux_amd64: 'ddc95e08b0b076efd4ea9733a3f488eb7d2be875f8834e616cd2a37358b4852d',
  linux_arm64: 'bd1b0db9f18b051026de8bf6cc1505f2510f14bbb7a8b9a4a91fff46c77454f5',
  darwin_amd64: 'bbb73e2a31135abe50a1f1cdb35030c42961df618e8ce9c60ae89f201540c5d9',
  darwin_arm64: 'cca01b7ea35ad56e2a328d9ae596bf716bd22313ef63c7a761c88354457c2415',
};
/** The CLI archive is ~40 MB; anything far larger is not it. */
const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

/** An archive that is not the one expected: refused, never unpacked, and no other source is tried. */
export class ChecksumMismatch extends Error {}

function onPath(bin: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** This machine's release name (`linux_amd64`), or undefined where Temporal publishes no .tar.gz. */
export function releasePlatform(platform = process.platform, arch = process.arch): string | undefined {
  const os = { linux: 'linux', darwin: 'darwin' }[platform as string];
  const cpu = { x64: 'amd64', arm64: 'arm64' }[arch as string];
  return os && cpu ? `${os}_${cpu}` : undefined;
}

export const releaseArchiveUrl = (platform: string, base = config.temporalCliMirror) =>
  `${base.replace(/\/+$/, '')}/v${TEMPORAL_CLI_VERSION}/temporal_cli_${TEMPORAL_CLI_VERSION}_${platform}.tar.gz`;

const cachedCli = () => path.join(config.cacheDir, 'bin', 'temporal');

/**
 * Fetches `url` into `file`, hashing as it goes. Gives up when nothing arrives for the stall time (a
 * server that never answers, or stops mid-body), so a setup never waits for ever.
 */
async function download(url: string, file: string): Promise<string> {
  const abort = new AbortController();
  const stallMs = config.downloadStallSeconds * 1000;
  let timer = setTimeout(() => abort.abort(), stallMs);
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), stallMs);
  };
  const hash = createHash('sha256');
  const out = fs.createWriteStream(file);
  try {
    const res = await fetch(url, { signal: abort.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    let bytes = 0;
    for await (const chunk of Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
      alive();
      bytes += chunk.length;
      if (bytes > MAX_ARCHIVE_BYTES) throw new Error(`more than ${MAX_ARCHIVE_BYTES} bytes: not a CLI archive`);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    return hash.digest('hex');
  } catch (e) {
    if (abort.signal.aborted) throw new Error(`nothing arrived for ${config.downloadStallSeconds} s`, { cause: e });
    throw e;
  } finally {
    clearTimeout(timer);
    await new Promise<void>((r) => out.end(() => r()));
  }
}

/**
 * Fetches the pinned release archive, checks its sha256 and unpacks `temporal` into the cache. The binary
 * appears there in one rename, so a setup interrupted half-way leaves no half a CLI behind.
 */
export async function fetchReleaseCli(log: (m: string) => void, platform: string): Promise<string> {
  const url = releaseArchiveUrl(platform);
  const expected = config.temporalCliSha256 ?? RELEASE_SHA256[platform];
  const binDir = path.dirname(cachedCli());
  fs.mkdirSync(binDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(binDir, '.download-'));
  try {
    log(`downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} from ${url}`);
    const archive = path.join(work, 'temporal.tar.gz');
    const got = await download(url, archive);
    if (got !== expected)
      throw new ChecksumMismatch(
        `${url}: sha256 ${got}, expected ${expected}: refused, not unpacked (the archive is not Temporal's release ` +
          `${TEMPORAL_CLI_VERSION}); fix or unset MUSE_TEMPORAL_CLI_MIRROR, or set MUSE_TEMPORAL_CLI_SHA256 for a build of your own`,
      );
    const tar = spawnSync('tar', ['-xzf', archive, '-C', work, 'temporal'], { encoding: 'utf8' });
    const unpacked = path.join(work, 'temporal');
    if (tar.status !== 0 || !fs.existsSync(unpacked))
      throw new Error(`${url}: no temporal binary in the archive (${(tar.stderr || `tar exit ${tar.status}`).trim()})`);
    fs.chmodSync(unpacked, 0o755);
    fs.renameSync(unpacked, cachedCli());
    return cachedCli();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** MUSE_GO when set (empty: none), else PATH, else where Go's own installer puts it (often off PATH). */
function findGo(): string | undefined {
  if (config.goBinary !== undefined) return config.goBinary || undefined;
  return onPath('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

function goBuild(log: (m: string) => void, go: string): string {
  const binDir = path.dirname(cachedCli());
  log(`building the Temporal CLI (${CLI_MODULE}) with Go into ${binDir}; this takes a few minutes once`);
  fs.mkdirSync(binDir, { recursive: true });
  const r = spawnSync(go, ['install', CLI_MODULE], {
    env: { ...process.env, GOBIN: binDir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0 || !fs.existsSync(cachedCli()))
    throw new Error(`go install ${CLI_MODULE} failed (exit ${r.status})`);
  return cachedCli();
}

/**
 * The Temporal CLI, found in this order: TEMPORAL_CLI_PATH, PATH, our cache, Temporal's release archive
 * for this platform (unpacked into the cache), and only then a build with Go. Temporal's documentation
 * and its SDK's test environment download the same archive, so most machines never need Go.
 */
export async function ensureTemporalCli(log: (m: string) => void = () => {}): Promise<string> {
  if (config.temporalCliPath) {
    if (!fs.existsSync(config.temporalCliPath))
      throw new Error(`TEMPORAL_CLI_PATH=${config.temporalCliPath} does not exist`);
    return config.temporalCliPath;
  }
  const found = onPath('temporal');
  if (found) return found;
  if (fs.existsSync(cachedCli())) return cachedCli();
  const platform = releasePlatform();
  let fetchProblem = `Temporal publishes no archive for ${process.platform}/${process.arch}`;
  if (platform) {
    try {
      return await fetchReleaseCli(log, platform);
    } catch (e) {
      if (e instanceof ChecksumMismatch) throw e;
      fetchProblem = `${releaseArchiveUrl(platform)}: ${(e as Error).message}`;
      log(`could not fetch the Temporal CLI (${fetchProblem})`);
    }
  }
  const go = findGo();
  if (go) return goBuild(log, go);
  throw new Error(
    `No Temporal CLI: none on PATH or in ${cachedCli()}, the release archive failed (${fetchProblem}), and no Go ` +
      `to build one. Put the temporal binary on PATH or set TEMPORAL_CLI_PATH to it, set MUSE_TEMPORAL_CLI_MIRROR ` +
      `to a reachable copy of Temporal's releases, or install Go; then run \`muse setup\` again`,
  );
}
