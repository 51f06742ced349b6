// The handler registry: built once from the explicit list in handlers/index.ts. It refuses a
// duplicate API key or a version range the generated codec cannot encode, so a mistake shows
// at start-up rather than as a confused client. The same registry answers ApiVersions.
import type { Handler } from './types.js';

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export class HandlerRegistry {
  private readonly byKey = new Map<number, Handler>();

  constructor(handlers: readonly Handler[]) {
    for (const h of handlers) {
      const key = h.request.apiKey;
      const name = h.request.name.replace(/Request$/, '');
      if (this.byKey.has(key)) throw new Error(`two handlers registered for API key ${key} (${name})`);
      if (h.response.apiKey !== key) throw new Error(`${name}: request and response codecs disagree on the API key`);
      const spec = h.request.validVersions;
      if (h.minVersion < spec.min || h.maxVersion > spec.max || h.minVersion > h.maxVersion) {
        throw new Error(
          `${name}: versions ${h.minVersion}-${h.maxVersion} are outside the spec's ${spec.min}-${spec.max}`,
        );
      }
      this.byKey.set(key, h);
    }
  }

  get(apiKey: number): Handler | undefined {
    return this.byKey.get(apiKey);
  }

  /** The supported ranges, sorted by API key, as ApiVersions lists them. */
  versions(): ApiVersionRange[] {
    return [...this.byKey.values()]
      .map((h) => ({ apiKey: h.request.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
