import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * muse's own metrics, in Prometheus' text format: every agent call by agent, model and outcome, its
 * tokens and cost, and the 429s an endpoint answered. Counters only, kept in this process (a worker);
 * Prometheus sums them across workers.
 */
type Labels = Record<string, string>;

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels, by = 1): void {
    if (!by) return;
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
      .join(',');
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}{${k}} ${v}`);
    return lines.join('\n');
  }
}

export const metrics = {
  calls: new Counter(
    'muse_agent_calls_total',
    'Agent calls by agent, model and outcome (ok, cached, http_error, network_error, invalid).',
  ),
  tokens: new Counter(
    'muse_agent_tokens_total',
    'Tokens of answered agent calls, by agent, model and kind (input, output).',
  ),
  cost: new Counter('muse_agent_cost_usd_total', 'What answered agent calls cost, in USD, by agent and model.'),
  rateLimited: new Counter('muse_rate_limited_total', 'Requests the endpoint refused with 429, by agent and model.'),
};

/** Counts one call as the ledger records it. */
export function countCall(row: {
  agent: string;
  model: string;
  status: string;
  httpStatus?: number;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number | null;
}): void {
  const l = { agent: row.agent, model: row.model };
  metrics.calls.inc({ ...l, status: row.status });
  metrics.tokens.inc({ ...l, kind: 'input' }, row.inputTokens ?? 0);
  metrics.tokens.inc({ ...l, kind: 'output' }, row.outputTokens ?? 0);
  metrics.cost.inc(l, row.costUsd ?? 0);
  if (row.httpStatus === 429) metrics.rateLimited.inc(l);
}

export const renderMetrics = () =>
  Object.values(metrics)
    .map((c) => c.render())
    .join('\n') + '\n';

/**
 * Serves GET /metrics on 127.0.0.1:`port` (or `host`): muse's counters, then the Temporal worker's own
 * (task slots, schedule-to-start and execution latencies, failures), fetched from the runtime's
 * Prometheus endpoint at `runtimeUrl`, so one scrape target holds both.
 */
export async function serveMetrics(o: { port: number; host?: string; runtimeUrl?: string }) {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('GET /metrics\n');
      return;
    }
    void (async () => {
      let runtime = '';
      if (o.runtimeUrl) {
        try {
          runtime = await (await fetch(o.runtimeUrl, { signal: AbortSignal.timeout(2_000) })).text();
        } catch (e) {
          runtime = `# the Temporal runtime's metrics did not answer: ${(e as Error).message}\n`;
        }
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics() + runtime);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', resolve);
  });
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}/metrics`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
