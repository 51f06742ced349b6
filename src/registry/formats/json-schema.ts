// JSON: JSON Schema drafts 4, 6, 7, 2019-09 and 2020-12, compiled by ajv (draft 4 is rewritten to
// its draft-6 equivalent, as ajv 8 has no draft-4 mode). Compatibility follows Confluent's rules
// for JSON Schema: the reader accepts every document the writer accepts. Adding a property is
// compatible only to a closed content model (additionalProperties false), removing one only from
// an open one; enums, ranges, lengths and patterns may widen but not narrow; integer widens to number.
//
// Combinations (allOf/anyOf/oneOf) and dependencies follow Confluent's JSON Schema diff rules:
// - both sides combine: the criterion may only widen (oneOf/allOf -> anyOf; a singleton -> oneOf;
//   singleton allOf <-> singleton), a oneOf/anyOf may not lose subschemas (SUM_TYPE_NARROWED), an
//   allOf may not gain any (PRODUCT_TYPE_EXTENDED), and a maximum matching of compatible
//   (reader, writer) subschema pairs must cover the smaller side (COMBINED_TYPE_SUBSCHEMAS_CHANGED).
//   Duplicate subschemas collapse first.
// - a plain writer to a reader oneOf/anyOf: compatible when some reader subschema takes it.
// - dependencies / dependentRequired: the reader may drop one or narrow its list; adding one or
//   listing more or other properties is incompatible. Schema dependencies (and dependentSchemas):
//   dropping is compatible, adding is not, a kept one is compared like any subschema.
// - a property that becomes required is compatible when the reader gives it a default.
// Approximations that remain (deliberate, and documented here):
// - Confluent calls any change between a combined and a plain schema TYPE_CHANGED unless the
//   combination is a singleton; we instead accept a plain writer read by a reader allOf whose every
//   part takes it, and a writer combination read by a plain reader that takes every writer
//   alternative (or, for a writer allOf, some part). Both are sound (the reader accepts every
//   document the writer does) but more lenient than Confluent.
// - oneOf's exclusivity is not modelled: a writer document valid for two reader subschemas would
//   fail the reader's oneOf, which neither we nor Confluent detect.
// - keywords beside a combinator on the same node are compared on their own after it.
// - patternProperties, propertyNames, if/then/else, not, contains, uniqueItems and
//   unevaluated* are not compared; format is an annotation; remote $refs compare by URL.

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
const COMBINATORS = ['allOf', 'anyOf', 'oneOf'] as const;
type Combinator = (typeof COMBINATORS)[number];
/** Keywords that say nothing about which documents are valid. */
const ANNOTATIONS = new Set(['$schema', '$id', 'id', '$comment', 'title', 'description', 'default', 'examples', 'definitions', '$defs', 'deprecated', 'readOnly', 'writeOnly']);

interface Combination {
  kind: Combinator;
  /** Distinct subschemas (duplicates collapse, as in Confluent). */
  subs: Json[];
  /** The node's other keywords. */
  rest: Record<string, unknown>;
}

/** A node's allOf/anyOf/oneOf; several combinators on one node are the allOf of each. */
function combination(node: Record<string, unknown>): Combination | null {
  const kinds = COMBINATORS.filter((k) => Array.isArray(node[k]));
  if (kinds.length === 0) return null;
  const rest = Object.fromEntries(Object.entries(node).filter(([k]) => !kinds.includes(k as Combinator)));
  const distinct = (subs: Json[]) => [...new Map(subs.map((sub) => [sortedJson(sub), sub])).values()];
  if (kinds.length === 1) return { kind: kinds[0]!, subs: distinct(node[kinds[0]!] as Json[]), rest };
  return { kind: 'allOf', subs: kinds.map((k) => ({ [k]: node[k] })), rest };
}

function constrains(node: Record<string, unknown>): boolean {
  return Object.keys(node).some((k) => !ANNOTATIONS.has(k));
}

