// The share of broker CPU spent in the protocol codec during a produce load: the broker runs as a
// child process under --cpu-prof while Kafka's ProducerPerformance (1 KiB records, acks=all)
// writes to it; the profile's self time is then split into the generated codec and wire
// primitives, record-batch checks (CRC, validation), and everything else.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaTool, expectSuccess } from '../test/helpers/kafka-tools.js';
import { startChildBroker } from '../test/helpers/child-broker.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

export interface CodecShare {
  records: number;
  totalCpuMs: number;
  codecPercent: number;
  recordsPercent: number;
  idlePercent: number;
}

export async function runCodecShare(records = 100_000): Promise<CodecShare> {
  const dir = mkdtempSync(join(tmpdir(), 'sh-prof-'));
  const profDir = join(dir, 'prof');
  const broker = await startChildBroker({ dataDir: join(dir, 'data'), cpuProfDir: profDir, stderr: 'inherit', startTimeoutMs: 30_000 });
  const bootstrap = broker.bootstrap;
  expectSuccess(await kafkaTool.TopicCommand(['--bootstrap-server', bootstrap, '--create', '--topic', 'prof', '--partitions', '4'], { timeoutMs: 60_000 }), 'create topic');
  expectSuccess(
    await kafkaTool.ProducerPerformance(['--topic', 'prof', '--num-records', String(records), '--record-size', '1024', '--throughput', '-1', '--command-property', `bootstrap.servers=${bootstrap}`, 'acks=all'], { timeoutMs: 600_000 }),
    'ProducerPerformance',
  );
  await broker.stop();
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  rmSync(dir, { recursive: true, force: true });

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let total = 0;
  let codec = 0;
  let recordsTime = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    total += dt;
    const url = node.callFrame.url;
    if (node.callFrame.functionName === '(idle)') idle += dt;
    else if (url.includes('/protocol/generated/') || url.includes('/protocol/primitives')) codec += dt;
    else if (url.includes('/protocol/records/')) recordsTime += dt;
  });
  const busy = total - idle;
  return {
    records,
    totalCpuMs: busy / 1000,
    codecPercent: (100 * codec) / busy,
    recordsPercent: (100 * recordsTime) / busy,
    idlePercent: (100 * idle) / total,
  };
}
