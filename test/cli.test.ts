// The streamhouse command as a user runs it: bad flags fail fast, SIGTERM stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../src/cli.js');

test('a bad flag value exits 2 with a message naming the flag and the fix', () => {
  const r = spawnSync(process.execPath, [cli, 'serve', '--kafka-port', 'abc'], { encoding: 'utf8', env: { ...process.env, STREAMHOUSE_LOG_LEVEL: 'silent' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--kafka-port.*whole number/);
  const p = spawnSync(process.execPath, [cli, 'serve', '--profile', 'turbo'], { encoding: 'utf8' });
  assert.equal(p.status, 2);
  assert.match(p.stderr, /ultra-safe, balanced, high-throughput, glacier/);
});

test('an unknown flag is refused by the command line parser', () => {
  const r = spawnSync(process.execPath, [cli, 'serve', '--kafka-prot', '1'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown option '--kafka-prot'/);
});

test('serve answers Kafka clients and exits 0 on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dir, '--kafka-port', '0', '--host', '127.0.0.1', '--advertised-host', '127.0.0.1', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 15000);
    child.stdout.on('data', () => {
      const m = out.match(/"kafka":"127\.0\.0\.1:(\d+)"/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  assert.equal((await admin.describeCluster()).brokers.length, 1);
  await admin.disconnect();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 0);
  assert.match(out, /"msg":"stopped"/);
  rmSync(dir, { recursive: true, force: true });
});
