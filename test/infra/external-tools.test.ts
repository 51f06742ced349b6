// The helpers that run external clients: process handling, and the explained failure when a
// tool is missing (a missing tool must fail a test with the fix, never skip it).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MissingToolError, projectRoot, runProcess, startProcess } from '../helpers/external-process.js';
import { runKafkaTool, KAFKA_TOOL } from '../helpers/kafka-tools.js';
import { runKcat } from '../helpers/kcat.js';
import { runConfluentKafka } from '../helpers/confluent-kafka.js';
import { procStatusBytes, randomClusterId } from '../../bench/apache-kafka.js';

const node = process.execPath;

describe('external process runner', () => {
  it('finds the project root from the compiled file, whatever the cwd', () => {
    const root = projectRoot();
    assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name, 'streamhouse');
    assert.ok(existsSync(join(root, 'test', 'helpers', 'python', 'confluent_driver.py')));
  });

  it('passes stdin and captures stdout, stderr and the exit code', async () => {
    const script = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{process.stdout.write(s.toUpperCase());console.error('err');process.exit(7)})";
    const r = await runProcess(node, ['-e', script], { timeoutMs: 10_000, input: 'abc\n', missingHint: '' });
    assert.deepEqual([r.code, r.stdout, r.stderr, r.timedOut], [7, 'ABC\n', 'err\n', false]);
  });

  it('ends a process that outlives its timeout and says so', async () => {
    const r = await runProcess(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 300, missingHint: '' });
    assert.equal(r.timedOut, true);
    assert.equal(r.signal, 'SIGTERM');
  });

  it('waits for matching lines in order, then stops the process', async () => {
    const p = startProcess(node, ['-e', "let i=0;setInterval(()=>console.log('line '+i++),20)"], { timeoutMs: 10_000, missingHint: '' });
    assert.equal(await p.waitForLine((l) => l === 'line 3', 5000), 'line 3');
    assert.equal(await p.waitForLine((l) => l.startsWith('line '), 5000), 'line 4');
    const r = await p.stop();
    assert.equal(r.timedOut, false);
    assert.equal(r.signal, 'SIGTERM');
  });

  it('rejects waitForLine when the process exits first', async () => {
    const p = startProcess(node, ['-e', "console.log('only')"], { timeoutMs: 10_000, missingHint: '' });
    await assert.rejects(p.waitForLine((l) => l === 'never', 5000), /exited/);
  });

  it('turns a missing executable into MissingToolError with the hint', async () => {
    await assert.rejects(runProcess('/nonexistent/tool', [], { timeoutMs: 1000, missingHint: 'install it' }), (e: unknown) => {
      assert.ok(e instanceof MissingToolError);
      assert.match(e.message, /\/nonexistent\/tool was not found\. install it/);
      return true;
    });
  });
});

describe('missing clients fail with the fix', () => {
  it('Kafka tools without fetched jars name the mvn command', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-jars-'));
    try {
      await assert.rejects(runKafkaTool(KAFKA_TOOL.TopicCommand, ['--help'], { timeoutMs: 1000, libDir: empty }), (e: unknown) => {
        assert.ok(e instanceof MissingToolError);
        assert.match(e.message, /mvn -q -B -f test\/java\/pom\.xml dependency:copy-dependencies/);
        return true;
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('kcat not installed names apt-get', async () => {
    const saved = process.env.KCAT;
    process.env.KCAT = '/nonexistent/kcat';
    try {
      await assert.rejects(runKcat(['-V'], { timeoutMs: 1000 }), /apt-get install -y kcat/);
    } finally {
      if (saved === undefined) delete process.env.KCAT;
      else process.env.KCAT = saved;
    }
  });

  it('python without confluent_kafka names pip', async () => {
    // -S hides site-packages, where pip puts confluent_kafka.
    await assert.rejects(runConfluentKafka('127.0.0.1:1', [{ op: 'metadata' }], { python: ['python3', '-S'] }), (e: unknown) => {
      assert.ok(e instanceof MissingToolError);
      assert.match(e.message, /cannot import confluent_kafka.*pip install confluent-kafka/s);
      return true;
    });
  });
});

describe('Apache Kafka bench helpers', () => {
  it('makes cluster ids in Kafka Uuid form', () => {
    for (let i = 0; i < 200; i++) assert.match(randomClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it('reads peak and current RSS of a live process, 0 for a dead one', () => {
    const rss = procStatusBytes(process.pid, 'VmRSS'); // read first: the peak can only grow after it
    assert.ok(rss > 1 << 20);
    assert.ok(procStatusBytes(process.pid, 'VmHWM') >= rss);
    assert.equal(procStatusBytes(2 ** 22 + 1, 'VmHWM'), 0);
  });
});
