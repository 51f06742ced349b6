// Where the broker's CPU goes while Kafka's ConsumerPerformance reads: the broker runs as a child
// process (optionally under --cpu-prof), ProducerPerformance fills a topic (1 KiB records,
// acks=all), then ConsumerPerformance reads it back; the profile's self time is summed per
// function and per source file, and the consumer's numbers (with and without the group join) and
// the broker's peak RSS are reported. Usage:
//   node dist/bench/consume-profile.js [records=100000] [partitions=1] [profile=ultra-safe] [cpuProf=1]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaTool, expectSuccess } from '../test/helpers/kafka-tools.js';
import { startChildBroker } from '../test/helpers/child-broker.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export async function runConsumeProfile(records: number, partitions: number, profile: string, cpuProf: boolean, extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'sh-cprof-'));
  const profDir = join(dir, 'prof');
  const broker = await startChildBroker({
    dataDir: join(dir, 'data'),
    profile,
    extraArgs: ['--group-initial-rebalance-delay-ms', '0', ...extra],
    cpuProfDir: cpuProf ? profDir : undefined,
    stderr: 'inherit',
    startTimeoutMs: 30_000,
  });
  const bootstrap = broker.bootstrap;
  expectSuccess(await kafkaTool.TopicCommand(['--bootstrap-server', bootstrap, '--create', '--topic', 'cprof', '--partitions', String(partitions)], { timeoutMs: 60_000 }), 'create topic');
  const produced = expectSuccess(
    await kafkaTool.ProducerPerformance(['--topic', 'cprof', '--num-records', String(records), '--record-size', '1024', '--throughput', '-1', '--command-property', `bootstrap.servers=${bootstrap}`, 'acks=all', 'linger.ms=5', 'batch.size=65536'], { timeoutMs: 600_000 }),
    'ProducerPerformance',
  );
  const peakAfterProduce = broker.peakRssBytes();
  const consumeStart = Date.now();
  const consumed = expectSuccess(
    await kafkaTool.ConsumerPerformance(['--bootstrap-server', bootstrap, '--topic', 'cprof', '--num-records', String(records), '--timeout', '120000', '--group', `g-${Date.now()}`], { timeoutMs: 600_000 }),
    'ConsumerPerformance',
  );
  const peak = broker.peakRssBytes();
  await broker.stop();
  const exitedAt = Date.now();
  const line = consumed.stdout.trim().split('\n').filter((l) => /^\d{4}-\d\d-\d\d/.test(l.trim())).pop() ?? '';
  const cols = line.split(',').map((s) => s.trim());
  const result = {
    produce: produced.stdout.trim().split('\n').filter((l) => l.includes('records sent')).pop(),
    consumeRecordsPerSec: Number(cols[5]),
    rebalanceMs: Number(cols[6]),
    fetchMs: Number(cols[7]),
    fetchRecordsPerSec: Number(cols[9]),
    peakRssMB: peak / 2 ** 20,
    peakRssAfterProduceMB: peakAfterProduce / 2 ** 20,
    top: [] as string[],
    files: [] as string[],
  };
  if (cpuProf) {
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))!;
    const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
    // Only the consume phase: sample times (µs, monotonic) aligned to the wall clock at exit.
    const from = prof.endTime - (exitedAt - consumeStart) * 1000;
    let at = prof.startTime;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const fn = new Map<string, number>();
    const fl = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, i) => {
      const dt = prof.timeDeltas[i] ?? 0;
      at += dt;
      if (at < from) return;
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(idle)') return;
      total += dt;
      const url = n.callFrame.url.replace(/^.*\/dist\//, '');
      const k = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber}`;
      fn.set(k, (fn.get(k) ?? 0) + dt);
      fl.set(url || n.callFrame.functionName, (fl.get(url || n.callFrame.functionName) ?? 0) + dt);
    });
    const fmt = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${(v / 1000).toFixed(0).padStart(6)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
    result.top = [`busy ${(total / 1000).toFixed(0)} ms`, ...fmt(fn)];
    result.files = fmt(fl);
  }
  rmSync(dir, { recursive: true, force: true });
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [records = '100000', partitions = '1', profile = 'ultra-safe', cpuProf = '1', ...extra] = process.argv.slice(2);
  const r = await runConsumeProfile(Number(records), Number(partitions), profile, cpuProf === '1', extra);
  console.log(JSON.stringify({ ...r, top: undefined, files: undefined }, null, 1));
  if (r.top.length) console.log(r.top.join('\n') + '\n--- by file ---\n' + r.files.join('\n'));
}
