// Versioned schema migrations, applied in order at open inside one transaction and recorded in
// `schema_migrations`. Append new versions; never edit an applied one.
//
// DDL is written once with two type tokens expanded per dialect: INT64 (SQLite INTEGER, PostgreSQL
// BIGINT) and BYTES (BLOB, BYTEA); PostgreSQL TEXT columns get the "C" collation. SQLite tables
// are STRICT so a wrongly typed bind fails loudly instead of being stored as text. A step that
// differs beyond that gives both forms.

import type { Dialect, SqlDatabase, SqlExecutor } from './sql.js';
import { MetadataError } from './errors.js';
import { toNumber } from './sql.js';

export type MigrationStep = string | { sqlite: string; postgres: string };

export interface Migration {
  version: number;
  name: string;
  steps: MigrationStep[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    steps: [
      `CREATE TABLE cluster_info (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         cluster_id TEXT NOT NULL)`,
      `CREATE TABLE topics (
         id TEXT PRIMARY KEY,
         name TEXT NOT NULL UNIQUE,
         partitions INTEGER NOT NULL,
         configs TEXT NOT NULL)`,
      `CREATE TABLE partitions (
         topic_id TEXT NOT NULL,
         partition_index INTEGER NOT NULL,
         log_start_offset INT64 NOT NULL,
         leader_epoch INTEGER NOT NULL,
         leader_agent TEXT,
         lease_expires_at INT64,
         PRIMARY KEY (topic_id, partition_index))`,
      `CREATE TABLE segments (
         topic_id TEXT NOT NULL,
         partition_index INTEGER NOT NULL,
         base_offset INT64 NOT NULL,
         last_offset INT64 NOT NULL,
         size_bytes INT64 NOT NULL,
         max_timestamp INT64 NOT NULL,
         object_key TEXT NOT NULL UNIQUE,
         leader_epoch INTEGER NOT NULL,
         created_at INT64 NOT NULL,
         producer_state BYTES,
         PRIMARY KEY (topic_id, partition_index, base_offset))`,
      `CREATE TABLE group_offsets (
         group_id TEXT NOT NULL,
         topic TEXT NOT NULL,
         partition_index INTEGER NOT NULL,
         committed_offset INT64 NOT NULL,
         leader_epoch INTEGER NOT NULL,
         metadata TEXT,
         commit_timestamp INT64 NOT NULL,
         expire_timestamp INT64,
         PRIMARY KEY (group_id, topic, partition_index))`,
      `CREATE INDEX group_offsets_topic ON group_offsets (topic)`,
      `CREATE TABLE producer_ids (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         next_id INT64 NOT NULL)`,
      `INSERT INTO producer_ids (id, next_id) VALUES (1, 0)`,
      `CREATE TABLE kv_entries (
         namespace TEXT NOT NULL,
         entry_key TEXT NOT NULL,
         entry_value BYTES NOT NULL,
         version INT64 NOT NULL,
         PRIMARY KEY (namespace, entry_key))`,
      `CREATE TABLE leases (
         resource TEXT PRIMARY KEY,
         holder TEXT,
         epoch INTEGER NOT NULL,
         expires_at INT64)`,
    ],
  },
  {
    version: 2,
    name: 'schema registry',
    steps: [
      // One row per distinct schema (type, text, references): ids are global, as Confluent's are.
      `CREATE TABLE schemas (
         id INTEGER PRIMARY KEY,
         schema_type TEXT NOT NULL,
         schema_text TEXT NOT NULL,
         refs TEXT NOT NULL,
         fingerprint TEXT NOT NULL UNIQUE)`,
      `CREATE TABLE subject_versions (
         subject TEXT NOT NULL,
         version INTEGER NOT NULL,
         schema_id INTEGER NOT NULL,
         deleted INTEGER NOT NULL,
         PRIMARY KEY (subject, version))`,
      `CREATE INDEX subject_versions_schema ON subject_versions (schema_id)`,
      // subject '' holds the global settings; NULL means "not set here".
      `CREATE TABLE registry_config (
         subject TEXT PRIMARY KEY,
         compatibility TEXT,
         mode TEXT)`,
    ],
  },
  {
    version: 3,
    name: 'cluster agents',
    steps: [
      // One row per agent that ever joined; live = heartbeat_at recent on the database clock.
      // node_id is the Kafka broker id, allocated once per agent id and never reused.
      `CREATE TABLE agents (
         agent_id TEXT PRIMARY KEY,
         node_id INTEGER NOT NULL UNIQUE,
         host TEXT NOT NULL,
         port INTEGER NOT NULL,
         rack TEXT,
         wal_dir TEXT,
         heartbeat_at INT64 NOT NULL,
         started_at INT64 NOT NULL)`,
      `CREATE INDEX partitions_leader ON partitions (leader_agent)`,
      `CREATE INDEX leases_holder ON leases (holder)`,
    ],
  },
  {
    version: 4,
    name: 'segment writer',
    steps: [
      // Cluster mode: the agent that committed the segment (it held the lease at that epoch), so an
      // audit can show that one epoch of a partition was only ever written by one agent.
      `ALTER TABLE segments ADD COLUMN agent_id TEXT`,
    ],
  },
  {
    version: 5,
    name: 'segment records epoch',
    steps: [
      // The leader epoch stamped in the segment's batches, which differs from leader_epoch (the
      // committer's, for fencing) when a new leader uploads the tail it recovered from its
      // predecessor's WAL. The leader-epoch history (OffsetForLeaderEpoch) is built from it.
      `ALTER TABLE segments ADD COLUMN records_epoch INTEGER`,
    ],
  },
];

