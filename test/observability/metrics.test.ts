// The recording functions other modules call, read back through the exposition text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerMetrics, apiName } from '../../src/observability/metrics.js';

test('recorders and scrape-time sources appear in the exposition', async () => {
  const m = new BrokerMetrics({ defaults: false });
  m.request(0, 9, 0.002, false);
  m.request(0, 9, 0.003, true);
  m.produced('orders', 512, 4);
  m.fetched('orders', 256);
  m.walSync(0.001);
  m.segmentUpload('ok', 1000);
  m.segmentUpload('error');
  m.objectStoreRequest('put', 'retry', 0.2);
  m.cacheHit();
  m.cacheHit();
  m.cacheHit();
  m.cacheMiss();
  m.setPoolStatsSource({ poolStats: () => ({ total: 5, idle: 3, waiting: 1 }) });
  m.setWalQueueDepthSource(() => 7);
  m.setGroupLagSource(async () => [{ group: 'g', topic: 'orders', partition: 0, lag: 42 }]);
  const { body } = await m.exposition();
  const expect = [
    'streamhouse_requests_total{api="Produce",version="9",outcome="ok"} 1',
    'streamhouse_requests_total{api="Produce",version="9",outcome="error"} 1',
    'streamhouse_request_duration_seconds_count{api="Produce"} 2',
    'streamhouse_topic_produced_bytes_total{topic="orders"} 512',
    'streamhouse_topic_produced_records_total{topic="orders"} 4',
    'streamhouse_topic_fetched_bytes_total{topic="orders"} 256',
    'streamhouse_wal_fsync_duration_seconds_count 1',
    'streamhouse_wal_queue_depth 7',
    'streamhouse_segment_uploads_total{outcome="ok"} 1',
    'streamhouse_segment_uploads_total{outcome="error"} 1',
    'streamhouse_segment_uploaded_bytes_total 1000',
    'streamhouse_object_store_requests_total{operation="put",outcome="retry"} 1',
    'streamhouse_block_cache_hit_ratio 0.75',
    'streamhouse_metadata_pool_connections{state="active"} 2',
    'streamhouse_metadata_pool_connections{state="idle"} 3',
    'streamhouse_metadata_pool_connections{state="waiting"} 1',
    'streamhouse_consumer_group_lag{group="g",topic="orders",partition="0"} 42',
  ];
  for (const line of expect) assert.ok(body.includes(line + '\n'), `missing: ${line}`);
  assert.doesNotMatch(body, /^process_/m);
});

test('API names come from the generated codec', () => {
  assert.equal(apiName(3), 'Metadata');
  assert.equal(apiName(18), 'ApiVersions');
  assert.equal(apiName(9999), 'api_9999');
});
