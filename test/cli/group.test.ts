// streamhouse group ... end to end: consume with a group, list, describe, reset, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { runCli } from './run.js';

let b: TestBroker;
let bs: string[];
before(async () => {
  b = await startTestBroker();
  bs = ['--bootstrap-server', b.bootstrap];
});
after(async () => {
  await b.stop();
});

test('group offsets: commit by consuming, describe with lag, reset, delete', async () => {
  assert.equal((await runCli(['topic', 'create', 'g-topic', '-p', '1', ...bs])).code, 0);
  const lines = Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n') + '\n';
  assert.equal((await runCli(['produce', 'g-topic', ...bs], { stdin: lines })).code, 0);

  let r = await runCli(['consume', 'g-topic', '--group', 'g1', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 10);

  r = await runCli(['group', 'list', '--json', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).some((g: { groupId: string }) => g.groupId === 'g1'), r.stdout);

  r = await runCli(['group', 'describe', 'g1', '--json', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).offsets.map((o: { offset: number; lag: number }) => [o.offset, o.lag]), [[10, 0]]);

  r = await runCli(['group', 'reset-offsets', 'g1', '--topic', 'g-topic', '--to-offset', '4', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Dry run/);
  r = await runCli(['group', 'describe', 'g1', '--json', ...bs]);
  assert.equal(JSON.parse(r.stdout).offsets[0].offset, 10, 'a dry run changes nothing');

  r = await runCli(['group', 'reset-offsets', 'g1', '--topic', 'g-topic', '--to-offset', '4', '--execute', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['consume', 'g-topic', '--group', 'g1', '--limit', '2', ...bs]);
  assert.equal(r.stdout, 'm4\nm5\n');
  r = await runCli(['group', 'reset-offsets', 'g1', '--topic', 'g-topic', '--shift-by', '-100', '--execute', '--json', ...bs]);
  assert.equal(JSON.parse(r.stdout).partitions[0].newOffset, 0, 'shifts are clamped to the log start');

  r = await runCli(['group', 'delete', 'g1', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['group', 'describe', 'g1', ...bs]);
  assert.equal(r.code, 3, `a deleted group is not found: ${r.stderr}`);
});
