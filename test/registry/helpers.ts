// A schema registry on an in-memory SQLite store and an ephemeral port, plus a tiny JSON client.
import { openMetadataStore, type MetadataStore } from '../../src/metadata/index.js';
import { RegistryServer, SchemaRegistry } from '../../src/registry/index.js';

export interface TestRegistry {
  url: string;
  registry: SchemaRegistry;
  store: MetadataStore;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; contentType: string | null }>;
  stop(): Promise<void>;
}

export async function startTestRegistry(opts: { maxBodyBytes?: number; store?: MetadataStore } = {}): Promise<TestRegistry> {
  const store = opts.store ?? (await openMetadataStore('sqlite::memory:'));
  const registry = new SchemaRegistry(store.schemas);
  const server = new RegistryServer(registry, { host: '127.0.0.1', port: 0, ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}) });
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    registry,
    store,
    async call(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...headers },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed, text, contentType: res.headers.get('content-type') };
    },
    async stop() {
      await server.close();
      if (!opts.store) await store.close();
    },
  };
}

export const avroRecord = (fields: unknown[], name = 'User', namespace = 'com.example') =>
  JSON.stringify({ type: 'record', name, namespace, fields });
