// Disk full under the WAL: the broker (a child process, balanced profile) keeps its WAL on an 8 MiB
// tmpfs, which a filler file then fills to the last byte. Produce must fail with a retriable
// KAFKA_STORAGE_ERROR whose message names the cause and the fix, the high watermark must not move,
// and produce must succeed again once the filler is gone, with offsets continuing densely. A kill -9
// afterwards proves the WAL was left uncorrupted: the restart recovers exactly the acknowledged
// records (segments are never uploaded here, so the WAL is their only copy).
//
// Needs root with mount privileges (CAP_SYS_ADMIN) for `mount -t tmpfs`, hence a system test
// (npm run test:full); without them it fails and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { RawClient } from '../helpers/raw-client.js';
import { listOffset, readAll } from '../handlers/data-path.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { buildBatchSync } from '../../src/protocol/records/index.js';
import { ProduceRequestMessage, ProduceResponseMessage, createProduceRequest } from '../../src/protocol/generated/index.js';
import { freePort, startChildBroker, type ChildBroker } from '../helpers/child-broker.js';

function mountTmpfs(dir: string, size: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`this test mounts a ${size} tmpfs under the WAL and needs root with mount privileges (CAP_SYS_ADMIN, e.g. docker --privileged): mount failed: ${why}`);
  }
}

/** Writes zeros to `path` until the file system says ENOSPC. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let total = 0;
  try {
    for (;;) {
      try {
        total += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
    // A 64 KiB write fails whole when less is left; fill the rest in small steps.
    const small = Buffer.alloc(512);
    for (;;) {
      try {
        total += writeSync(fd, small);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return total;
        throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Names and Kafka error types along an error's cause chain (kafkajs wraps protocol errors). */
function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as Record<string, unknown> | undefined, i = 0; e && i < 5; i++) {
    parts.push(`${String(e.name)}:${String(e.type)}:${String(e.retriable)}:${String(e.message)}`);
    e = (e.originalError ?? e.cause) as Record<string, unknown> | undefined;
  }
  return parts.join(' <- ');
}

test('disk full under the WAL: retriable KAFKA_STORAGE_ERROR with a clear message, no corrupt WAL, writes resume', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sh-diskfull-'));
  const walDir = join(dataDir, 'wal');
  mkdirSync(walDir);
  let mounted = false;
  let child: ChildBroker | undefined;
  try {
    mountTmpfs(walDir, '8m');
    mounted = true;
    const port = await freePort();
    child = await startChildBroker({ dataDir, port, profile: 'balanced' });
    const kafka = new Kafka({ clientId: 'disk-full-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.connect();
    // No uploads during the test: the WAL stays the only copy of every record.
    await admin.createTopics({ topics: [{ topic: 'full', numPartitions: 1, configEntries: [{ name: 'segment.ms', value: '3600000' }] }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, retry: { retries: 0 } });
    await producer.connect();
    const acked = new Set<number>();
    let next = 0;
    const send = async (n: number) => {
      const ids = Array.from({ length: n }, () => next++);
      await producer.send({ topic: 'full', acks: -1, messages: ids.map((id) => ({ value: `id-${id}-${'d'.repeat(200)}` })) });
      for (const id of ids) acked.add(id);
    };
    for (let i = 0; i < 20; i++) await send(10);

    const filled = fillDisk(join(walDir, 'filler.bin'));
    t.diagnostic(`filler took ${filled} bytes`);

    // kafkajs sees a retriable KAFKA_STORAGE_ERROR (once the slack of the WAL file's last page is used).
    let refused: unknown = null;
    for (let i = 0; i < 10 && refused === null; i++) refused = await send(10).then(() => null, (err: unknown) => err);
    assert.ok(refused, 'produce kept succeeding on a full disk');
    const ackedWhenFull = BigInt(acked.size);
    const chain = errorChain(refused);
    assert.match(chain, /KAFKA_STORAGE_ERROR:true/, `kafkajs error: ${chain}`);
    // A raw Produce v9 shows the broker's message: the cause and the fix.
    const raw = await RawClient.connect(port);
    const res = await raw.request(ProduceRequestMessage, ProduceResponseMessage, 9, {
      ...createProduceRequest(),
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: 'full', partitionData: [{ index: 0, records: buildBatchSync({ records: [{ value: `id-${next++}-${'r'.repeat(8192)}` }] }) }] }],
    });
    const pr = res.responses[0].partitionResponses[0];
    assert.equal(pr.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    t.diagnostic(`broker says: ${pr.errorMessage}`);
    assert.match(pr.errorMessage ?? '', /ENOSPC/, 'the message names the errno');
    assert.match(pr.errorMessage ?? '', /full.*free space/, 'the message says what to do');
    assert.equal((await listOffset(raw, 'full', 0, -1n)).offset, ackedWhenFull, 'the high watermark did not move past refused records');

    // Space returns: writes resume, offsets continue without a gap.
    rmSync(join(walDir, 'filler.bin'));
    for (let i = 0; i < 20; i++) await send(10);
    assert.equal((await listOffset(raw, 'full', 0, -1n)).offset, ackedWhenFull + 200n, 'refused appends left no offsets behind');
    raw.close();
    await producer.disconnect();

    // kill -9: the restart has only the WAL to go on.
    await child.kill();
    child = await startChildBroker({ dataDir, port, profile: 'balanced' });
    assert.doesNotMatch(child.output(), /WAL.*(corrupt|torn|invalid)/i, 'recovery found no damage in the WAL');
    const raw2 = await RawClient.connect(port);
    const records = await readAll(raw2, 'full', 0);
    raw2.close();
    records.forEach((r, i) => assert.equal(r.offset, BigInt(i), 'offsets are dense'));
    const stored = records.map((r) => Number(r.value!.toString().split('-')[1]));
    assert.deepEqual(stored, [...acked].sort((a, b) => a - b), 'exactly the acknowledged records, in order, after kill -9');
  } finally {
    await child?.kill();
    if (mounted) execFileSync('umount', [walDir]);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
