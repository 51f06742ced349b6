// The fixture of the disruption tests (kill -9, SIGSTOP, PostgreSQL restart): one PostgreSQL and
// three child-process agents sharing a file: object store, started before the file's tests and
// torn down after them, with the consumers a failed test left running stopped first.
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { killAll, startAgent, type ChildAgent } from './child-agents.js';

export interface ThreeAgents {
  pg: TestPostgres;
  root: string;
  /** Replace an entry to restart an agent; the teardown kills whatever is in it then. */
  agents: ChildAgent[];
  /** Stops the consumers of a failed test (a kafkajs consumer would keep the process alive). */
  stopConsumers: (() => unknown)[];
}

export function threeAgents(name: string, leaseMs: number): ThreeAgents {
  const f = { root: '', agents: [], stopConsumers: [] } as unknown as ThreeAgents;
  before(async () => {
    f.pg = await startPostgres();
    f.root = mkdtempSync(join(tmpdir(), `streamhouse-${name}-`));
    for (let i = 0; i < 3; i++) f.agents.push(await startAgent({ root: f.root, index: i, metadataUrl: f.pg.url, leaseMs }));
  });
  after(async () => {
    for (const stop of f.stopConsumers) await stop();
    killAll(f.agents);
    await f.pg?.stop();
    if (f.root) rmSync(f.root, { recursive: true, force: true });
  });
  return f;
}
