// The admin HTTP endpoints of a running agent: /health, /ready, /metrics after real traffic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../helpers/broker.js';

async function get(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The value of one sample line, e.g. metric('x_total', '{api="Metadata"') */
function sample(text: string, name: string, labelsContain = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{') && l.includes(labelsContain));
  assert.ok(line, `no sample ${name} ${labelsContain} in:\n${text.slice(0, 400)}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('health, readiness and 404 on the admin port', async () => {
  const b = await startTestBroker();
  try {
    const port = b.agent.httpPort;
    assert.ok(port > 0);
    const h = await get(port, '/health');
    assert.equal(h.status, 200);
    assert.deepEqual(JSON.parse(h.body), { status: 'ok' });
    const r = await get(port, '/ready');
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).checks.find((c: { name: string }) => c.name === 'metadata').ok, true);
    assert.equal((await get(port, '/nope')).status, 404);
    assert.equal((await get(port, '/metrics', 'POST')).status, 405);

    b.agent.readiness.add('wal', () => {
      throw new Error('WAL recovery still running');
    });
    const nr = await get(port, '/ready');
    assert.equal(nr.status, 503);
    assert.match(nr.body, /WAL recovery still running/);
  } finally {
    await b.stop();
  }
});

test('metrics count requests by API and version, bytes and connections after traffic', async () => {
  const b = await startTestBroker();
  try {
    const admin = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.describeCluster();
    const m = await get(b.agent.httpPort, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.type, /text\/plain/);
    assert.ok(sample(m.body, 'streamhouse_requests_total', 'api="ApiVersions"') >= 1);
    assert.ok(sample(m.body, 'streamhouse_requests_total', 'api="Metadata"') >= 1);
    assert.match(m.body, /streamhouse_requests_total\{api="Metadata",version="\d+",outcome="ok"\}/);
    assert.ok(sample(m.body, 'streamhouse_request_duration_seconds_count', 'api="Metadata"') >= 1);
    assert.ok(sample(m.body, 'streamhouse_network_received_bytes_total') > 0);
    assert.ok(sample(m.body, 'streamhouse_network_sent_bytes_total') > 0);
    assert.ok(sample(m.body, 'streamhouse_connections') >= 1);
    assert.ok(sample(m.body, 'streamhouse_connections_accepted_total') >= 1);
    assert.ok(sample(m.body, 'process_cpu_user_seconds_total') > 0);
    assert.ok(sample(m.body, 'nodejs_heap_size_total_bytes') > 0);
    // Defined even before the modules that feed them report anything.
    for (const name of ['streamhouse_wal_fsync_duration_seconds', 'streamhouse_block_cache_hit_ratio', 'streamhouse_segment_uploads_total', 'streamhouse_object_store_requests_total', 'streamhouse_consumer_group_lag', 'streamhouse_topic_produced_bytes_total']) {
      assert.match(m.body, new RegExp(`# TYPE ${name} `));
    }
    await admin.disconnect();
  } finally {
    await b.stop();
  }
});

test('two agents in one process keep separate registries', async () => {
  const a = await startTestBroker();
  const c = await startTestBroker();
  try {
    a.agent.metrics.produced('t', 100, 2);
    const ma = await get(a.agent.httpPort, '/metrics');
    const mc = await get(c.agent.httpPort, '/metrics');
    assert.equal(sample(ma.body, 'streamhouse_topic_produced_bytes_total', 'topic="t"'), 100);
    assert.doesNotMatch(mc.body, /streamhouse_topic_produced_bytes_total\{topic="t"\}/);
  } finally {
    await a.stop();
    await c.stop();
  }
});
