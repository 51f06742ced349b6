// Captures golden request frames from real clients (kafkajs in process, kcat from Debian) through a
// recording proxy in front of a StreamHouse broker, and writes them as hex files under
// test/golden/<client>/. Run after a protocol change that needs new captures:
//   npx tsc -p . && node dist/test/golden/capture.js
// The golden test (test/protocol/golden.test.ts) then decodes and re-encodes each byte for byte.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKcat } from '../helpers/kcat.js';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { startTestBroker } from '../helpers/broker.js';
import { startRecordingProxy, type RecordedFrame } from '../helpers/recording-proxy.js';

const WANTED = new Map([
  [0, 'produce'],
  [1, 'fetch'],
  [3, 'metadata'],
  [18, 'api-versions'],
]);
const outRoot = join(dirname(fileURLToPath(import.meta.url)), '../../../test/golden');

function save(client: string, frames: RecordedFrame[]): void {
  const dir = join(outRoot, client);
  mkdirSync(dir, { recursive: true });
  const seen = new Set<string>();
  for (const f of frames) {
    const name = WANTED.get(f.apiKey);
    if (!name) continue;
    const file = `${name}-v${f.apiVersion}.hex`;
    if (seen.has(file)) continue;
    seen.add(file);
    writeFileSync(join(dir, file), f.bytes.toString('hex') + '\n');
    console.log(`${client}/${file} (${f.bytes.length} bytes)`);
  }
}

async function main(): Promise<void> {
  let brokerPort = 0;
  const proxy = await startRecordingProxy(() => brokerPort);
  const broker = await startTestBroker({ advertisedPort: proxy.port });
  brokerPort = broker.port;
  const bootstrap = `127.0.0.1:${proxy.port}`;

  const kafka = new Kafka({ clientId: 'golden', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({
    topic: 'golden',
    compression: CompressionTypes.GZIP,
    messages: [
      { key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: '1700000000000' },
      { key: null, value: 'v2', timestamp: '1700000000001' },
    ],
  });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'golden-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'golden', fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({ eachMessage: async () => resolve() });
  });
  await consumer.disconnect();
  save('kafkajs', proxy.frames.splice(0));

  // kcat runs asynchronously: the broker lives in this process and must keep answering.
  const kcat = (args: string[], input?: string) => runKcat(['-b', bootstrap, ...args], { input, timeoutMs: 20_000 });
  await kcat(['-L']);
  await kcat(['-P', '-t', 'golden', '-K', ':', '-z', 'snappy'], 'a:1\nb:2\n');
  await kcat(['-C', '-t', 'golden', '-o', 'beginning', '-e', '-q']);
  save('kcat', proxy.frames.splice(0));

  await broker.stop();
  await proxy.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
