// Test helper: reads protocol-spec/ (independently of the generator) and builds values for any
// message at any version, either deterministic samples or fast-check arbitraries.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { TaggedField } from '../../../src/protocol/primitives.js';
import type { MessageDescriptor } from '../../../src/protocol/generated/index.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SPEC_DIR = `${PROJECT_ROOT}protocol-spec`;

interface RawField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  default?: string | number | boolean;
  tag?: number | string;
  taggedVersions?: string;
  fields?: RawField[];
}

export interface RawSpec {
  name: string;
  type: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  fields: RawField[];
  commonStructs?: { name: string; fields: RawField[] }[];
}

interface Range {
  min: number;
  max: number;
}

function parseRange(s: string | undefined): Range | null {
  if (s === undefined || s === 'none') return null;
  if (s.endsWith('+')) return { min: Number(s.slice(0, -1)), max: Infinity };
  const [a, b] = s.split('-');
  return { min: Number(a), max: Number(b ?? a) };
}

function inRange(s: string | undefined, v: number): boolean {
  const r = parseRange(s);
  return r !== null && v >= r.min && v <= r.max;
}

export function loadSpecs(): RawSpec[] {
  return fs
    .readdirSync(SPEC_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(`${SPEC_DIR}/${f}`, 'utf8')) as RawSpec);
}

export function versionsOf(spec: RawSpec): number[] {
  const r = parseRange(spec.validVersions)!;
  const out: number[] = [];
  for (let v = r.min; v <= r.max; v++) out.push(v);
  return out;
}

export function isFlexible(spec: RawSpec, version: number): boolean {
  return inRange(spec.flexibleVersions, version);
}

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'uuid', 'bytes', 'records']);

export type Module = Record<string, unknown>;

export interface Message {
  spec: RawSpec;
  module: Module;
  descriptor: MessageDescriptor<unknown>;
}

export async function loadMessages(): Promise<Message[]> {
  const out: Message[] = [];
  for (const spec of loadSpecs()) {
    const url = new URL(`../../../src/protocol/generated/${spec.name}.js`, import.meta.url);
    const module = (await import(url.href)) as Module;
    out.push({ spec, module, descriptor: module[`${spec.name}Message`] as MessageDescriptor<unknown> });
  }
  return out;
}

/** One field as it stands at one version. */
interface FieldAt {
  camel: string;
  base: string;
  isArray: boolean;
  structFields: RawField[] | null;
  structName: string | null;
  present: boolean;
  tagged: boolean;
  nullable: boolean;
}

function structFieldsOf(spec: RawSpec, f: RawField): RawField[] {
  if (f.fields) return f.fields;
  const base = f.type.replace(/^\[\]/, '');
  const common = spec.commonStructs?.find((c) => c.name === base);
  if (!common) throw new Error(`${spec.name}: no struct ${base}`);
  return common.fields;
}

function fieldAt(spec: RawSpec, f: RawField, version: number): FieldAt {
  const isArray = f.type.startsWith('[]');
  const base = isArray ? f.type.slice(2) : f.type;
  const isStruct = !PRIMITIVES.has(base);
  const tagged = f.tag !== undefined;
  return {
    camel: f.name[0].toLowerCase() + f.name.slice(1),
    base,
    isArray,
    structFields: isStruct ? structFieldsOf(spec, f) : null,
    structName: isStruct ? base : null,
    present: inRange(f.versions, version) && (!tagged || inRange(f.taggedVersions, version)),
    tagged,
    nullable: inRange(f.nullableVersions, version),
  };
}

/** Tags that are known in this struct at this version (so unknown test tags must avoid them). */
function knownTags(spec: RawSpec, fields: RawField[], version: number): Set<number> {
  const s = new Set<number>();
  for (const f of fields) if (f.tag !== undefined && fieldAt(spec, f, version).present) s.add(Number(f.tag));
  return s;
}

// ---------------------------------------------------------------------------------------------
// Deterministic samples.

