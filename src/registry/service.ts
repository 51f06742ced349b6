// The schema registry's behaviour, independent of HTTP: subjects, versions, global ids, settings
// and compatibility, persisted in the metadata store's SchemaStore. Schemas are immutable once
// stored, so the by-id cache (the hot read path, and what broker-side validation uses) never
// needs invalidating; subject membership is cached briefly because another agent may delete.

import { createHash } from 'node:crypto';
import { SchemaConflictError } from '../metadata/errors.js';
import type { RegistrySchemaRecord, SchemaStore, SubjectVersionRecord } from '../metadata/types.js';
import { checkCompatibility, type VersionedSchema } from './compatibility.js';
import * as E from './errors.js';
import { RegistryError } from './errors.js';
import { formatOf, InvalidSchemaError, type ParsedSchema } from './formats/index.js';
import {
  DEFAULT_COMPATIBILITY,
  DEFAULT_MODE,
  isCompatibilityLevel,
  isRegistryMode,
  isSchemaType,
  SCHEMA_TYPES,
  type CompatibilityLevel,
  type RegistryMode,
  type ResolvedReference,
  type SchemaReference,
  type SchemaType,
} from './types.js';

/** Reference chains longer than this are refused, as are cycles. */
export const MAX_REFERENCE_DEPTH = 32;
const MAX_REFERENCES = 1000;
const SCHEMA_CACHE_ENTRIES = 10_000;
const MEMBERSHIP_TTL_MS = 30_000;
const MEMBERSHIP_NEGATIVE_TTL_MS = 1_000;
const GLOBAL = '';

export interface SchemaRequest {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
  /** IMPORT mode: the id and version to register under. */
  id?: number;
  version?: number;
}

export interface SchemaView {
  schema: string;
  schemaType: SchemaType;
  references: SchemaReference[];
}

export interface SubjectVersionView extends SchemaView {
  subject: string;
  version: number;
  id: number;
}

interface CachedSchema {
  record: RegistrySchemaRecord;
  parsed?: ParsedSchema;
}

/** Parses a register/lookup body as Confluent accepts it; throws 42201 on a malformed one. */
export function parseSchemaRequest(body: unknown): SchemaRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw E.invalidSchema('the request body must be a JSON object with a "schema" field');
  const b = body as Record<string, unknown>;
  if (typeof b.schema !== 'string' || b.schema.trim() === '') throw E.invalidSchema('"schema" must be a non-empty string');
  const schemaType = b.schemaType === undefined || b.schemaType === null ? 'AVRO' : b.schemaType;
  if (!isSchemaType(schemaType)) throw E.invalidSchema(`unknown schemaType ${JSON.stringify(b.schemaType)}; use one of ${SCHEMA_TYPES.join(', ')}`);
  const refs = b.references ?? [];
  if (!Array.isArray(refs)) throw E.invalidSchema('"references" must be an array');
  if (refs.length > MAX_REFERENCES) throw E.invalidSchema(`more than ${MAX_REFERENCES} references`);
  const references = refs.map((r: unknown, i): SchemaReference => {
    const ref = r as Record<string, unknown> | null;
    if (!ref || typeof ref.name !== 'string' || typeof ref.subject !== 'string' || !Number.isInteger(ref.version)) {
      throw E.invalidSchema(`reference ${i} needs a string "name", a string "subject" and an integer "version"`);
    }
    return { name: ref.name, subject: ref.subject, version: ref.version as number };
  });
  const out: SchemaRequest = { schema: b.schema, schemaType, references };
  if (b.id !== undefined && b.id !== null && b.id !== -1) {
    if (!Number.isInteger(b.id) || (b.id as number) < 1) throw E.invalidSchema('"id" must be a positive integer');
    out.id = b.id as number;
  }
  if (b.version !== undefined && b.version !== null && b.version !== -1) {
    if (!Number.isInteger(b.version) || (b.version as number) < 1) throw E.invalidVersion(String(b.version));
    out.version = b.version as number;
  }
  return out;
}

/** "latest", -1, or 1..2^31-1; anything else is 42202. */
export function parseVersion(v: string): number | 'latest' {
  if (v === 'latest' || v === '-1') return 'latest';
  if (!/^\d{1,10}$/.test(v)) throw E.invalidVersion(v);
  const n = Number(v);
  if (n < 1 || n > 0x7fffffff) throw E.invalidVersion(v);
  return n;
}

