// SchemaStore over SQL: the schema registry's tables (migration 2). Ids and versions are allocated
// as MAX + 1 inside a transaction; two agents racing for the same number collide on the primary
// key, and the loser retries, so numbers stay dense and never repeat.

import { SchemaConflictError } from './errors.js';
import type { Row, SqlDatabase } from './sql.js';
import { toNumber, toStringOrNull } from './sql.js';
import type {
  NewRegistrySchema,
  RegistryConfigRecord,
  RegistrySchemaRecord,
  SchemaStore,
  SubjectVersionRecord,
} from './types.js';

// Each lost race means another writer committed, so progress is guaranteed; the bound only stops a
// pathological loop. The short random pause spreads out writers that keep colliding.
const RACE_RETRIES = 50;
const backoff = () => new Promise((r) => setTimeout(r, Math.random() * 5));

function versionFromRow(r: Row): SubjectVersionRecord {
  return { subject: String(r.subject), version: toNumber(r.version), schemaId: toNumber(r.schema_id), deleted: toNumber(r.deleted) !== 0 };
}

export class SqlSchemaStore implements SchemaStore {
  constructor(private readonly db: SqlDatabase) {}

  async putSchema(schema: NewRegistrySchema): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction(async (tx) => {
          const found = await tx.all('SELECT id FROM schemas WHERE fingerprint = $1', [schema.fingerprint]);
          if (found.length) {
            const id = toNumber(found[0]!.id);
            if (schema.id !== undefined && schema.id !== id) {
              throw new SchemaConflictError(`the schema is already registered with id ${id}, not ${schema.id}`);
            }
            return id;
          }
          let id = schema.id;
          if (id === undefined) {
            const rows = await tx.all('SELECT COALESCE(MAX(id), 0) AS top FROM schemas');
            id = toNumber(rows[0]!.top) + 1;
          } else if ((await tx.all('SELECT id FROM schemas WHERE id = $1', [id])).length) {
            throw new SchemaConflictError(`schema id ${id} is already taken by a different schema`);
          }
          await tx.run(
            'INSERT INTO schemas (id, schema_type, schema_text, refs, fingerprint) VALUES ($1, $2, $3, $4, $5)',
            [id, schema.schemaType, schema.schema, JSON.stringify(schema.references), schema.fingerprint],
          );
          return id;
        });
      } catch (err) {
        if (attempt < RACE_RETRIES && this.db.isUniqueViolation(err)) {
          await backoff();
          continue;
        }
        throw err;
      }
    }
  }

  async getSchema(id: number): Promise<RegistrySchemaRecord | null> {
    const rows = await this.db.all('SELECT id, schema_type, schema_text, refs, fingerprint FROM schemas WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return null;
    return {
      id: toNumber(r.id),
      schemaType: String(r.schema_type),
      schema: String(r.schema_text),
      references: JSON.parse(String(r.refs)),
      fingerprint: String(r.fingerprint),
    };
  }

  async addVersion(subject: string, schemaId: number, version?: number): Promise<SubjectVersionRecord> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction(async (tx) => {
          let v = version;
          if (v === undefined) {
            const rows = await tx.all('SELECT COALESCE(MAX(version), 0) AS top FROM subject_versions WHERE subject = $1', [subject]);
            v = toNumber(rows[0]!.top) + 1;
          } else if ((await tx.all('SELECT 1 AS x FROM subject_versions WHERE subject = $1 AND version = $2', [subject, v])).length) {
            throw new SchemaConflictError(`subject '${subject}' already has a version ${v}`);
          }
          await tx.run('INSERT INTO subject_versions (subject, version, schema_id, deleted) VALUES ($1, $2, $3, 0)', [
            subject,
            v,
            schemaId,
          ]);
          return { subject, version: v, schemaId, deleted: false };
        });
      } catch (err) {
        if (version === undefined && attempt < RACE_RETRIES && this.db.isUniqueViolation(err)) {
          await backoff();
          continue;
        }
        if (this.db.isUniqueViolation(err)) throw new SchemaConflictError(`subject '${subject}' already has a version ${version}`);
        throw err;
      }
    }
  }

  async listVersions(subject?: string): Promise<SubjectVersionRecord[]> {
    const rows =
      subject === undefined
        ? await this.db.all('SELECT subject, version, schema_id, deleted FROM subject_versions ORDER BY subject, version')
        : await this.db.all(
            'SELECT subject, version, schema_id, deleted FROM subject_versions WHERE subject = $1 ORDER BY version',
            [subject],
          );
    return rows.map(versionFromRow);
  }

  async versionsOfSchema(schemaId: number): Promise<SubjectVersionRecord[]> {
    const rows = await this.db.all(
      'SELECT subject, version, schema_id, deleted FROM subject_versions WHERE schema_id = $1 ORDER BY subject, version',
      [schemaId],
    );
    return rows.map(versionFromRow);
  }

  async deleteVersions(subject: string, versions: number[], permanent: boolean): Promise<number> {
    if (versions.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      let n = 0;
      for (const v of versions) {
        n += permanent
          ? await tx.run('DELETE FROM subject_versions WHERE subject = $1 AND version = $2', [subject, v])
          : await tx.run('UPDATE subject_versions SET deleted = 1 WHERE subject = $1 AND version = $2', [subject, v]);
      }
      return n;
    });
  }

  async getConfig(subject: string): Promise<RegistryConfigRecord | null> {
    const rows = await this.db.all('SELECT compatibility, mode FROM registry_config WHERE subject = $1', [subject]);
    const r = rows[0];
    return r ? { compatibility: toStringOrNull(r.compatibility), mode: toStringOrNull(r.mode) } : null;
  }

  async setConfig(subject: string, config: RegistryConfigRecord): Promise<void> {
    if (config.compatibility === null && config.mode === null) {
      await this.db.run('DELETE FROM registry_config WHERE subject = $1', [subject]);
      return;
    }
    await this.db.run(
      `INSERT INTO registry_config (subject, compatibility, mode) VALUES ($1, $2, $3)
       ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility, mode = excluded.mode`,
      [subject, config.compatibility, config.mode],
    );
  }
}