/** Arbitrary constant naming StreamHouse's migration lock among PostgreSQL advisory locks. */
const MIGRATION_LOCK_KEY = 0x53544d48; // 'STMH'

export function expandStep(step: MigrationStep, dialect: Dialect['name']): string {
  if (typeof step !== 'string') return step[dialect];
  const sqlite = dialect === 'sqlite';
  let sql = step.replace(/\bINT64\b/g, sqlite ? 'INTEGER' : 'BIGINT').replace(/\bBYTES\b/g, sqlite ? 'BLOB' : 'BYTEA');
  // Byte-wise text ordering in PostgreSQL too, so listings sort the same on both backends.
  if (!sqlite) sql = sql.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
  if (sqlite && /^\s*CREATE TABLE/i.test(sql)) sql += ' STRICT';
  return sql;
}

/**
 * Brings the schema up to date and returns the versions applied now (empty when already current).
 * Safe to run from several agents at once: PostgreSQL serializes them on an advisory lock held
 * until commit; SQLite on its write lock (BEGIN IMMEDIATE).
 */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    if (tx.dialect.name === 'postgres') await tx.all('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.run(
      expandStep(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version INTEGER PRIMARY KEY,
           name TEXT NOT NULL,
           applied_at INT64 NOT NULL)`,
        tx.dialect.name,
      ),
    );
    const applied = new Set((await tx.all('SELECT version FROM schema_migrations')).map((r) => toNumber(r.version)));
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const ahead = [...applied].filter((v) => v > newest);
    if (ahead.length > 0) {
      throw new MetadataError(
        `the metadata schema is at version ${Math.max(...ahead)} but this StreamHouse knows only up to ` +
          `${newest}; upgrade StreamHouse (a newer agent already migrated this store)`,
      );
    }
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      await applyMigration(tx, m);
      done.push(m.version);
    }
    return done;
  });
}

async function applyMigration(tx: SqlExecutor, m: Migration): Promise<void> {
  for (const step of m.steps) await tx.run(expandStep(step, tx.dialect.name));
  await tx.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, ${tx.dialect.nowMs})`, [
    m.version,
    m.name,
  ]);
}
