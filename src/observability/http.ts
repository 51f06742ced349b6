// The admin HTTP listener: /metrics (Prometheus text), /health (the process is alive) and
// /ready (every registered readiness check passes). Readiness is a list other modules add to
// (metadata store, object store, WAL recovery, leases), so this file knows none of them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';

/** Resolves when ready; rejects (or resolves false) with the reason when not. */
export type ReadinessCheck = () => Promise<void | boolean> | void | boolean;

/** A slow dependency must not hang a probe: Kubernetes' default probe timeout is 1 s. */
const CHECK_TIMEOUT_MS = 2_000;

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
}

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Adds (or replaces) a named check. */
  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  remove(name: string): void {
    this.checks.delete(name);
  }

  async run(): Promise<{ ready: boolean; checks: CheckResult[] }> {
    const results = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<CheckResult> => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
          });
          const ok = await Promise.race([Promise.resolve().then(check), timeout]);
          return ok === false ? { name, ok: false, error: 'not ready' } : { name, ok: true };
        } catch (err) {
          return { name, ok: false, error: (err as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready: results.every((r) => r.ok), checks: results };
  }
}

export interface AdminHttpOptions {
  host: string;
  port: number;
  metrics: BrokerMetrics;
  readiness: Readiness;
  log: Logger;
}

export class AdminHttpServer {
  private readonly server: http.Server;

  constructor(private readonly opts: AdminHttpOptions) {
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err) => {
        opts.log.error({ err, path: req.url }, 'admin HTTP request failed');
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
    // Prometheus keeps scrape connections alive; do not let them hold up a graceful stop.
    this.server.keepAliveTimeout = 5_000;
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    switch (path) {
      case '/metrics': {
        const { contentType, body } = await this.opts.metrics.exposition();
        return send(res, 200, contentType, body);
      }
      case '/health':
        return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }) + '\n');
      case '/ready': {
        const r = await this.opts.readiness.run();
        if (!r.ready) this.opts.log.debug({ checks: r.checks }, 'not ready');
        return send(res, r.ready ? 200 : 503, 'application/json', JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks }) + '\n');
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /health or /ready\n');
    }
  }

  async listen(host = this.opts.host): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    setTimeout(() => this.server.closeAllConnections(), 1_000).unref();
    await closed;
  }
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
