// The registry's REST API on node:http, with Confluent's paths, bodies and error codes.
// Bodies are read under a size cap (413 beyond it); malformed JSON is a 400 with error_code 400,
// and a POST/PUT body of a type Confluent does not consume is a 415, as Confluent's Jersey stack
// answers; any unexpected failure is 500 / 50001.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import { RegistryError, storeError } from './errors.js';
import { parseSchemaRequest, type SchemaRegistry, type SchemaView } from './service.js';
import { SCHEMA_TYPES } from './types.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/**
 * Request body types Confluent's resources consume (their @Consumes list). A request without a
 * Content-Type counts as application/octet-stream, as Jersey treats it, so bare clients still work;
 * anything else (curl -d's application/x-www-form-urlencoded, text/plain) is 415, as Confluent answers.
 */
const CONSUMED_TYPES = new Set([CONTENT_TYPE, 'application/vnd.schemaregistry+json', 'application/json', 'application/octet-stream']);

function consumable(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0]!.trim().toLowerCase() ?? '';
  if (type === '' || type === '*/*' || type === 'application/*') return true;
  return CONSUMED_TYPES.has(type);
}

export interface RegistryServerOptions {
  host?: string;
  port: number;
  maxBodyBytes?: number;
}

type Query = URLSearchParams;
interface Request {
  params: string[];
  query: Query;
  body: () => Promise<unknown>;
}
type Handler = (req: Request) => Promise<unknown>;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const flag = (q: Query, name: string) => q.get(name)?.toLowerCase() === 'true';

/** Confluent omits schemaType for AVRO and references when there are none. */
function confluentView<T extends SchemaView>(v: T): Omit<T, 'schemaType' | 'references'> & Partial<SchemaView> {
  const { schemaType, references, ...rest } = v;
  return { ...rest, ...(schemaType !== 'AVRO' ? { schemaType } : {}), ...(references.length ? { references } : {}) };
}

function schemaId(s: string): number {
  if (!/^\d{1,10}$/.test(s) || Number(s) < 1 || Number(s) > 0x7fffffff) throw new RegistryError(404, 40403, `Schema ${s} not found`);
  return Number(s);
}

function routes(registry: SchemaRegistry): Route[] {
  const S = '([^/]+)';
  const r = (method: string, path: string, handler: Handler): Route => ({ method, pattern: new RegExp(`^${path}/?$`), handler });
  return [
    r('GET', '/schemas/types', async () => [...SCHEMA_TYPES].sort()),
    r('GET', `/schemas/ids/${S}`, async ({ params }) => confluentView(await registry.getSchema(schemaId(params[0]!)))),
    r('GET', `/schemas/ids/${S}/schema`, async ({ params }) => new RawText((await registry.getSchema(schemaId(params[0]!))).schema)),
    r('GET', `/schemas/ids/${S}/subjects`, async ({ params, query }) => registry.subjectsOfSchema(schemaId(params[0]!), flag(query, 'deleted'))),
    r('GET', `/schemas/ids/${S}/versions`, async ({ params, query }) => registry.versionsOfSchema(schemaId(params[0]!), flag(query, 'deleted'))),
    r('GET', '/subjects', async ({ query }) => registry.listSubjects(flag(query, 'deleted'))),
    r('GET', `/subjects/${S}/versions`, async ({ params, query }) => registry.listVersions(params[0]!, flag(query, 'deleted'))),
    r('GET', `/subjects/${S}/versions/${S}`, async ({ params, query }) =>
      confluentView(await registry.getVersion(params[0]!, params[1]!, flag(query, 'deleted'))),
    ),
    r('GET', `/subjects/${S}/versions/${S}/schema`, async ({ params, query }) =>
      new RawText((await registry.getVersion(params[0]!, params[1]!, flag(query, 'deleted'))).schema),
    ),
    r('GET', `/subjects/${S}/versions/${S}/referencedby`, async ({ params }) => registry.referencedBy(params[0]!, params[1]!)),
    r('POST', `/subjects/${S}/versions`, async ({ params, query, body }) =>
      registry.register(params[0]!, parseSchemaRequest(await body()), flag(query, 'normalize')),
    ),
    r('POST', `/subjects/${S}`, async ({ params, query, body }) =>
      confluentView(await registry.lookup(params[0]!, parseSchemaRequest(await body()), flag(query, 'normalize'), flag(query, 'deleted'))),
    ),
    r('DELETE', `/subjects/${S}`, async ({ params, query }) => registry.deleteSubject(params[0]!, flag(query, 'permanent'))),
    r('DELETE', `/subjects/${S}/versions/${S}`, async ({ params, query }) =>
      registry.deleteVersion(params[0]!, params[1]!, flag(query, 'permanent')),
    ),
    r('POST', `/compatibility/subjects/${S}/versions(?:/${S})?`, async ({ params, query, body }) => {
      const messages = await registry.testCompatibility(params[0]!, params[1] ?? null, parseSchemaRequest(await body()), flag(query, 'normalize'));
      return flag(query, 'verbose') ? { is_compatible: messages.length === 0, messages } : { is_compatible: messages.length === 0 };
    }),
    r('GET', '/config', async () => ({ compatibilityLevel: await registry.getCompatibility(null, true) })),
    r('PUT', '/config', async ({ body }) => ({ compatibility: await registry.setCompatibility(null, field(await body(), 'compatibility')) })),
    r('DELETE', '/config', async () => ({ compatibilityLevel: await registry.deleteCompatibility(null) })),
    r('GET', `/config/${S}`, async ({ params, query }) => ({
      compatibilityLevel: await registry.getCompatibility(params[0]!, flag(query, 'defaultToGlobal')),
    })),
    r('PUT', `/config/${S}`, async ({ params, body }) => ({
      compatibility: await registry.setCompatibility(params[0]!, field(await body(), 'compatibility')),
    })),
    r('DELETE', `/config/${S}`, async ({ params }) => ({ compatibilityLevel: await registry.deleteCompatibility(params[0]!) })),
    r('GET', '/mode', async () => ({ mode: await registry.getMode(null, true) })),
    r('PUT', '/mode', async ({ body, query }) => ({ mode: await registry.setMode(null, field(await body(), 'mode'), flag(query, 'force')) })),
    r('GET', `/mode/${S}`, async ({ params, query }) => ({ mode: await registry.getMode(params[0]!, flag(query, 'defaultToGlobal')) })),
    r('PUT', `/mode/${S}`, async ({ params, body, query }) => ({
      mode: await registry.setMode(params[0]!, field(await body(), 'mode'), flag(query, 'force')),
    })),
    r('DELETE', `/mode/${S}`, async ({ params }) => ({ mode: await registry.deleteMode(params[0]!) })),
    r('GET', '/', async () => ({})),
  ];
}

