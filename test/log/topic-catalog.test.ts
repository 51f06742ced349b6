// TopicCatalog.refresh in cluster mode: changes another agent made in the shared store arrive as
// the same onChange events local changes raise, and a refresh that raced a local change keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMetadataStore } from '../../src/metadata/index.js';
import { TopicCatalog } from '../../src/log/topic-catalog.js';
import type { TopicRecord } from '../../src/metadata/types.js';

test("refresh reports another agent's creates, deletes, config and partition changes", async () => {
  const store = await openMetadataStore('sqlite::memory:');
  const here = new TopicCatalog(store);
  const there = new TopicCatalog(store); // another agent over the same store
  await here.create({ name: 'kept', partitions: 1 });
  const doomed = await here.create({ name: 'doomed', partitions: 1 });
  const grows = await here.create({ name: 'grows', partitions: 1 });
  await here.refresh();
  const events: string[] = [];
  here.onChange = (event, t: TopicRecord) => events.push(`${event}:${t.name}:${t.partitions}:${t.configs['retention.ms'] ?? '-'}`);

  await there.refresh();
  await there.delete(doomed.id);
  await there.addPartitions(grows.id, 3);
  const kept = (await there.get('kept'))!;
  await there.setConfigs(kept.id, { 'retention.ms': '1000' });
  await there.create({ name: 'fresh', partitions: 2 });
  assert.deepEqual(events, [], 'nothing is seen before the refresh');

  await here.refresh();
  assert.deepEqual(events.sort(), ['changed:grows:3:-', 'changed:kept:1:1000', 'created:fresh:2:-', 'deleted:doomed:1:-']);
  assert.equal(await here.get('doomed'), undefined);
  events.length = 0;
  await here.refresh();
  assert.deepEqual(events, [], 'an unchanged store reports nothing');
  await store.close();
});

test('a refresh that read the store before a local change does not undo it', async () => {
  const store = await openMetadataStore('sqlite::memory:');
  const catalog = new TopicCatalog(store);
  await catalog.refresh();
  const events: string[] = [];
  catalog.onChange = (event, t) => events.push(`${event}:${t.name}`);
  // The list is read first, then the topic is created locally, then the (stale) list arrives.
  const listTopics = store.topics.listTopics.bind(store.topics);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  store.topics.listTopics = async () => {
    const rows = await listTopics();
    await gate;
    return rows;
  };
  const refreshing = catalog.refresh();
  await catalog.create({ name: 'new', partitions: 1 });
  release();
  await refreshing;
  assert.ok(await catalog.get('new'), 'the topic created meanwhile is still known');
  assert.deepEqual(events, ['created:new'], 'and was not reported deleted');
  await store.close();
});
