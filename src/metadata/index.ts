// Entry point of the metadata store: the backend is chosen by URL scheme, as tansu does.
//   sqlite:/abs/path.sqlite   sqlite:relative/path   sqlite::memory:   postgres://...  postgresql://...

import { resolve } from 'node:path';
import { openPostgresMetadataStore, type PostgresOptions } from './postgres.js';
import { openSqliteMetadataStore, type SqliteOptions } from './sqlite.js';
import type { MetadataStore } from './types.js';

export type * from './types.js';
export * from './errors.js';
export { partitionLeaseResource } from './leases.js';
export { MIGRATIONS, migrate, type Migration, type MigrationStep } from './migrations.js';
export { SqlMetadataStore } from './sql-store.js';
export { openSqliteMetadataStore, SqliteDatabase, type SqliteOptions } from './sqlite.js';
export {
  openPostgresMetadataStore,
  PostgresDatabase,
  PostgresMetadataStore,
  type PoolStats,
  type PostgresOptions,
} from './postgres.js';

export type MetadataStoreOptions = SqliteOptions & PostgresOptions;

const ACCEPTED_FORMS =
  'sqlite:/absolute/path.sqlite, sqlite:relative/path.sqlite, sqlite::memory:, postgres://user:pass@host:port/db ' +
  'or postgresql://...';

/** Where a metadata URL points, without opening anything. Throws on a URL of no accepted form. */
export function parseMetadataUrl(url: string): { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string } {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { kind: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    let rest = url.slice('sqlite:'.length);
    if (rest === ':memory:') return { kind: 'sqlite', path: ':memory:' };
    if (rest.startsWith('///')) rest = rest.slice(2); // sqlite:///abs/path, the SQLAlchemy spelling
    else if (rest.startsWith('//')) rest = '';
    if (rest.length > 0) return { kind: 'sqlite', path: resolve(rest) };
  }
  throw new Error(`unsupported metadata store URL '${url}'; use one of: ${ACCEPTED_FORMS}`);
}

export async function openMetadataStore(url: string, options: MetadataStoreOptions = {}): Promise<MetadataStore> {
  const target = parseMetadataUrl(url);
  return target.kind === 'sqlite'
    ? openSqliteMetadataStore(target.path, options)
    : openPostgresMetadataStore(target.url, options);
}