/** Size of a maximum matching in a bipartite graph (left i -> right edges[i]), by augmenting paths. */
function maximumMatching(edges: readonly number[][], rightCount: number): number {
  const owner = new Array<number>(rightCount).fill(-1);
  const augment = (left: number, visited: boolean[]): boolean => {
    for (const right of edges[left]!) {
      if (visited[right]) continue;
      visited[right] = true;
      if (owner[right] === -1 || augment(owner[right]!, visited)) {
        owner[right] = left;
        return true;
      }
    }
    return false;
  };
  let size = 0;
  for (let left = 0; left < edges.length; left++) if (augment(left, new Array<boolean>(rightCount).fill(false))) size++;
  return size;
}

/** Property dependencies (arrays) and schema dependencies, from draft-7 `dependencies` and 2019-09's split keywords. */
function dependenciesOf(s: Record<string, unknown>): { arrays: Map<string, string[]>; schemas: Map<string, Json> } {
  const arrays = new Map<string, string[]>();
  const schemas = new Map<string, Json>();
  const take = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : []);
  for (const [k, v] of [...take(s.dependencies), ...take(s.dependentRequired), ...take(s.dependentSchemas)]) {
    if (Array.isArray(v)) arrays.set(k, v.map(String));
    else if (typeof v === 'boolean' || (v && typeof v === 'object')) schemas.set(k, v as Json);
  }
  return { arrays, schemas };
}

class JsonCompatibility {
  private seen = new Set<string>();
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

  /** Whether `r` accepts everything `w` accepts, without recording messages (nor remembering the pairs it tried). */
  private accepts(r: Json, w: Json, path: string): boolean {
    const before = this.out.length;
    const seen = new Set(this.seen);
    this.check(r, w, path);
    const ok = this.out.length === before;
    this.out.length = before;
    this.seen = seen;
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
    const rc = combination(r);
    const wc = combination(wo);
    if (!rc && !wc) return this.checkPlain(r, wo, path);
    if (rc && wc) this.checkCombinations(rc, wc, path);
    else if (rc) this.checkReaderCombination(rc, wo, path);
    else if (wc) this.checkWriterCombination(r, wc, path);
    // Keywords beside the combination (e.g. "type": "object" next to a oneOf) constrain too.
    const rRest = rc ? rc.rest : r;
    if (rc && constrains(rRest)) this.checkPlain(rRest, wc ? wc.rest : wo, path);
  }

  private checkPlain(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    this.checkTypes(r, w, path);
    this.checkValues(r, w, path);
    this.checkBounds(r, w, path);
    this.checkObject(r, w, path);
    this.checkArray(r, w, path);
  }

  /** Both sides combine subschemas: Confluent's criteria rules, then a matching of compatible pairs. */
  private checkCombinations(rc: Combination, wc: Combination, path: string): void {
    if (rc.kind !== wc.kind) {
      // oneOf/allOf -> anyOf widens; a singleton anyOf/allOf -> oneOf, or singleton -> singleton allOf, changes nothing.
      const widened =
        rc.kind === 'anyOf' || (rc.kind === 'oneOf' && wc.subs.length === 1) || (rc.kind === 'allOf' && wc.subs.length === 1 && rc.subs.length === 1);
      if (!widened) return this.fail(path, 'COMBINED_TYPE_CHANGED', `${wc.kind} became ${rc.kind}`);
    }
    if (rc.subs.length < wc.subs.length && rc.kind !== 'allOf') {
      this.fail(path, 'SUM_TYPE_NARROWED', `${rc.kind} lost ${wc.subs.length - rc.subs.length} of its ${wc.subs.length} subschemas`);
    } else if (rc.subs.length > wc.subs.length && rc.kind === 'allOf') {
      this.fail(path, 'PRODUCT_TYPE_EXTENDED', `allOf gained ${rc.subs.length - wc.subs.length} subschemas`);
    }
    const edges = wc.subs.map((ws, i) => rc.subs.flatMap((rs, j) => (this.accepts(rs, ws, `${path}/${rc.kind}/${j}`) ? [j] : [])));
    const matched = maximumMatching(edges, rc.subs.length);
    if (matched < Math.min(rc.subs.length, wc.subs.length)) {
      this.fail(path, 'COMBINED_TYPE_SUBSCHEMAS_CHANGED', `only ${matched} of the writer's ${wc.kind} subschemas pair with a compatible reader subschema`);
    }
  }

