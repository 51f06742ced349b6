// A client for the schema registry's REST API (Confluent-compatible): the routes the CLI
// needs, the registry's error body ({error_code, message}) turned into typed errors, and the
// wire format of schema-encoded records (magic byte 0, 4-byte schema id, payload).
import { ClientError, ConnectionError } from './errors.js';

export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schemaType: SchemaType;
  schema: string;
  references?: SchemaReference[];
}

/** An error answer of the registry; `errorCode` is its own code (40401 subject not found, ...). */
export class RegistryError extends ClientError {
  override name = 'RegistryError';
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }

  /** 404-class: subject, version or schema not found. */
  get notFound(): boolean {
    return this.status === 404;
  }
}

export class RegistryClient {
  private readonly base: string;

  constructor(url: string, private readonly timeoutMs = 30_000) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ClientError(`registry URL '${url}' does not parse; use http://host:8081`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ClientError(`registry URL '${url}' must be http:// or https://`);
    this.base = url.replace(/\/+$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { accept: 'application/vnd.schemaregistry.v1+json, application/json', ...(body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ConnectionError(`cannot reach the schema registry at ${this.base} (${cause}): check --registry-url and that the registry is running`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ClientError(`schema registry ${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error_code?: number; message?: string };
      throw new RegistryError(res.status, e.error_code ?? res.status, `schema registry: ${e.message ?? `HTTP ${res.status}`} (${method} ${path})`);
    }
    return json as T;
  }

  private static subject(s: string): string {
    return encodeURIComponent(s);
  }

  async register(subject: string, schema: string, schemaType: SchemaType = 'AVRO', references: SchemaReference[] = []): Promise<{ id: number }> {
    return this.call('POST', `/subjects/${RegistryClient.subject(subject)}/versions`, {
      schema,
      ...(schemaType === 'AVRO' ? {} : { schemaType }),
      ...(references.length ? { references } : {}),
    });
  }

  async subjects(): Promise<string[]> {
    return this.call('GET', '/subjects');
  }

  async versions(subject: string): Promise<number[]> {
    return this.call('GET', `/subjects/${RegistryClient.subject(subject)}/versions`);
  }

  async getVersion(subject: string, version: number | 'latest' = 'latest'): Promise<SubjectVersion> {
    const v = await this.call<SubjectVersion>('GET', `/subjects/${RegistryClient.subject(subject)}/versions/${version}`);
    return { ...v, schemaType: v.schemaType ?? 'AVRO' };
  }

  async schemaById(id: number): Promise<{ schema: string; schemaType: SchemaType }> {
    const s = await this.call<{ schema: string; schemaType?: SchemaType }>('GET', `/schemas/ids/${id}`);
    return { schema: s.schema, schemaType: s.schemaType ?? 'AVRO' };
  }

  /** Whether `schema` may be registered under `subject` given its compatibility level. */
  async checkCompatibility(subject: string, schema: string, schemaType: SchemaType = 'AVRO', version: number | 'latest' = 'latest'): Promise<{ compatible: boolean; messages: string[] }> {
    const r = await this.call<{ is_compatible: boolean; messages?: string[] }>(
      'POST',
      `/compatibility/subjects/${RegistryClient.subject(subject)}/versions/${version}?verbose=true`,
      { schema, ...(schemaType === 'AVRO' ? {} : { schemaType }) },
    );
    return { compatible: r.is_compatible, messages: r.messages ?? [] };
  }
}

/** Splits a schema-registry-framed payload; null when the bytes are not in that format. */
export function splitSchemaFrame(value: Buffer): { schemaId: number; payload: Buffer } | null {
  if (value.length < 5 || value[0] !== 0) return null;
  return { schemaId: value.readInt32BE(1), payload: value.subarray(5) };
}

export function frameWithSchemaId(schemaId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeInt32BE(schemaId, 1);
  return Buffer.concat([head, payload]);
}
