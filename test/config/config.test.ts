import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError, configReference, loadConfig } from '../../src/config.js';

test('defaults follow the embedded layout under --data-dir', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.kafkaPort, 9092);
  assert.equal(c.metadata, 'sqlite:./streamhouse-data/meta.sqlite');
  assert.equal(c.objects, 'file:./streamhouse-data/objects');
  assert.equal(c.advertisedPort, 9092);
  assert.equal(c.profile, 'balanced');
});

test('precedence: flag over environment over file over default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ kafkaPort: 1111, 'registry-port': 2222, profile: 'glacier' }));
  const c = loadConfig({ configFile: file, env: { STREAMHOUSE_KAFKA_PORT: '3333', STREAMHOUSE_PROFILE: 'ultra-safe' }, flags: { profile: 'high-throughput' } });
  assert.equal(c.kafkaPort, 3333);
  assert.equal(c.registryPort, 2222);
  assert.equal(c.profile, 'high-throughput');
});

test('bad values name the flag, the variable and the accepted values', () => {
  assert.throws(() => loadConfig({ env: {}, flags: { kafkaPort: '70000' } }), /--kafka-port.*0-65535/);
  assert.throws(() => loadConfig({ env: { STREAMHOUSE_PROFILE: 'fast' } }), (e: Error) => e instanceof ConfigError && /STREAMHOUSE_PROFILE/.test(e.message) && /ultra-safe, balanced/.test(e.message));
  assert.throws(() => loadConfig({ env: {}, flags: { metadata: 'mysql://x' } }), /sqlite: or postgres:/);
  assert.throws(() => loadConfig({ env: {}, flags: { autoCreateTopics: 'maybe' } }), /true or false/);
  assert.throws(() => loadConfig({ env: {}, flags: { numPartitions: '0' } }), /at least 1/);
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'bad.json'), '{ nope');
  assert.throws(() => loadConfig({ env: {}, configFile: join(dir, 'bad.json') }), /not valid JSON/);
  writeFileSync(join(dir, 'unknown.json'), '{"kafkaPortt": 1}');
  assert.throws(() => loadConfig({ env: {}, configFile: join(dir, 'unknown.json') }), /unknown setting\(s\) kafkaPortt/);
  assert.throws(() => loadConfig({ env: {}, configFile: join(dir, 'missing.json') }), /cannot read/);
});

test('the README configuration table is the generated reference', () => {
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');
  assert.ok(readme.includes(configReference()), 'README.md is out of date: paste configReference() output into it');
});

test('KIP-848 group timeouts: Kafka defaults, reach the group coordinator, interval below timeout', async () => {
  const { groupConfigFrom } = await import('../../src/coordinator/group/config.js');
  const d = loadConfig({ env: {} });
  assert.equal(d.groupConsumerSessionTimeoutMs, 45000);
  assert.equal(d.groupConsumerHeartbeatIntervalMs, 5000);
  const c = loadConfig({ env: { STREAMHOUSE_GROUP_CONSUMER_SESSION_TIMEOUT_MS: '20000' }, flags: { groupConsumerHeartbeatIntervalMs: '1500' } });
  const g = groupConfigFrom(c);
  assert.equal(g.consumerSessionTimeoutMs, 20000);
  assert.equal(g.consumerHeartbeatIntervalMs, 1500);
  assert.throws(
    () => loadConfig({ env: {}, flags: { groupConsumerHeartbeatIntervalMs: '45000' } }),
    (e: Error) => e instanceof ConfigError && /--group-consumer-heartbeat-interval-ms \(45000\) must be below --group-consumer-session-timeout-ms/.test(e.message),
  );
});
