// JSON: JSON Schema drafts 4, 6, 7, 2019-09 and 2020-12, compiled by ajv (draft 4 is rewritten to
// its draft-6 equivalent, as ajv 8 has no draft-4 mode). Compatibility follows Confluent's rules
// for JSON Schema: the reader accepts every document the writer accepts. Adding a property is
// compatible only to a closed content model (additionalProperties false), removing one only from
// an open one; enums, ranges, lengths and patterns may widen but not narrow; integer widens to number.

import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { ResolvedReference } from '../types.js';
import { InvalidSchemaError, parseJsonDocument, sortedJson, type ParsedSchema, type SchemaFormat } from './format.js';

const DRAFT6_META = createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as object;

type Json = boolean | Record<string, unknown>;

export interface JsonSchema extends ParsedSchema {
  readonly document: Json;
  /** Referenced documents by the name the schema's $ref uses. */
  readonly referenced: ReadonlyMap<string, Json>;
  readonly validate: ValidateFunction;
}

function newAjv(doc: Json): Ajv {
  const dialect = typeof doc === 'object' && typeof doc.$schema === 'string' ? doc.$schema : '';
  // Formats are annotations unless a format plugin is installed; Confluent does not assert them either.
  const opts = { strict: false, validateFormats: false, allErrors: false, logger: false as const };
  if (dialect.includes('2020-12')) return new Ajv2020(opts);
  if (dialect.includes('2019-09')) return new Ajv2019(opts);
  const ajv = new Ajv(opts);
  // Drafts 4 (rewritten below) and 6 name the draft-06 meta-schema, which ajv ships but does not add.
  ajv.addMetaSchema(DRAFT6_META);
  return ajv;
}

/** Rewrites draft-4 keywords to their draft-6 meaning: `id` becomes `$id`, boolean exclusive bounds become numbers. */
function fromDraft4(doc: Json): Json {
  if (typeof doc !== 'object' || !(typeof doc.$schema === 'string' && doc.$schema.includes('draft-04'))) return doc;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k === 'id' && typeof v === 'string' ? '$id' : k] = rewrite(v);
    for (const [flag, bound] of [['exclusiveMaximum', 'maximum'], ['exclusiveMinimum', 'minimum']] as const) {
      if (typeof out[flag] === 'boolean') {
        if (out[flag] === true && typeof out[bound] === 'number') {
          out[flag] = out[bound];
          delete out[bound];
        } else delete out[flag];
      }
    }
    return out;
  };
  const out = rewrite(doc) as Record<string, unknown>;
  out.$schema = 'http://json-schema.org/draft-06/schema#';
  return out;
}

function asSchema(doc: unknown, what: string): Json {
  if (typeof doc === 'boolean' || (doc !== null && typeof doc === 'object' && !Array.isArray(doc))) return doc as Json;
  throw new InvalidSchemaError(`${what} must be a JSON object or a boolean`);
}

export const jsonSchemaFormat: SchemaFormat<JsonSchema> = {
  schemaType: 'JSON',

  parse(text, references: readonly ResolvedReference[], normalize) {
    const document = asSchema(parseJsonDocument(text, 'the JSON schema'), 'the JSON schema');
    const ajv = newAjv(document);
    const referenced = new Map<string, Json>();
    for (const ref of references) {
      if (ref.schemaType !== 'JSON') throw new InvalidSchemaError(`reference '${ref.name}' is ${ref.schemaType}, not JSON`);
      const doc = fromDraft4(asSchema(parseJsonDocument(ref.schema, `referenced schema '${ref.name}'`), `referenced schema '${ref.name}'`));
      referenced.set(ref.name, doc);
      try {
        if (!ajv.getSchema(ref.name)) ajv.addSchema(doc as object, ref.name);
      } catch (err) {
        throw new InvalidSchemaError(`referenced schema '${ref.name}': ${(err as Error).message}`);
      }
    }
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(fromDraft4(document) as object);
    } catch (err) {
      throw new InvalidSchemaError(`the JSON schema does not compile: ${(err as Error).message}`);
    }
    const normalized = sortedJson(document);
    const title = typeof document === 'object' && typeof document.title === 'string' ? document.title : null;
    return {
      schemaType: 'JSON',
      document: fromDraft4(document),
      referenced,
      validate,
      text: normalize ? normalized : text,
      identity: normalize ? normalized : JSON.stringify(document),
      recordName: title,
    };
  },

  canRead(reader, writer) {
    const out: string[] = [];
    new JsonCompatibility(reader, writer, out).check(reader.document, writer.document, '#');
    return out;
  },

  validatePayload(schema, payload) {
    let doc: unknown;
    try {
      doc = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return `the value is not JSON: ${(err as Error).message}`;
    }
    if (schema.validate(doc)) return null;
    const e = schema.validate.errors?.[0];
    return `the value does not match its JSON schema: ${e ? `${e.instancePath || '/'} ${e.message}` : 'invalid'}`;
  },
};