  /** The reader combines, the writer does not: some alternative must take the writer's schema (all parts, for allOf). */
  private checkReaderCombination(rc: Combination, w: Record<string, unknown>, path: string): void {
    if (rc.subs.length === 1 || rc.kind === 'allOf') {
      rc.subs.forEach((part, i) => this.check(part, w, `${path}/${rc.kind}/${i}`));
      return;
    }
    if (!rc.subs.some((alt, i) => this.accepts(alt, w, `${path}/${rc.kind}/${i}`))) {
      this.fail(path, 'TYPE_CHANGED', `no subschema of the reader's ${rc.kind} accepts the writer's schema`);
    }
  }

  /** The writer combines, the reader does not: the reader must take every alternative (or, for allOf, one part). */
  private checkWriterCombination(r: Record<string, unknown>, wc: Combination, path: string): void {
    if (wc.subs.length === 1) return this.check(r, wc.subs[0]!, `${path}/${wc.kind}/0`);
    if (wc.kind === 'allOf') {
      const parts = constrains(wc.rest) ? [...wc.subs, wc.rest] : wc.subs;
      if (!parts.some((part, i) => this.accepts(r, part, `${path}/allOf/${i}`))) {
        this.fail(path, 'TYPE_CHANGED', "the reader accepts no part of the writer's allOf");
      }
      return;
    }
    wc.subs.forEach((alt, i) => {
      const merged = constrains(wc.rest) && typeof alt === 'object' ? { ...wc.rest, ...alt } : alt;
      if (!this.accepts(r, merged, `${path}/${wc.kind}/${i}`)) {
        this.fail(path, 'TYPE_CHANGED', `subschema ${i} of the writer's ${wc.kind} is not accepted by the reader`);
      }
    });
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
    this.checkDependencies(r, w, path);
    if (!r.properties && !w.properties && r.additionalProperties === undefined && !r.required) return;
    const wRequired = new Set(Array.isArray(w.required) ? (w.required as string[]) : []);
    for (const name of Array.isArray(r.required) ? (r.required as string[]) : []) {
      // A default lets the reader fill in what the writer's data may lack (Confluent: REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED).
      const own = rProps[name] === undefined ? undefined : this.deref(rProps[name]!, this.reader);
      if (own && typeof own === 'object' && 'default' in own) continue;
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

  /**
   * Confluent's dependency rules: the reader may drop a dependency or narrow a property
   * dependency's list; adding one, or listing more or other properties, is incompatible.
   */
  private checkDependencies(r: Record<string, unknown>, w: Record<string, unknown>, path: string): void {
    const rd = dependenciesOf(r);
    const wd = dependenciesOf(w);
    for (const [name, rList] of rd.arrays) {
      const at = `${path}/dependencies/${name}`;
      const wList = wd.arrays.get(name);
      if (!wList) {
        this.fail(at, 'DEPENDENCY_ARRAY_ADDED', `property ${name} gained a dependency on ${rList.join(', ')}`);
        continue;
      }
      const wSet = new Set(wList);
      const rSet = new Set(rList);
      if (rList.every((p) => wSet.has(p))) continue; // equal or narrowed
      const extended = wList.every((p) => rSet.has(p));
      this.fail(at, extended ? 'DEPENDENCY_ARRAY_EXTENDED' : 'DEPENDENCY_ARRAY_CHANGED', `the properties ${name} depends on became ${rList.join(', ')}`);
    }
    for (const [name, rSchema] of rd.schemas) {
      const at = `${path}/dependencies/${name}`;
      const wSchema = wd.schemas.get(name);
      if (wSchema === undefined) this.fail(at, 'DEPENDENCY_SCHEMA_ADDED', `property ${name} gained a schema dependency`);
      else this.check(rSchema, wSchema, at);
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
