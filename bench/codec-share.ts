// The share of broker CPU spent in the protocol codec during a produce load: the broker runs as a
// child process under --cpu-prof while Kafka's ProducerPerformance (1 KiB records, acks=all)
// writes to it; the profile's self time is then split into the generated codec and wire
// primitives, record-batch checks (CRC, validation), and everything else.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaTool, expectSuccess } from '../test/helpers/kafka-tools.js';

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

const cli = join(dirname(fileURLToPath(import.meta.url)), '../src/cli.js');

export async function runCodecShare(records = 100_000): Promise<CodecShare> {
  const dir = mkdtempSync(join(tmpdir(), 'sh-prof-'));
  const profDir = join(dir, 'prof');
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, cli, 'serve', '--data-dir', join(dir, 'data'), '--kafka-port', '0', '--host', '127.0.0.1', '--advertised-host', '127.0.0.1', '--http-port', '0', '--registry-port', '0', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(/"kafka":"[^"]*:(\d+)"/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`broker exited ${c}: ${out.slice(-1000)}`)));
  });
  child.stdout!.resume();
  const bootstrap = `127.0.0.1:${port}`;
  expectSuccess(await kafkaTool.TopicCommand(['--bootstrap-server', bootstrap, '--create', '--topic', 'prof', '--partitions', '4'], { timeoutMs: 60_000 }), 'create topic');
  expectSuccess(
    await kafkaTool.ProducerPerformance(['--topic', 'prof', '--num-records', String(records), '--record-size', '1024', '--throughput', '-1', '--command-property', `bootstrap.servers=${bootstrap}`, 'acks=all'], { timeoutMs: 600_000 }),
    'ProducerPerformance',
  );
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
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
