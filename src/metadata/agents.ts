// AgentStore over SQL. Liveness is judged on the database clock (the one clock all agents share),
// so an agent's own clock skew cannot make it look live or dead to the others.
//
// Node ids (Kafka broker ids) are allocated as max + 1 under the UNIQUE constraint: two agents
// registering at once may pick the same number; the loser retries with the next one.

import type { Row, SqlDatabase } from './sql.js';
import { toNumber, toStringOrNull } from './sql.js';
import type { AgentRecord, AgentRegistration, AgentStore } from './types.js';

const COLUMNS = 'agent_id, node_id, host, port, rack, wal_dir, heartbeat_at, started_at';

function agentFromRow(r: Row): AgentRecord {
  return {
    agentId: String(r.agent_id),
    nodeId: toNumber(r.node_id),
    host: String(r.host),
    port: toNumber(r.port),
    rack: toStringOrNull(r.rack),
    walDir: toStringOrNull(r.wal_dir),
    heartbeatAt: toNumber(r.heartbeat_at),
    startedAt: toNumber(r.started_at),
  };
}

export class SqlAgentStore implements AgentStore {
  constructor(private readonly db: SqlDatabase) {}

  async register(a: AgentRegistration): Promise<AgentRecord> {
    const now = this.db.dialect.nowMs;
    const updated = await this.db.run(
      `UPDATE agents SET host = $2, port = $3, rack = $4, wal_dir = $5, heartbeat_at = ${now}, started_at = ${now} WHERE agent_id = $1`,
      [a.agentId, a.host, a.port, a.rack, a.walDir],
    );
    for (let attempt = 0; updated === 0; attempt++) {
      try {
        await this.db.run(
          `INSERT INTO agents (agent_id, node_id, host, port, rack, wal_dir, heartbeat_at, started_at)
           SELECT $1, COALESCE(MAX(node_id), -1) + 1, $2, $3, $4, $5, ${now}, ${now} FROM agents`,
          [a.agentId, a.host, a.port, a.rack, a.walDir],
        );
        break;
      } catch (err) {
        if (!this.db.isUniqueViolation(err) || attempt >= 20) throw err;
        // Another agent took that node id (or registered this agent id) meanwhile: look again.
        const again = await this.db.run(`UPDATE agents SET heartbeat_at = ${now} WHERE agent_id = $1`, [a.agentId]);
        if (again === 1) break;
      }
    }
    const rows = await this.db.all(`SELECT ${COLUMNS} FROM agents WHERE agent_id = $1`, [a.agentId]);
    return agentFromRow(rows[0]!);
  }

  async heartbeat(agentId: string): Promise<boolean> {
    return (await this.db.run(`UPDATE agents SET heartbeat_at = ${this.db.dialect.nowMs} WHERE agent_id = $1`, [agentId])) === 1;
  }

  async listLive(maxAgeMs: number): Promise<AgentRecord[]> {
    const rows = await this.db.all(`SELECT ${COLUMNS} FROM agents WHERE heartbeat_at > ${this.db.dialect.nowMs} - $1 ORDER BY node_id`, [maxAgeMs]);
    return rows.map(agentFromRow);
  }

  async listAll(): Promise<AgentRecord[]> {
    return (await this.db.all(`SELECT ${COLUMNS} FROM agents ORDER BY node_id`)).map(agentFromRow);
  }

  async deregister(agentId: string): Promise<void> {
    await this.db.run('UPDATE agents SET heartbeat_at = 0 WHERE agent_id = $1', [agentId]);
  }
}
