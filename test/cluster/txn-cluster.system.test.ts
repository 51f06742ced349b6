// Transactions across a three-agent cluster (child processes, one PostgreSQL, one file: store,
// 3 s leases): a consume-transform-produce loop whose transactional id, consumer group and output
// partitions live on different agents; then the same loop through a kill -9 of the transaction
// coordinator's agent and of an output partition's leader in the middle of a transaction; then
// Kafka's Java TransactionalMessageCopier through a kill -9 of its coordinator's agent. After each:
// a read_committed read has every input value exactly once and nothing aborted, the group's
// committed offsets are the input log ends, the coordinator describes the transaction as complete,
// and no output partition has an open transaction.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { expectSuccess, startKafkaTool, KAFKA_TOOL } from '../helpers/kafka-tools.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { createTopic, kafka, until } from './child-agents.js';
import {
  assertCommittedAtEnd,
  assertExactlyOnce,
  assertNoOpenTransactions,
  coordinatorPortOf,
  describeAtCoordinator,
  describeTransaction,
  initTransactions,
  latestOffset,
  leaderPorts,
  pickKey,
  produceInput,
  readCommitted,
  runEosLoop,
  settledLeaders,
  stallAround,
  startCluster,
  trace,
  type Cluster,
} from './txn-helpers.js';

const PARTITIONS = 4;
const TEST_TIMEOUT = 180_000;

let pgServer: TestPostgres;
const clusters: Cluster[] = [];

before(async () => {
  pgServer = await startPostgres();
});

after(async () => {
  for (const c of clusters) c.stop();
  await pgServer?.stop();
});

async function cluster(name: string): Promise<Cluster> {
  const c = await startCluster(pgServer, name);
  clusters.push(c);
  const ports = c.livePorts();
  await createTopic(ports, 'input', PARTITIONS);
  await createTopic(ports, 'output', PARTITIONS);
  return c;
}

/** The coordinator describes the transaction as finished, and the other live agents are not its coordinator. */
async function assertTransactionComplete(c: Cluster, transactionalId: string, expectedPort?: number): Promise<void> {
  const st = await describeAtCoordinator(c.livePorts(), transactionalId);
  assert.ok(['CompleteCommit', 'Empty'].includes(st.transactionState), `${transactionalId} is ${st.transactionState} at its coordinator (port ${st.coordinatorPort})`);
  assert.deepEqual(st.topics, [], `${transactionalId} has no partitions in a transaction`);
  const holder = await coordinatorPortOf(c.url, transactionalId);
  assert.equal(st.coordinatorPort, holder, 'FindCoordinator(transaction) names the holder of the shard lease');
  if (expectedPort !== undefined) assert.equal(st.coordinatorPort, expectedPort);
  for (const p of c.livePorts().filter((x) => x !== st.coordinatorPort)) {
    const other = await describeTransaction(p, transactionalId);
    assert.equal(other.errorCode, ErrorCode.NOT_COORDINATOR, `DescribeTransactions(${transactionalId}) at port ${p}, not its coordinator, answers NOT_COORDINATOR (got ${other.errorCode})`);
  }
}

async function assertEos(c: Cluster, input: string[], groupId: string, transactionalId: string, reader: string): Promise<void> {
  const ports = c.livePorts();
  assertExactlyOnce(await readCommitted(ports, 'output', input.length, reader), input);
  await assertCommittedAtEnd(ports, groupId, 'input');
  await assertTransactionComplete(c, transactionalId);
  await assertNoOpenTransactions(c.url, 'output', PARTITIONS);
}

test('transactions span agents: coordinator, group coordinator and output leaders on different agents', { timeout: TEST_TIMEOUT }, async () => {
  const started = Date.now();
  const c = await cluster('txn-span');
  const leaders = await settledLeaders(c.url, ['input', 'output'], PARTITIONS);
  const ports = c.livePorts();
  const leading = new Set([...leaders.get('input')!, ...leaders.get('output')!]);
  assert.equal(leading.size, 3, `all three agents lead partitions of input/output (${JSON.stringify([...leaders])})`);
  assert.ok(new Set(leaders.get('output')).size >= 2, 'output partitions are led by more than one agent');
  // The coordinator's agent leads some output partitions but not all: markers go both to its own
  // logs and over WriteTxnMarkers to another agent; TxnOffsetCommit goes to a third.
  const outputLeaders = leaders.get('output')!;
  const txn = await pickKey(c.url, 'span-txn', (p) => outputLeaders.includes(p) && outputLeaders.some((q) => q !== p));
  const group = await pickKey(c.url, 'span-group', (p) => p !== txn.port);

  trace(`span: txn ${txn.key}@${txn.port}, group ${group.key}@${group.port}, leaders ${JSON.stringify([...leaders])}`);
  const input = await produceInput(ports, 'input', PARTITIONS, 'span-', 300);
  trace('span: input written');
  // Two application failures on the way: an error before one commit (the loop aborts and goes back
  // to the committed offsets), and a zombie fence (a second producer with the same transactional
  // id takes over mid-transaction: the loop's commit fails, it cannot abort, it starts a new producer).
  const r = await runEosLoop({
    ports: () => c.livePorts(),
    input: 'input',
    output: 'output',
    outputPartitions: PARTITIONS,
    transactionalId: txn.key,
    groupId: group.key,
    expected: input.length,
    chunk: 10,
    abortEvery: 5,
    beforeCommit: async (n) => {
      if (n === 8) throw new Error('simulated application failure before commit');
      if (n === 20) {
        const fencer = kafka(c.livePorts(), 'span-fencer').producer({ transactionalId: txn.key, idempotent: true, maxInFlightRequests: 1 });
        await initTransactions(fencer);
        await fencer.disconnect();
      }
    },
  });
  assert.ok(r.intentionalAborts > 0, 'some transactions were aborted on purpose');
  assert.deepEqual(
    r.recoveries.map((x) => x.action),
    ['abort', 'new producer'],
    `the simulated failure was aborted, the fenced producer replaced, nothing else failed: ${JSON.stringify(r.recoveries)}`,
  );
  await assertEos(c, input, group.key, txn.key, 'span-reader');
  await assertTransactionComplete(c, txn.key, txn.port);
  console.log(`# span: txn coordinator ${txn.port}, group coordinator ${group.port}, output leaders ${leaders.get('output')}; ${r.committedTxns} commits, ${r.intentionalAborts} aborts; ${Date.now() - started} ms`);
});

