// Starts a real StreamHouse agent in this process on an ephemeral port with a temp data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type BrokerConfig } from '../../src/config.js';
import { startAgent, type RunningAgent } from '../../src/agent.js';
import { silentLogger, createLogger } from '../../src/observability/logger.js';

export interface TestBroker {
  agent: RunningAgent;
  port: number;
  bootstrap: string;
  dataDir: string;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestBroker(overrides: Partial<Record<keyof BrokerConfig, unknown>> = {}): Promise<TestBroker> {
  const dataDir = (overrides.dataDir as string) ?? mkdtempSync(join(tmpdir(), 'streamhouse-test-'));
  const config = loadConfig({
    env: {},
    flags: {
      dataDir,
      host: '127.0.0.1',
      kafkaPort: 0,
      advertisedHost: '127.0.0.1',
      registryPort: 0,
      httpPort: 0,
      shutdownTimeoutMs: 2000,
      ...overrides,
    },
  });
  const log = process.env.STREAMHOUSE_TEST_LOG ? createLogger(process.env.STREAMHOUSE_TEST_LOG) : silentLogger();
  const agent = await startAgent(config, log);
  return {
    agent,
    port: agent.kafkaPort,
    bootstrap: `127.0.0.1:${agent.kafkaPort}`,
    dataDir,
    async stop(opts = {}) {
      await agent.stop();
      if (!opts.keepData && overrides.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
