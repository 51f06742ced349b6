// What the registry needs from a schema format: parse (with references), identity, compatibility
// by the format's own reading rules, and payload decoding for broker-side full validation.

import type { ResolvedReference, SchemaType } from '../types.js';

export interface ParsedSchema {
  readonly schemaType: SchemaType;
  /** The text to store and return: as registered, or the normalized form when asked for. */
  readonly text: string;
  /** Equal identities (with equal references) share one schema id. */
  readonly identity: string;
  /** The name RecordNameStrategy derives a subject from (Avro record, first Protobuf message, JSON title). */
  readonly recordName: string | null;
}

export interface SchemaFormat<P extends ParsedSchema = ParsedSchema> {
  readonly schemaType: SchemaType;
  /** Throws InvalidSchemaError naming what is wrong. */
  parse(text: string, references: readonly ResolvedReference[], normalize: boolean): P;
  /**
   * Why data written with `writer` could not be read with `reader` ([] when it can).
   * BACKWARD asks canRead(new, old); FORWARD asks canRead(old, new).
   */
  canRead(reader: P, writer: P): string[];
  /** Decodes a payload (after the 5-byte Confluent header); an error message, or null when valid. */
  validatePayload(schema: P, payload: Buffer): string | null;
}

export class InvalidSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSchemaError';
  }
}

/** Deepest nesting a schema document may have: parsers and checkers recurse, so bound them first. */
export const MAX_SCHEMA_DEPTH = 128;

/** Nesting depth of a parsed JSON value, measured without recursion so a hostile input cannot overflow the stack. */
export function jsonDepth(value: unknown, limit = MAX_SCHEMA_DEPTH): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

export function parseJsonDocument(text: string, what: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidSchemaError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (jsonDepth(doc) > MAX_SCHEMA_DEPTH) {
    throw new InvalidSchemaError(`${what} nests deeper than ${MAX_SCHEMA_DEPTH} levels; flatten it or use named types`);
  }
  return doc;
}

/** JSON with object keys sorted at every level: the normalized form of a JSON document. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
