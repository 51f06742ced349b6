// An HTTP proxy on 127.0.0.1 that sits in front of a server (s3rver, a broker's admin port, ...)
// and, with a configurable probability per request, injects one of these faults instead of
// forwarding:
//   'error500'    answers 500 Internal Server Error (S3 InternalError XML)
//   'slowDown503' answers 503 with S3's SlowDown XML body
//   'stall'       never answers (the socket stays open until the client gives up)
//   'reset'       resets the TCP connection (RST) without answering
// Otherwise the request is forwarded unchanged (Host header included, so SigV4 signatures made for
// the proxy's address still verify) and the response is piped back. It is a per-request HTTP
// proxy, so keep-alive connections that carry many requests get faults per request.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = 'error500' | 'slowDown503' | 'stall' | 'reset';
export const ALL_FAULTS: readonly FaultKind[] = ['error500', 'slowDown503', 'stall', 'reset'];

export interface FaultProxyOptions {
  /** Port of the server on 127.0.0.1 that requests are forwarded to. */
  targetPort: number;
  /** Probability in [0, 1] that a request gets a fault instead of being forwarded. */
  faultRate: number;
  /** Faults to pick from, uniformly (default: all four). */
  faults?: readonly FaultKind[];
  /** Random source in [0, 1); pass a seeded one for reproducible runs. */
  random?: () => number;
}

export interface FaultProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** How many requests got each treatment so far. */
  readonly stats: Record<FaultKind | 'forwarded', number>;
  setFaultRate(rate: number): void;
  close(): Promise<void>;
}

const xmlError = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
  `<RequestId>fault-proxy</RequestId><HostId>fault-proxy</HostId></Error>`;

/** A small deterministic PRNG (mulberry32) for reproducible fault sequences. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const faults = opts.faults ?? ALL_FAULTS;
  const random = opts.random ?? Math.random;
  let rate = opts.faultRate;
  const stats: Record<FaultKind | 'forwarded', number> = { error500: 0, slowDown503: 0, stall: 0, reset: 0, forwarded: 0 };
  const sockets = new Set<Socket>();
  const upstream = new http.Agent({ keepAlive: true, maxSockets: 256 });

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void => {
    // Read the request body first so the keep-alive connection stays usable for the next request.
    req.resume();
    req.once('end', () => {
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), ...extra });
      res.end(body);
    });
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = http.request(
      { host: '127.0.0.1', port: opts.targetPort, method: req.method, path: req.url, headers: req.headers, agent: upstream },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, upRes.headers);
        upRes.pipe(res);
        upRes.once('error', () => res.destroy());
      },
    );
    up.once('error', () => res.destroy());
    req.once('error', () => up.destroy());
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  const server = http.createServer((req, res) => {
    const fault = random() < rate ? faults[Math.floor(random() * faults.length)] : undefined;
    if (fault === undefined) {
      stats.forwarded++;
      forward(req, res);
      return;
    }
    stats[fault]++;
    switch (fault) {
      case 'error500':
        answer(req, res, 500, xmlError('InternalError', 'We encountered an internal error. Please try again.'));
        break;
      case 'slowDown503':
        answer(req, res, 503, xmlError('SlowDown', 'Please reduce your request rate.'), { 'retry-after': '1' });
        break;
      case 'stall':
        req.resume(); // swallow the body and never answer
        break;
      case 'reset': {
        const s = req.socket;
        if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
        else s.destroy();
        break;
      }
    }
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, s) => s.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stats,
    setFaultRate(r: number) {
      rate = r;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      upstream.destroy();
      await closed;
    },
  };
}