test('transactions survive kill -9 of the transaction coordinator\'s agent', { timeout: TEST_TIMEOUT }, async () => {
  const started = Date.now();
  const c = await cluster('txn-coord-kill');
  const leaders = await settledLeaders(c.url, ['input', 'output'], PARTITIONS);
  const txn = await pickKey(c.url, 'ck-txn', () => true);
  const group = await pickKey(c.url, 'ck-group', (p) => p !== txn.port);
  const others = [...leaders.get('input')!, ...leaders.get('output')!].filter((p) => p !== txn.port);
  assert.ok(others.length > 0, 'the coordinator\'s agent is not the only leader');

  const input = await produceInput(c.livePorts(), 'input', PARTITIONS, 'ck-', 400);
  // Killed between sendOffsets and EndTxn: the transaction is Ongoing at the coordinator that dies.
  const { r, killedAt } = await loopKillingBeforeCommit(c, input.length, txn.key, group.key, txn.port);
  assert.ok(killedAt > 0, 'the coordinator\'s agent was killed during the loop');
  const newCoordinator = await until('another agent coordinating the transactional id', async () => {
    const p = await coordinatorPortOf(c.url, txn.key);
    return p !== undefined && p !== txn.port ? p : undefined;
  });
  const stall = stallAround(r.commitTimes, killedAt);
  await assertEos(c, input, group.key, txn.key, 'ck-reader');
  await assertTransactionComplete(c, txn.key, newCoordinator);
  console.log(
    `# coordinator kill: txn coordinator ${txn.port} -> ${newCoordinator}, group coordinator ${group.port}; loop stalled: first commit ${stall.firstCommitMs} ms after the last one before the kill, longest gap afterwards ${stall.longestGapMs} ms; ` +
      `${r.committedTxns} commits, ${r.intentionalAborts} aborts, recoveries ${JSON.stringify(r.recoveries.map((x) => `${x.action} after ${x.error.slice(0, 120)}`))}; ${Date.now() - started} ms`,
  );
  assert.ok(Number.isFinite(stall.firstCommitMs), 'a transaction committed after the kill');
});

/** The EOS loop over input -> output, with the agent on `victim` killed just before the 12th commit. */
async function loopKillingBeforeCommit(c: Awaited<ReturnType<typeof cluster>>, expected: number, transactionalId: string, groupId: string, victim: number) {
  let killedAt = 0;
  const r = await runEosLoop({
    ports: () => c.livePorts(),
    input: 'input',
    output: 'output',
    outputPartitions: PARTITIONS,
    transactionalId,
    groupId,
    expected,
    chunk: 10,
    abortEvery: 5,
    pauseMs: 20,
    beforeCommit: async (n) => {
      if (n !== 12 || killedAt) return;
      c.kill9(victim);
      killedAt = Date.now();
    },
  });
  return { r, killedAt };
}