const ANY: Json = true;

class JsonCompatibility {
  private readonly seen = new Set<string>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  constructor(
    private readonly reader: JsonSchema,
    private readonly writer: JsonSchema,
    private readonly out: string[],
  ) {}

  private id(node: Json): number {
    if (typeof node === 'boolean') return node ? -1 : -2;
    let n = this.ids.get(node);
    if (n === undefined) this.ids.set(node, (n = this.nextId++));
    return n;
  }

  /** Follows local and referenced $ref targets; a recursive schema is checked once per pair of nodes. */
  private deref(node: Json, side: JsonSchema, depth = 0): Json {
    if (typeof node !== 'object' || typeof node.$ref !== 'string' || depth > 32) return node;
    const ref = node.$ref;
    const [base, fragment = ''] = ref.split('#', 2) as [string, string?];
    let target: unknown = base === '' ? side.document : side.referenced.get(base);
    if (target === undefined) return node; // external and unknown: compared as an opaque reference
    for (const part of fragment.split('/').filter(Boolean)) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      target = target && typeof target === 'object' ? (target as Record<string, unknown>)[key] : undefined;
    }
    if (typeof target !== 'boolean' && (!target || typeof target !== 'object')) return node;
    return this.deref(target as Json, side, depth + 1);
  }

  private fail(path: string, kind: string, detail: string): void {
    this.out.push(`{errorType:"${kind}", description:"${detail} at path '${path}'"}`);
  }

  /** Whether `r` accepts everything `w` accepts, without recording messages. */
  private accepts(r: Json, w: Json, path: string): boolean {
    const before = this.out.length;
    this.check(r, w, path);
    const ok = this.out.length === before;
    this.out.length = before;
    return ok;
  }

  check(rIn: Json, wIn: Json, path: string): void {
    const r = this.deref(rIn, this.reader);
    const w = this.deref(wIn, this.writer);
    const key = `${this.id(r)}:${this.id(w)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (r === true || (typeof r === 'object' && Object.keys(r).length === 0) || w === false) return;
    if (r === false) return this.fail(path, 'TYPE_NARROWED', 'the reader accepts nothing');
    const wo = w === true ? {} : w;
    if (typeof r.$ref === 'string' || typeof wo.$ref === 'string') {
      if (r.$ref !== wo.$ref) this.fail(path, 'REFERENCE_CHANGED', `reference ${String(wo.$ref)} changed to ${String(r.$ref)}`);
      return;
    }
    const rAlt = (r.anyOf ?? r.oneOf) as Json[] | undefined;
    const wAlt = (wo.anyOf ?? wo.oneOf) as Json[] | undefined;
    if (Array.isArray(rAlt) || Array.isArray(wAlt)) {
      for (const [i, option] of (wAlt ?? [wo]).entries()) {
        if (!(rAlt ?? [r]).some((candidate) => this.accepts(candidate, option, `${path}/${i}`))) {
          this.fail(path, 'COMBINED_TYPE_SUBSCHEMAS_CHANGED', `writer alternative ${i} is accepted by no reader alternative`);
        }
      }
      return;
    }
    if (Array.isArray(r.allOf)) for (const part of r.allOf as Json[]) this.check(part, wo, `${path}/allOf`);
    this.checkTypes(r, wo, path);
    this.checkValues(r, wo, path);
    this.checkBounds(r, wo, path);
    this.checkObject(r, wo, path);
    this.checkArray(r, wo, path);
  }

  private checkTypes(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    const types = (s: Record<string, unknown>) => (s.type === undefined ? null : ([] as unknown[]).concat(s.type).map(String));
    const rt = types(r);
    if (!rt) return;
    const wt = types(w);
    if (!wt) return this.fail(path, 'TYPE_NARROWED', `the reader restricts the type to ${rt.join(', ')}`);
    for (const t of wt) {
      if (!rt.includes(t) && !(t === 'integer' && rt.includes('number'))) {
        this.fail(path, 'TYPE_CHANGED', `type ${t} is not accepted by the reader (${rt.join(', ')})`);
      }
    }
  }

  private checkValues(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    const allowed = (s: Record<string, unknown>) => ('const' in s ? [s.const] : Array.isArray(s.enum) ? s.enum : null);
    const ra = allowed(r);
    if (!ra) return;
    const wa = allowed(w);
    const keys = new Set(ra.map((v) => sortedJson(v)));
    if (!wa) return this.fail(path, 'ENUM_ARRAY_NARROWED', 'the reader restricts the values to an enum');
    for (const v of wa) if (!keys.has(sortedJson(v))) this.fail(path, 'ENUM_ARRAY_NARROWED', `value ${JSON.stringify(v)} was removed from the enum`);
  }

  private checkBounds(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    const upper = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];
    const lower = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
    for (const k of upper) {
      if (typeof r[k] !== 'number') continue;
      if (typeof w[k] !== 'number') this.fail(path, `${k.toUpperCase()}_ADDED`, `${k} ${r[k]} was added`);
      else if ((w[k] as number) > (r[k] as number)) this.fail(path, `${k.toUpperCase()}_DECREASED`, `${k} decreased from ${w[k]} to ${r[k]}`);
    }
    for (const k of lower) {
      if (typeof r[k] !== 'number') continue;
      if (typeof w[k] !== 'number') this.fail(path, `${k.toUpperCase()}_ADDED`, `${k} ${r[k]} was added`);
      else if ((w[k] as number) < (r[k] as number)) this.fail(path, `${k.toUpperCase()}_INCREASED`, `${k} increased from ${w[k]} to ${r[k]}`);
    }
    if (typeof r.multipleOf === 'number' && !(typeof w.multipleOf === 'number' && w.multipleOf % r.multipleOf === 0)) {
      this.fail(path, 'MULTIPLE_OF_CHANGED', `multipleOf ${r.multipleOf} does not divide the writer's`);
    }
    if (typeof r.pattern === 'string' && r.pattern !== w.pattern) this.fail(path, 'PATTERN_CHANGED', `pattern changed to ${r.pattern}`);
  }

  private checkObject(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    const rProps = (r.properties ?? {}) as Record<string, Json>;
    const wProps = (w.properties ?? {}) as Record<string, Json>;
    const rExtra = (r.additionalProperties ?? ANY) as Json;
    const wExtra = (w.additionalProperties ?? ANY) as Json;
    if (!r.properties && !w.properties && r.additionalProperties === undefined && !r.required) return;
    const wRequired = new Set(Array.isArray(w.required) ? (w.required as string[]) : []);
    for (const name of Array.isArray(r.required) ? (r.required as string[]) : []) {
      if (!wRequired.has(name)) this.fail(`${path}/properties/${name}`, 'REQUIRED_PROPERTY_ADDED', `property ${name} became required`);
    }
    for (const [name, ws] of Object.entries(wProps)) {
      const at = `${path}/properties/${name}`;
      if (name in rProps) this.check(rProps[name]!, ws, at);
      else if (!this.accepts(rExtra, ws, at)) {
        const closed = rExtra === false;
        this.fail(at, closed ? 'PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL' : 'PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL', `property ${name} was removed`);
      }
    }
    for (const [name, rs] of Object.entries(rProps)) {
      if (name in wProps) continue;
      const at = `${path}/properties/${name}`;
      // The writer's data may already hold this name with anything its additionalProperties allows.
      if (!this.accepts(rs, wExtra, at)) {
        this.fail(at, 'PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL', `property ${name} was added, but the writer's open content model may already carry it with another type`);
      }
    }
    if (wExtra !== false && !this.accepts(rExtra, wExtra, `${path}/additionalProperties`)) {
      this.fail(path, rExtra === false ? 'ADDITIONAL_PROPERTIES_REMOVED' : 'ADDITIONAL_PROPERTIES_NARROWED', 'additional properties were narrowed');
    }
  }

  private checkArray(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    const tuple = (s: Record<string, unknown>) => (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : null) as Json[] | null;
    const rt = tuple(r);
    const wt = tuple(w);
    if (rt || wt) {
      const n = Math.max(rt?.length ?? 0, wt?.length ?? 0);
      for (let i = 0; i < n; i++) this.check(rt?.[i] ?? ANY, wt?.[i] ?? ANY, `${path}/items/${i}`);
      return;
    }
    if (r.items !== undefined) this.check(r.items as Json, (w.items ?? ANY) as Json, `${path}/items`);
  }
}