function field(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

/** A response sent as the stored text itself (the /schema endpoints). */
class RawText {
  constructor(readonly text: string) {}
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class RegistryServer {
  private readonly server: Server;
  private readonly table: Route[];
  private readonly maxBodyBytes: number;

  constructor(
    registry: SchemaRegistry,
    private readonly options: RegistryServerOptions,
    private readonly log?: Logger,
  ) {
    this.table = routes(registry);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  listen(host = this.options.host ?? '::'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/{2,}/g, '/');
    let status = 200;
    let payload: unknown;
    try {
      let match: RegExpExecArray | null = null;
      let pathKnown = false;
      let route: Route | undefined;
      for (const candidate of this.table) {
        const m = candidate.pattern.exec(path);
        if (!m) continue;
        pathKnown = true;
        if (candidate.method === method) {
          route = candidate;
          match = m;
          break;
        }
      }
      if (!route || !match) {
        throw pathKnown ? new RegistryError(405, 405, `HTTP ${method} is not allowed on ${path}`) : new RegistryError(404, 404, `HTTP 404 Not Found: ${path}`);
      }
      if ((method === 'POST' || method === 'PUT') && !consumable(req.headers['content-type'])) {
        throw new RegistryError(
          415,
          415,
          `HTTP 415 Unsupported Media Type: the body was sent as ${req.headers['content-type']}; send it as ${CONTENT_TYPE} (or application/json)`,
        );
      }
      const params = match.slice(1).filter((p) => p !== undefined).map((p) => decodeURIComponent(p));
      payload = await route.handler({ params, query: url.searchParams, body: () => this.jsonBody(req) });
    } catch (err) {
      const e = this.toRegistryError(err, method, path);
      status = e.status;
      payload = e.toBody();
    }
    if (!req.complete) req.resume();
    if (payload instanceof RawText) {
      res.writeHead(status, { 'content-type': CONTENT_TYPE });
      res.end(payload.text);
      return;
    }
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async jsonBody(req: IncomingMessage): Promise<unknown> {
    const raw = await readBody(req, this.maxBodyBytes);
    if (raw.length === 0) throw new RegistryError(400, 400, 'the request needs a JSON body');
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new RegistryError(400, 400, `the request body is not valid JSON: ${(err as Error).message}`);
    }
  }

  private toRegistryError(err: unknown, method: string, path: string): RegistryError {
    if (err instanceof RegistryError) return err;
    if (err instanceof BodyTooLarge) return new RegistryError(413, 413, `the request body is larger than ${this.maxBodyBytes} bytes`);
    if (err instanceof URIError) return new RegistryError(404, 404, `malformed path ${path}`);
    this.log?.error({ err, method, path }, 'schema registry request failed');
    return storeError((err as Error)?.message ?? String(err));
  }
}