/** A small deterministic PRNG so failures reproduce. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    this.state = (Math.imul(this.state, 1103515245) + 12345) >>> 0;
    return this.state;
  }
  int(min: number, max: number): number {
    return min + (this.next() % (max - min + 1));
  }
}

function sampleScalar(base: string, rng: Rng, avoid: unknown): unknown {
  for (let attempt = 0; ; attempt++) {
    const v = sampleScalarOnce(base, rng);
    if (!equalScalar(v, avoid) || attempt > 5) return v;
  }
}

function equalScalar(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

function sampleScalarOnce(base: string, rng: Rng): unknown {
  switch (base) {
    case 'bool':
      return rng.int(0, 1) === 1;
    case 'int8':
      return rng.int(0, 255) - 128;
    case 'int16':
      return rng.int(0, 65535) - 32768;
    case 'uint16':
      return rng.int(0, 65535);
    case 'int32':
      return rng.next() | 0;
    case 'uint32':
      return rng.next();
    case 'int64':
      return BigInt.asIntN(64, (BigInt(rng.next()) << 32n) | BigInt(rng.next()));
    case 'float64':
      return (rng.next() / 7) * (rng.int(0, 1) ? -1 : 1);
    case 'string':
      return ['topic-', 'grüße-', 'ключ-', '😀-'][rng.int(0, 3)] + rng.next().toString(36);
    case 'uuid': {
      const b = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) b[i] = rng.int(0, 255);
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'bytes':
    case 'records': {
      const b = Buffer.alloc(rng.int(1, 12));
      for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
      return b;
    }
    default:
      throw new Error(`unknown type ${base}`);
  }
}

export interface SampleOptions {
  /** Put null in every field that is nullable at this version. */
  nulls: boolean;
  /** Add unknown tagged fields to every struct in flexible versions. */
  unknownTags: boolean;
}

/** Builds a value of a struct with every present field set to a non-default value. */
export function sampleStruct(
  msg: Message,
  structName: string,
  fields: RawField[],
  version: number,
  rng: Rng,
  opts: SampleOptions,
): Record<string, unknown> {
  const create = msg.module[`create${structName}`] as () => Record<string, unknown>;
  const v = create();
  for (const raw of fields) {
    const f = fieldAt(msg.spec, raw, version);
    if (!f.present) continue;
    if (f.nullable && opts.nulls) {
      v[f.camel] = null;
      continue;
    }
    const one = (): unknown =>
      f.structName ? sampleStruct(msg, f.structName, f.structFields!, version, rng, opts) : sampleScalar(f.base, rng, undefined);
    if (f.isArray) v[f.camel] = [one(), one()];
    else if (f.structName) v[f.camel] = one();
    else v[f.camel] = sampleScalar(f.base, rng, v[f.camel]);
  }
  if (opts.unknownTags && isFlexible(msg.spec, version)) {
    const known = knownTags(msg.spec, fields, version);
    let low = 0;
    while (known.has(low)) low++;
    const u: TaggedField[] = [
      { tag: low, data: Buffer.from([rng.int(0, 255), 1, 2]) },
      { tag: 200, data: Buffer.alloc(0) },
    ];
    v.unknownTaggedFields = u;
  }
  return v;
}

export function sampleMessage(msg: Message, version: number, seed: number, opts: SampleOptions): unknown {
  return sampleStruct(msg, msg.spec.name, msg.spec.fields, version, new Rng(seed), opts);
}

// ---------------------------------------------------------------------------------------------
// fast-check arbitraries.

function scalarArb(base: string): fc.Arbitrary<unknown> {
  switch (base) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer();
    case 'uint32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'int64':
      return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    case 'float64':
      return fc.double();
    case 'string':
      return fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
        const h = Buffer.from(b).toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      });
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
    default:
      throw new Error(`unknown type ${base}`);
  }
}

export function structArb(
  msg: Message,
  structName: string,
  fields: RawField[],
  version: number,
  depth = 0,
): fc.Arbitrary<Record<string, unknown>> {
  const create = msg.module[`create${structName}`] as () => Record<string, unknown>;
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const raw of fields) {
    const f = fieldAt(msg.spec, raw, version);
    if (!f.present) continue;
    let a: fc.Arbitrary<unknown> = f.structName
      ? structArb(msg, f.structName, f.structFields!, version, depth + 1)
      : scalarArb(f.base);
    if (f.isArray) a = fc.array(a, { maxLength: depth < 2 ? 3 : 1 });
    if (f.nullable) a = fc.option(a, { nil: null });
    parts[f.camel] = a;
  }
  if (isFlexible(msg.spec, version)) {
    const known = knownTags(msg.spec, fields, version);
    parts.unknownTaggedFields = fc
      .uniqueArray(fc.integer({ min: 0, max: 300 }).filter((t) => !known.has(t)), { maxLength: 3 })
      .chain((tags) =>
        fc.tuple(...tags.sort((x, y) => x - y).map((tag) => fc.uint8Array({ maxLength: 6 }).map((d) => ({ tag, data: Buffer.from(d) })))),
      );
  }
  return fc.record(parts).map((p) => {
    const v = { ...create(), ...p };
    // An empty unknown list decodes as absent.
    if (Array.isArray(v.unknownTaggedFields) && v.unknownTaggedFields.length === 0) delete v.unknownTaggedFields;
    return v;
  });
}

export function messageArb(msg: Message, version: number): fc.Arbitrary<unknown> {
  return structArb(msg, msg.spec.name, msg.spec.fields, version);
}
