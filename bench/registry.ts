// Schema registry benchmark: GET /schemas/ids/{id} requests per second over keep-alive HTTP,
// register latency (each call a new, compatible version, on a SQLite file store), the cost
// broker-side validation adds per batch measured on the validator alone (id-only and full
// decode), and the same cost end to end: a kafkajs producer against an in-process broker,
// producing to a topic without validation, one with confluent.value.schema.validation and one
// with confluent.value.schema.validation.full as well.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataStore } from '../src/metadata/index.js';
import { buildBatch } from '../src/protocol/records/build.js';
import { RegistryServer, SchemaRegistry } from '../src/registry/index.js';
import { formatOf } from '../src/registry/formats/index.js';
import { validateBatchSchemas } from '../src/registry/validation.js';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../test/helpers/broker.js';

export type RegistryBenchRow = { metric: string; value: number; unit: string };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function runRegistryBench(
  opts: { durationMs?: number; concurrency?: number; registers?: number; batches?: number; produceRecords?: number } = {},
): Promise<RegistryBenchRow[]> {
  const durationMs = opts.durationMs ?? 3000;
  const concurrency = opts.concurrency ?? 32;
  const registers = opts.registers ?? 200;
  const batches = opts.batches ?? 2000;
  const dir = mkdtempSync(join(tmpdir(), 'streamhouse-registry-bench-'));
  const store = await openMetadataStore(`sqlite:${join(dir, 'meta.sqlite')}`);
  const registry = new SchemaRegistry(store.schemas);
  const server = new RegistryServer(registry, { host: '127.0.0.1', port: 0 });
  const rows: RegistryBenchRow[] = [];
  try {
    const { port } = await server.listen();
    const url = `http://127.0.0.1:${port}`;
    const fields: object[] = [{ name: 'id', type: 'long' }];
    const schemaFor = () => JSON.stringify({ type: 'record', name: 'Bench', namespace: 'bench', fields });

    // Register latency: every call adds a field with a default (BACKWARD-compatible), so each one
    // parses, checks compatibility against the latest version and writes two rows.
    const latencies: number[] = [];
    for (let i = 0; i < registers; i++) {
      fields.push({ name: `f${i}`, type: 'string', default: '' });
      const t0 = performance.now();
      const res = await fetch(`${url}/subjects/bench-value/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: schemaFor() }),
      });
      await res.json();
      if (res.status !== 200) throw new Error(`register failed with HTTP ${res.status}`);
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    rows.push({ metric: 'register latency p50', value: percentile(latencies, 50), unit: 'ms' });
    rows.push({ metric: 'register latency p99', value: percentile(latencies, 99), unit: 'ms' });

    // GET /schemas/ids/{id} from `concurrency` keep-alive loops on node:http (lighter than fetch,
    // which shares this process's one core with the server).
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const getOnce = (path: string) =>
      new Promise<number>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    let requests = 0;
    const deadline = performance.now() + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        while (performance.now() < deadline) {
          const status = await getOnce(`/schemas/ids/${1 + ((requests + w) % registers)}`);
          if (status !== 200) throw new Error(`GET failed with HTTP ${status}`);
          requests++;
        }
      }),
    );
    agent.destroy();
    rows.push({ metric: `GET /schemas/ids/{id} (${concurrency} concurrent)`, value: Math.round(requests / (durationMs / 1000)), unit: 'req/s' });

    // Validation cost per batch of 100 Avro records (~40-byte values).
    const small = JSON.stringify({ type: 'record', name: 'Click', namespace: 'bench', fields: [{ name: 'user', type: 'string' }, { name: 'ts', type: 'long' }] });
    const { id } = await registry.register('clicks-value', { schema: small, schemaType: 'AVRO', references: [] }, false);
    const type = (formatOf('AVRO').parse(small, [], false) as unknown as { type: { toBuffer(v: unknown): Buffer } }).type;
    const values = Array.from({ length: 100 }, (_, i) => {
      const body = type.toBuffer({ user: `user-${i}-${'x'.repeat(20)}`, ts: 1_700_000_000_000 + i });
      const v = Buffer.alloc(5 + body.length);
      v.writeInt32BE(id, 1);
      body.copy(v, 5);
      return v;
    });
    const batch = await buildBatch({ records: values.map((value) => ({ key: null, value, timestamp: 1_700_000_000_000n })) });
    const configs = {
      none: {},
      'id only': { 'confluent.value.schema.validation': 'true' },
      full: { 'confluent.value.schema.validation': 'true', 'confluent.value.schema.validation.full': 'true' },
    };
    for (const [name, cfg] of Object.entries(configs)) {
      await validateBatchSchemas('clicks', cfg, batch, registry, 1 << 20); // warm caches
      const t0 = performance.now();
      for (let i = 0; i < batches; i++) await validateBatchSchemas('clicks', cfg, batch, registry, 1 << 20);
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ metric: `validation ${name}: records per second (100-record batches)`, value: Math.round((batches * 100) / seconds), unit: 'records/s' });
      rows.push({ metric: `validation ${name}: time per batch`, value: (seconds * 1e6) / batches, unit: 'us' });
    }
  } finally {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const produceRecords = opts.produceRecords ?? Number(process.env.BENCH_REGISTRY_PRODUCE_RECORDS ?? 100_000);
  if (produceRecords > 0) rows.push(...(await runProduceValidationBench({ records: produceRecords })));
  return rows;
}

/**
 * records/s a kafkajs producer reaches (acks=all, `batchSize`-record sends, `inFlight` at a
 * time, one partition) on three topics: no validation, id-only validation and full validation; plus each
 * validated topic's cost relative to the unvalidated one. The topics are measured in rounds,
 * interleaved, so drift (JIT warm-up, GC, disk cache) falls on all three alike.
 */
export async function runProduceValidationBench(
  opts: { records?: number; batchSize?: number; rounds?: number; inFlight?: number } = {},
): Promise<RegistryBenchRow[]> {
  const records = opts.records ?? 100_000;
  const batchSize = opts.batchSize ?? 100;
  const rounds = opts.rounds ?? 10;
  // Several sends in flight keep the broker busy, so its CPU (where validation runs) rather than
  // the ack round trip bounds the rate; one at a time the cost would hide in latency noise.
  const inFlight = opts.inFlight ?? 16;
  const broker = await startTestBroker();
  const kafka = new Kafka({ clientId: 'registry-bench', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const topics = {
    none: { topic: 'bench-plain', configs: {} as Record<string, string> },
    'id only': { topic: 'bench-id-only', configs: { 'confluent.value.schema.validation': 'true' } as Record<string, string> },
    full: {
      topic: 'bench-full',
      configs: { 'confluent.value.schema.validation': 'true', 'confluent.value.schema.validation.full': 'true' } as Record<string, string>,
    },
  };
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map(({ topic, configs }) => ({
        topic,
        numPartitions: 1,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      })),
    });
    await admin.disconnect();

    // One Avro schema registered under every topic's value subject; values framed by hand:
    // magic byte 0, the big-endian schema id, then the Avro body (~40 bytes).
    const schema = JSON.stringify({ type: 'record', name: 'Click', namespace: 'bench', fields: [{ name: 'user', type: 'string' }, { name: 'ts', type: 'long' }] });
    let id = 0;
    for (const { topic } of Object.values(topics)) {
      const res = await fetch(`http://127.0.0.1:${broker.agent.registryPort}/subjects/${topic}-value/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema }),
      });
      if (res.status !== 200) throw new Error(`registering the bench schema failed with HTTP ${res.status}: ${await res.text()}`);
      id = ((await res.json()) as { id: number }).id;
    }
    const type = (formatOf('AVRO').parse(schema, [], false) as unknown as { type: { toBuffer(v: unknown): Buffer } }).type;
    const messages = Array.from({ length: batchSize }, (_, i) => {
      const body = type.toBuffer({ user: `user-${i}-${'x'.repeat(20)}`, ts: 1_700_000_000_000 + i });
      const value = Buffer.alloc(5 + body.length);
      value.writeInt32BE(id, 1);
      body.copy(value, 5);
      return { value };
    });

    await producer.connect();
    const loopsPerRound = Math.max(1, Math.round(records / batchSize / rounds / inFlight));
    const sendLoop = async (topic: string) => {
      for (let i = 0; i < loopsPerRound; i++) await producer.send({ topic, messages });
    };
    const elapsed: Record<string, number> = {};
    for (const [name, { topic }] of Object.entries(topics)) {
      for (let i = 0; i < 10; i++) await producer.send({ topic, messages }); // warm up caches and the connection
      elapsed[name] = 0;
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, { topic }] of Object.entries(topics)) {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: inFlight }, () => sendLoop(topic)));
        elapsed[name]! += performance.now() - t0;
      }
    }
    const sent = loopsPerRound * inFlight * rounds * batchSize;
    const rate = (name: string) => sent / (elapsed[name]! / 1000);
    const out: RegistryBenchRow[] = [];
    for (const name of Object.keys(topics)) {
      out.push({ metric: `produce ${name}: records per second (kafkajs, ${sent} records in ${batchSize}-record sends, ${inFlight} in flight, acks=all)`, value: Math.round(rate(name)), unit: 'records/s' });
    }
    for (const name of ['id only', 'full']) {
      out.push({ metric: `produce ${name}: throughput cost vs no validation`, value: Math.round((1 - rate(name) / rate('none')) * 1000) / 10, unit: '%' });
    }
    return out;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await broker.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void runRegistryBench().then((rows) => console.table(rows));
}
