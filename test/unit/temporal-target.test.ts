import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalTarget } from '../../stack/temporal-target';

const stack = { address: '127.0.0.1:7233', uiUrl: 'http://127.0.0.1:8233' };

describe("the Temporal connection, read as Temporal's own tools read it", () => {
  it('falls back to the stack when nothing names a server', () => {
    const t = temporalTarget(stack, { PATH: process.env.PATH, TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' });
    expect(t).toMatchObject({ address: stack.address, namespace: 'default', uiUrl: stack.uiUrl });
    expect(t.connectionOptions.apiKey).toBeUndefined();
  });

  it('reads a temporal.toml profile (address, namespace, API key, mTLS files), and the environment wins over the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'muse-envconfig-'));
    const file = path.join(dir, 'temporal.toml');
    fs.writeFileSync(path.join(dir, 'client.pem'), 'CERT');
    fs.writeFileSync(path.join(dir, 'client.key'), 'KEY');
    fs.writeFileSync(
      file,
      [
        '[profile.cluster]',
        'address = "temporal.internal:7233"',
        'namespace = "research"',
        '[profile.cluster.tls]',
        `client_cert_path = "${path.join(dir, 'client.pem')}"`,
        `client_key_path = "${path.join(dir, 'client.key')}"`,
        'server_name = "temporal.internal"',
        '[profile.cloud]',
        'address = "muse.a1b2c.tmprl.cloud:7233"',
        'namespace = "muse.a1b2c"',
        'api_key = "secret-key"',
      ].join('\n'),
    );
    const cluster = temporalTarget(stack, { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cluster' });
    expect(cluster).toMatchObject({ address: 'temporal.internal:7233', namespace: 'research' });
    const tls = cluster.connectionOptions.tls as { serverNameOverride?: string; clientCertPair?: { crt: Uint8Array } };
    expect(tls.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe('CERT');

    const cloud = temporalTarget(stack, { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud.connectionOptions.apiKey).toBe('secret-key');
    // An API key turns TLS on, and a Cloud address has its UI in the cloud, not on :8233.
    expect(cloud.connectionOptions.tls).toBeTruthy();
    expect(cloud.uiUrl).toBe('https://cloud.temporal.io');

    const overridden = temporalTarget(stack, {
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cluster',
      TEMPORAL_ADDRESS: 'other:7233',
      TEMPORAL_NAMESPACE: 'ns2',
      MUSE_TEMPORAL_UI_URL: 'https://temporal-ui.internal/',
    });
    expect(overridden).toMatchObject({
      address: 'other:7233',
      namespace: 'ns2',
      uiUrl: 'https://temporal-ui.internal',
    });
  });

  it('names the problem when the file cannot be read as TOML', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muse-envconfig-')), 'temporal.toml');
    fs.writeFileSync(file, '[profile.default\naddress = ');
    expect(() => temporalTarget(stack, { TEMPORAL_CONFIG_FILE: file })).toThrow(/Temporal connection settings/);
  });
});