export class SchemaRegistry {
  private readonly byId = new Map<number, CachedSchema>();
  private readonly membership = new Map<string, { ok: boolean; until: number }>();
  private readonly subjectLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly store: SchemaStore) {}

  // ---- schemas by id -------------------------------------------------------------------------

  async schemaById(id: number): Promise<RegistrySchemaRecord | null> {
    const hit = this.byId.get(id);
    if (hit) return hit.record;
    const record = await this.store.getSchema(id);
    if (record) this.remember(record);
    return record;
  }

  /** The parsed schema with this id (references resolved), or null when no such id. */
  async parsedById(id: number): Promise<ParsedSchema | null> {
    const record = await this.schemaById(id);
    if (!record) return null;
    const entry = this.byId.get(id) ?? this.remember(record);
    if (!entry.parsed) {
      const refs = await this.resolveReferences(record.references, new Set(), 0);
      entry.parsed = this.parse(record.schemaType as SchemaType, record.schema, refs, false);
    }
    return entry.parsed;
  }

  async getSchema(id: number): Promise<SchemaView> {
    const record = await this.schemaById(id);
    if (!record) throw E.schemaNotFound(`Schema ${id} not found`);
    return view(record);
  }

  async subjectsOfSchema(id: number, deleted: boolean): Promise<string[]> {
    return [...new Set((await this.versionsOfSchema(id, deleted)).map((v) => v.subject))];
  }

  async versionsOfSchema(id: number, deleted: boolean): Promise<{ subject: string; version: number }[]> {
    if (!(await this.schemaById(id))) throw E.schemaNotFound(`Schema ${id} not found`);
    const rows = await this.store.versionsOfSchema(id);
    return rows.filter((r) => deleted || !r.deleted).map((r) => ({ subject: r.subject, version: r.version }));
  }

  /** Whether schema `id` is a live version of `subject` (broker-side validation asks this per record). */
  async isRegisteredUnder(subject: string, id: number): Promise<boolean> {
    const key = `${id}\u0000${subject}`;
    const now = Date.now();
    const hit = this.membership.get(key);
    if (hit && hit.until > now) return hit.ok;
    const ok = (await this.store.versionsOfSchema(id)).some((r) => r.subject === subject && !r.deleted);
    if (this.membership.size > SCHEMA_CACHE_ENTRIES) this.membership.clear();
    this.membership.set(key, { ok, until: now + (ok ? MEMBERSHIP_TTL_MS : MEMBERSHIP_NEGATIVE_TTL_MS) });
    return ok;
  }

  // ---- subjects and versions -----------------------------------------------------------------

  async listSubjects(deleted: boolean): Promise<string[]> {
    const rows = await this.store.listVersions();
    return [...new Set(rows.filter((r) => deleted || !r.deleted).map((r) => r.subject))];
  }

  async listVersions(subject: string, deleted: boolean): Promise<number[]> {
    const rows = (await this.store.listVersions(subject)).filter((r) => deleted || !r.deleted);
    if (rows.length === 0) throw E.subjectNotFound(subject);
    return rows.map((r) => r.version);
  }

  async getVersion(subject: string, version: string, deleted: boolean): Promise<SubjectVersionView> {
    const row = await this.findVersion(subject, parseVersion(version), deleted);
    const record = await this.schemaById(row.schemaId);
    if (!record) throw E.storeError(`schema ${row.schemaId} of ${subject} version ${row.version} is missing`);
    return { subject, version: row.version, id: record.id, ...view(record) };
  }

  async register(subject: string, request: SchemaRequest, normalize: boolean): Promise<{ id: number }> {
    return this.withSubjectLock(subject, async () => {
      const mode = await this.effectiveMode(subject);
      if (mode === 'READONLY') throw E.operationNotPermitted(`Subject ${subject} is in read-only mode`);
      const importing = mode === 'IMPORT';
      if (importing && request.id === undefined) throw E.operationNotPermitted('IMPORT mode needs the schema\'s "id" in the request');
      if (!importing && (request.id !== undefined || request.version !== undefined)) {
        throw E.operationNotPermitted(`"id" and "version" may only be given in IMPORT mode; subject ${subject} is in ${mode} mode`);
      }
      const { parsed, fingerprint } = await this.prepare(request, normalize);
      const rows = await this.store.listVersions(subject);
      const live = rows.filter((r) => !r.deleted);
      for (const row of live) {
        const existing = await this.schemaById(row.schemaId);
        if (existing?.fingerprint === fingerprint && (request.id === undefined || request.id === existing.id)) return { id: existing.id };
      }
      if (!importing) {
        const messages = await this.incompatibilities(subject, parsed, live, null);
        if (messages.length) {
          throw E.incompatibleSchema(
            `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`,
          );
        }
      }
      try {
        const id = await this.store.putSchema({
          schemaType: request.schemaType,
          schema: parsed.text,
          references: request.references,
          fingerprint,
          ...(request.id !== undefined ? { id: request.id } : {}),
        });
        await this.store.addVersion(subject, id, request.version);
        this.membership.clear();
        return { id };
      } catch (err) {
        if (err instanceof SchemaConflictError) throw E.operationNotPermitted(`${err.message}`);
        throw err;
      }
    });
  }

  async lookup(subject: string, request: SchemaRequest, normalize: boolean, deleted: boolean): Promise<SubjectVersionView> {
    const rows = (await this.store.listVersions(subject)).filter((r) => deleted || !r.deleted);
    if (rows.length === 0) throw E.subjectNotFound(subject);
    const { fingerprint } = await this.prepare(request, normalize);
    for (const row of [...rows].reverse()) {
      const record = await this.schemaById(row.schemaId);
      if (record?.fingerprint === fingerprint) return { subject, version: row.version, id: record.id, ...view(record) };
    }
    throw E.schemaNotFound();
  }

  async deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.withSubjectLock(subject, async () => {
      await this.refuseReadOnly(subject);
      const rows = await this.store.listVersions(subject);
      if (rows.length === 0) throw E.subjectNotFound(subject);
      const live = rows.filter((r) => !r.deleted);
      // As Confluent: each version to delete is checked for referrers first, in version order.
      const referrers = await this.referrersIndex();
      for (const row of permanent ? rows : live) {
        if (referrers.has(`${subject}\u0000${row.version}`)) throw E.referenceExists(subject, row.version);
      }
      if (permanent) {
        if (live.length) throw E.subjectNotSoftDeleted(subject);
        await this.store.deleteVersions(subject, rows.map((r) => r.version), true);
        await this.store.setConfig(subject, { compatibility: null, mode: null });
      } else {
        if (live.length === 0) throw E.subjectSoftDeleted(subject);
        await this.store.deleteVersions(subject, live.map((r) => r.version), false);
      }
      this.membership.clear();
      return (permanent ? rows : live).map((r) => r.version);
    });
  }

  async deleteVersion(subject: string, version: string, permanent: boolean): Promise<number> {
    return this.withSubjectLock(subject, async () => {
      await this.refuseReadOnly(subject);
      const row = await this.findVersion(subject, parseVersion(version), permanent);
      if ((await this.referrersIndex()).has(`${subject}\u0000${row.version}`)) throw E.referenceExists(subject, row.version);
      if (permanent && !row.deleted) throw E.versionNotSoftDeleted(subject, row.version);
      if (!permanent && row.deleted) throw E.versionSoftDeleted(subject, row.version);
      await this.store.deleteVersions(subject, [row.version], permanent);
      this.membership.clear();
      return row.version;
    });
  }

  /** Ids of the schemas that reference this subject version (GET .../referencedby), ascending. */
  async referencedBy(subject: string, version: string): Promise<number[]> {
    const row = await this.findVersion(subject, parseVersion(version), false);
    return [...((await this.referrersIndex()).get(`${subject}\u0000${row.version}`) ?? [])].sort((a, b) => a - b);
  }

  /** Checks `request` against one version (or, with version null, against what the level asks for). */
  async testCompatibility(subject: string, version: string | null, request: SchemaRequest, normalize = false): Promise<string[]> {
    const { parsed } = await this.prepare(request, normalize);
    const live = (await this.store.listVersions(subject)).filter((r) => !r.deleted);
    if (version === null) return this.incompatibilities(subject, parsed, live, null);
    if (live.length === 0) throw E.subjectNotFound(subject);
    const row = await this.findVersion(subject, parseVersion(version), false);
    return this.incompatibilities(subject, parsed, [row], 'single');
  }

  // ---- settings ------------------------------------------------------------------------------

  async getCompatibility(subject: string | null, defaultToGlobal: boolean): Promise<CompatibilityLevel> {
    const own = (await this.store.getConfig(subject ?? GLOBAL))?.compatibility;
    if (own && isCompatibilityLevel(own)) return own;
    if (subject !== null && !defaultToGlobal) throw E.subjectConfigNotFound(subject);
    return this.globalCompatibility();
  }

  async setCompatibility(subject: string | null, level: unknown): Promise<CompatibilityLevel> {
    const upper = typeof level === 'string' ? level.toUpperCase() : level;
    if (!isCompatibilityLevel(upper)) throw E.invalidCompatibilityLevel(level);
    const key = subject ?? GLOBAL;
    const current = await this.store.getConfig(key);
    await this.store.setConfig(key, { compatibility: upper, mode: current?.mode ?? null });
    return upper;
  }

  /** Removes the setting and returns the level that was in force. */
  async deleteCompatibility(subject: string | null): Promise<CompatibilityLevel> {
    const key = subject ?? GLOBAL;
    const current = await this.store.getConfig(key);
    if (subject !== null && !current?.compatibility) {
      if ((await this.store.listVersions(subject)).length === 0) throw E.subjectNotFound(subject);
      throw E.subjectConfigNotFound(subject);
    }
    const was = current?.compatibility && isCompatibilityLevel(current.compatibility) ? current.compatibility : DEFAULT_COMPATIBILITY;
    await this.store.setConfig(key, { compatibility: null, mode: current?.mode ?? null });
    return was;
  }

  async getMode(subject: string | null, defaultToGlobal: boolean): Promise<RegistryMode> {
    const own = (await this.store.getConfig(subject ?? GLOBAL))?.mode;
    if (own && isRegistryMode(own)) return own;
    if (subject !== null && !defaultToGlobal) throw E.subjectModeNotFound(subject);
    const global = (await this.store.getConfig(GLOBAL))?.mode;
    return global && isRegistryMode(global) ? global : DEFAULT_MODE;
  }

  async setMode(subject: string | null, mode: unknown, force: boolean): Promise<RegistryMode> {
    const upper = typeof mode === 'string' ? mode.toUpperCase() : mode;
    if (!isRegistryMode(upper)) throw E.invalidMode(mode);
    if (upper === 'IMPORT' && !force) {
      const rows = await this.store.listVersions(subject ?? undefined);
      if (rows.length) {
        throw E.operationNotPermitted(
          `Cannot import since found existing subjects${subject ? ` (${subject})` : ''}; pass force=true to switch to IMPORT anyway`,
        );
      }
    }
    const key = subject ?? GLOBAL;
    const current = await this.store.getConfig(key);
    await this.store.setConfig(key, { compatibility: current?.compatibility ?? null, mode: upper });
    return upper;
  }

  async deleteMode(subject: string): Promise<RegistryMode> {
    const current = await this.store.getConfig(subject);
    if (!current?.mode || !isRegistryMode(current.mode)) throw E.subjectModeNotFound(subject);
    await this.store.setConfig(subject, { compatibility: current.compatibility, mode: null });
    return current.mode;
  }

  // ---- internals -----------------------------------------------------------------------------

  private async globalCompatibility(): Promise<CompatibilityLevel> {
    const level = (await this.store.getConfig(GLOBAL))?.compatibility;
    return level && isCompatibilityLevel(level) ? level : DEFAULT_COMPATIBILITY;
  }

  private async effectiveMode(subject: string): Promise<RegistryMode> {
    return this.getMode(subject, true);
  }

  private async refuseReadOnly(subject: string): Promise<void> {
    if ((await this.effectiveMode(subject)) === 'READONLY') throw E.operationNotPermitted(`Subject ${subject} is in read-only mode`);
  }

  private async findVersion(subject: string, version: number | 'latest', deleted: boolean): Promise<SubjectVersionRecord> {
    const rows = (await this.store.listVersions(subject)).filter((r) => deleted || !r.deleted);
    if (rows.length === 0) throw E.subjectNotFound(subject);
    const row = version === 'latest' ? rows[rows.length - 1] : rows.find((r) => r.version === version);
    if (!row) throw E.versionNotFound(subject, version);
    return row;
  }

  private async prepare(request: SchemaRequest, normalize: boolean): Promise<{ parsed: ParsedSchema; fingerprint: string }> {
    const refs = await this.resolveReferences(request.references, new Set(), 0);
    const parsed = this.parse(request.schemaType, request.schema, refs, normalize);
    const fingerprint = createHash('sha256')
      .update(`${request.schemaType}\n${parsed.identity}\n${JSON.stringify(request.references)}`)
      .digest('hex');
    return { parsed, fingerprint };
  }

  private parse(type: SchemaType, text: string, refs: ResolvedReference[], normalize: boolean): ParsedSchema {
    try {
      return formatOf(type).parse(text, refs, normalize);
    } catch (err) {
      if (err instanceof InvalidSchemaError) throw E.invalidSchema(err.message);
      if (err instanceof RangeError) throw E.invalidSchema(`the schema is too deeply nested (${err.message})`);
      throw err;
    }
  }

  /**
   * The referenced schemas, each after its own references (depth first), each name once.
   * `chain` holds the subject/versions on the current path: meeting one again is a cycle.
   */
  private async resolveReferences(refs: readonly SchemaReference[], chain: Set<string>, depth: number): Promise<ResolvedReference[]> {
    if (refs.length === 0) return [];
    if (depth >= MAX_REFERENCE_DEPTH) throw E.invalidSchema(`references nest deeper than ${MAX_REFERENCE_DEPTH} levels`);
    const out: ResolvedReference[] = [];
    const seen = new Set<string>();
    for (const ref of refs) {
      const key = `${ref.subject}/${ref.version}`;
      if (chain.has(key)) throw E.invalidSchema(`cyclic reference: ${[...chain, key].join(' -> ')}`);
      const row = await this.findVersion(ref.subject, ref.version === -1 ? 'latest' : ref.version, false).catch((err: unknown) => {
        if (err instanceof RegistryError && err.status === 404) {
          throw E.invalidSchema(`reference '${ref.name}' names ${ref.subject} version ${ref.version}, which does not exist`);
        }
        throw err;
      });
      const record = await this.schemaById(row.schemaId);
      if (!record) throw E.invalidSchema(`reference '${ref.name}': schema ${row.schemaId} is missing`);
      chain.add(key);
      const inner = await this.resolveReferences(record.references, chain, depth + 1);
      chain.delete(key);
      for (const r of [...inner, { name: ref.name, schemaType: record.schemaType as SchemaType, schema: record.schema }]) {
        if (!seen.has(r.name)) {
          seen.add(r.name);
          out.push(r);
        }
      }
      if (out.length > MAX_REFERENCES) throw E.invalidSchema(`more than ${MAX_REFERENCES} schemas referenced in all`);
    }
    return out;
  }

  private async incompatibilities(
    subject: string,
    candidate: ParsedSchema,
    rows: readonly SubjectVersionRecord[],
    only: 'single' | null,
  ): Promise<string[]> {
    if (rows.length === 0) return [];
    let level = await this.getCompatibility(subject, true);
    if (only === 'single') level = level.replace('_TRANSITIVE', '') as CompatibilityLevel;
    if (level === 'NONE') return [];
    const targets = level.endsWith('_TRANSITIVE') ? rows : rows.slice(-1);
    const previous: VersionedSchema[] = [];
    for (const row of targets) {
      const schema = await this.parsedById(row.schemaId);
      if (schema) previous.push({ version: row.version, schema });
    }
    return checkCompatibility(formatOf(candidate.schemaType), level, candidate, previous);
  }

  /**
   * Referenced subject version ("subject\0version") -> ids of the schemas referencing it. Every
   * schema still used by some version counts, soft-deleted or not: as in Confluent, only a
   * permanent delete of the referrer releases what it references. A reference to version -1
   * (latest) pins the subject's current last version.
   */
  private async referrersIndex(): Promise<Map<string, Set<number>>> {
    const rows = await this.store.listVersions();
    const lastVersion = new Map<string, number>();
    for (const r of rows) lastVersion.set(r.subject, Math.max(r.version, lastVersion.get(r.subject) ?? 0));
    const out = new Map<string, Set<number>>();
    for (const id of new Set(rows.map((r) => r.schemaId))) {
      const record = await this.schemaById(id);
      for (const ref of record?.references ?? []) {
        const version = ref.version === -1 ? lastVersion.get(ref.subject) : ref.version;
        if (version === undefined) continue;
        const key = `${ref.subject}\u0000${version}`;
        let ids = out.get(key);
        if (!ids) out.set(key, (ids = new Set()));
        ids.add(id);
      }
    }
    return out;
  }

  private remember(record: RegistrySchemaRecord): CachedSchema {
    if (this.byId.size >= SCHEMA_CACHE_ENTRIES) this.byId.delete(this.byId.keys().next().value!);
    const entry = { record };
    this.byId.set(record.id, entry);
    return entry;
  }

  /** Serializes writes to one subject within this agent, so version checks and inserts do not interleave. */
  private withSubjectLock<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.subjectLocks.get(subject) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.subjectLocks.set(subject, tail);
    void tail.then(() => {
      if (this.subjectLocks.get(subject) === tail) this.subjectLocks.delete(subject);
    });
    return next;
  }
}

function view(record: RegistrySchemaRecord): SchemaView {
  return { schema: record.schema, schemaType: record.schemaType as SchemaType, references: record.references };
}
