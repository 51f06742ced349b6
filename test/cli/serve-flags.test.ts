// `streamhouse serve` refuses every kind of bad setting before starting anything: exit code 2 and
// one line naming the flag (or variable, or file key) and what it accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from './run.js';

interface Case {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  message: RegExp;
}

test('every bad flag class is refused with its message and exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-flags-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  // A data dir that must stay unused: nothing may be created when the settings are refused.
  const dataDir = join(dir, 'never-created');
  const cases: Case[] = [
    { name: 'port: not a number', args: ['--kafka-port', 'abc'], message: /flag --kafka-port \(--kafka-port \/ STREAMHOUSE_KAFKA_PORT\): expected a whole number, got "abc"/ },
    { name: 'port: out of range', args: ['--http-port', '70000'], message: /--http-port.*a port is 0-65535, got 70000/ },
    { name: 'int: not a number', args: ['--num-partitions', '1.5'], message: /--num-partitions.*expected a whole number, got "1\.5"/ },
    { name: 'int: below its minimum', args: ['--socket-request-max-bytes', '10'], message: /--socket-request-max-bytes.*must be at least 1024, got 10/ },
    { name: 'bool', args: ['--auto-create-topics', 'maybe'], message: /--auto-create-topics.*expected true or false, got "maybe"/ },
    { name: 'enum', args: ['--log-level', 'loud'], message: /--log-level.*expected one of fatal, error, warn, info, debug, trace, silent; got "loud"/ },
    { name: 'url: metadata scheme', args: ['--metadata', 'mysql://db/x'], message: /--metadata.*expected a URL starting with sqlite: or postgres: or postgresql:; got "mysql:\/\/db\/x"/ },
    { name: 'url: object store scheme', args: ['--objects', 'gs://bucket'], message: /--objects.*expected a URL starting with file: or s3:/ },
    { name: 'string: empty', args: ['--advertised-host', ''], message: /--advertised-host.*expected a non-empty string/ },
    { name: 'related flags disagree', args: ['--group-consumer-heartbeat-interval-ms', '50000'], message: /--group-consumer-heartbeat-interval-ms \(50000\) must be below --group-consumer-session-timeout-ms \(45000\)/ },
    { name: 'unknown flag', args: ['--kafka-prot', '9092'], message: /unknown option '--kafka-prot'[\s\S]*Did you mean --kafka-port\?/ },
    { name: 'environment variable', args: [], env: { STREAMHOUSE_PROFILE: 'turbo' }, message: /environment STREAMHOUSE_PROFILE \(--profile \/ STREAMHOUSE_PROFILE\): expected one of ultra-safe, balanced, high-throughput, glacier; got "turbo"/ },
    { name: 'environment variable: port', args: [], env: { STREAMHOUSE_REGISTRY_PORT: '-1' }, message: /environment STREAMHOUSE_REGISTRY_PORT.*a port is 0-65535, got -1/ },
    { name: 'config file: missing', args: ['--config', join(dir, 'absent.json')], message: /--config .*absent\.json: cannot read the file/ },
    { name: 'config file: not JSON', args: ['--config', file('broken.json', '{ "kafkaPort": ')], message: /--config .*broken\.json: not valid JSON/ },
    { name: 'config file: not an object', args: ['--config', file('array.json', '[1, 2]')], message: /--config .*array\.json: expected a JSON object of settings/ },
    { name: 'config file: unknown key', args: ['--config', file('typo.json', '{"kafkaPrt": 9092}')], message: /--config .*typo\.json: unknown setting\(s\) kafkaPrt; accepted: dataDir, host, kafkaPort/ },
    { name: 'config file: bad value', args: ['--config', file('value.json', '{"numPartitions": 0}')], message: /config file key numPartitions \(--num-partitions \/ STREAMHOUSE_NUM_PARTITIONS\): must be at least 1, got 0/ },
    { name: 'config file from the environment', args: [], env: { STREAMHOUSE_CONFIG: join(dir, 'absent.json') }, message: /--config .*absent\.json: cannot read the file/ },
  ];
  try {
    // Variables a developer's shell may carry would change what is being tested.
    const clean: NodeJS.ProcessEnv = {};
    for (const k of Object.keys(process.env)) if (k.startsWith('STREAMHOUSE_')) clean[k] = undefined;
    for (const c of cases) {
      const r = await runCli(['serve', '--data-dir', dataDir, ...c.args], { env: { ...clean, STREAMHOUSE_LOG_LEVEL: 'silent', ...c.env }, timeoutMs: 60_000 });
      assert.equal(r.code, 2, `${c.name}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, c.message, c.name);
      assert.equal(r.stdout, '', `${c.name}: nothing on stdout`);
    }
    assert.throws(() => rmSync(dataDir), /ENOENT/, 'a refused start created the data dir');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