test('kill -9 of an output partition leader mid-transaction: its markers reach the new leader', { timeout: TEST_TIMEOUT }, async () => {
  const started = Date.now();
  const c = await cluster('txn-leader-kill');
  const leaders = await settledLeaders(c.url, ['input', 'output'], PARTITIONS);
  // Three distinct agents: the victim leads an output partition, the coordinators are elsewhere.
  const outputLeaders = [...new Set(leaders.get('output')!)];
  let victim: number | undefined;
  let txn: { key: string; port: number } | undefined;
  let group: { key: string; port: number } | undefined;
  for (const v of outputLeaders) {
    const t = await pickKey(c.url, 'lk-txn', (p) => p !== v).catch(() => undefined);
    const g = t && (await pickKey(c.url, 'lk-group', (p) => p !== v && p !== t.port).catch(() => undefined));
    if (t && g) [victim, txn, group] = [v, t, g];
    if (victim !== undefined) break;
  }
  assert.ok(victim !== undefined && txn && group, `an output leader that coordinates neither the transaction nor the group (output leaders ${outputLeaders})`);
  const victimPartitions = leaders.get('output')!.flatMap((p, q) => (p === victim ? [q] : []));

  const input = await produceInput(c.livePorts(), 'input', PARTITIONS, 'lk-', 400);
  // Records of this transaction are on the victim's partitions; its commit markers must go to
  // whoever leads them next.
  const { r, killedAt } = await loopKillingBeforeCommit(c, input.length, txn.key, group.key, victim!);
  assert.ok(killedAt > 0, 'the output leader was killed during the loop');
  const moved = await until('the victim\'s output partitions led elsewhere', async () => {
    const now = await leaderPorts(c.url, 'output');
    return victimPartitions.every((q) => now[q] !== undefined && now[q] !== victim) ? now : undefined;
  });
  const stall = stallAround(r.commitTimes, killedAt);
  await assertEos(c, input, group.key, txn.key, 'lk-reader');
  await assertTransactionComplete(c, txn.key, txn.port);
  console.log(
    `# leader kill: output leader ${victim} (partitions ${victimPartitions}) killed, now ${victimPartitions.map((q) => moved[q])}; txn coordinator ${txn.port}, group ${group.port}; ` +
      `loop stalled: first commit ${stall.firstCommitMs} ms after the last one before the kill, longest gap afterwards ${stall.longestGapMs} ms; ${r.committedTxns} commits, recoveries ${JSON.stringify(r.recoveries.map((x) => `${x.action} after ${x.error.slice(0, 120)}`))}; ${Date.now() - started} ms`,
  );
  assert.ok(Number.isFinite(stall.firstCommitMs), 'a transaction committed after the kill');
});

test('Java TransactionalMessageCopier copies exactly once through a kill -9 of its coordinator\'s agent', { timeout: TEST_TIMEOUT }, async () => {
  const started = Date.now();
  const c = await cluster('txn-java');
  const IN_PARTITIONS = 2;
  const PER_PARTITION = 4000;
  await createTopic(c.livePorts(), 'jin', IN_PARTITIONS);
  await settledLeaders(c.url, ['jin'], IN_PARTITIONS);
  await settledLeaders(c.url, ['output'], PARTITIONS);
  const input = await produceInput(c.livePorts(), 'jin', IN_PARTITIONS, 'j-', IN_PARTITIONS * PER_PARTITION);
  // Both copiers' transactional ids on one agent (the victim); the group's coordinator elsewhere.
  const first = await pickKey(c.url, 'copier-a', () => true);
  const second = await pickKey(c.url, 'copier-b', (p) => p === first.port);
  const group = await pickKey(c.url, 'copier-group', (p) => p !== first.port);
  const bootstrap = c.livePorts().map((p) => `127.0.0.1:${p}`).join(',');
  const copiers = [first.key, second.key].map((id, partition) =>
    startKafkaTool(
      KAFKA_TOOL.TransactionalMessageCopier,
      [
        '--broker-list', bootstrap,
        '--input-topic', 'jin',
        '--input-partition', String(partition),
        '--output-topic', 'output',
        '--transactional-id', id,
        '--consumer-group', group.key,
        '--transaction-size', '50',
        '--transaction-timeout', '30000',
        '--max-messages', String(PER_PARTITION),
        '--enable-random-aborts',
        '--use-group-metadata',
      ],
      { timeoutMs: 150_000 },
    ),
  );
  try {
    // Kill once some transactions have committed, while the copiers run.
    const stableSum = async () => {
      const ports = await leaderPorts(c.url, 'output');
      let sum = 0n;
      for (let q = 0; q < PARTITIONS; q++) sum += (await latestOffset(ports[q]!, 'output', q, 1)).offset;
      return sum;
    };
    await until('the copiers committing', async () => (await stableSum()) >= BigInt(input.length / 5), 90_000);
    const running = copiers.map((p) => p.child.exitCode === null);
    c.kill9(first.port);
    const killedAt = Date.now();
    assert.ok(running.some((r) => r), 'a copier was still running at the kill');
    const results = await Promise.all(copiers.map((p) => p.exited));
    for (const r of results) {
      expectSuccess(r, 'TransactionalMessageCopier');
      assert.match(r.stdout, /"remaining":0/);
    }
    const copyDoneMs = Date.now() - killedAt;
    assertExactlyOnce(await readCommitted(c.livePorts(), 'output', input.length, 'java-reader', 90_000), input);
    await assertCommittedAtEnd(c.livePorts(), group.key, 'jin');
    for (const id of [first.key, second.key]) await assertTransactionComplete(c, id);
    await assertNoOpenTransactions(c.url, 'output', PARTITIONS);
    console.log(`# java copier: coordinator ${first.port} killed; copiers finished ${copyDoneMs} ms after the kill; ${Date.now() - started} ms`);
  } finally {
    await Promise.all(copiers.map((p) => p.stop().catch(() => undefined)));
  }
});
