// streamhouse produce <topic>: one record per stdin line.
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import type { KafkaClient } from '../client/client.js';
import type { RecordInput } from '../protocol/records/index.js';
import { brokerCommand, choiceArg, intArg, keyValueArg, withClient, type ConnectionFlags } from './common.js';
import { UsageError, action } from './exit.js';
import { partitionForKey } from './partitioner.js';
import { Progress, printJson } from './output.js';

const ACKS = ['all', '-1', '1', '0'] as const;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

interface ProduceFlags extends ConnectionFlags {
  partition?: number;
  keySeparator?: string;
  header?: Record<string, string>;
  acks: (typeof ACKS)[number];
  compression: (typeof CODECS)[number];
  batchSize: number;
}

export function produceCommand(): Command {
  return brokerCommand(new Command('produce').argument('<topic>').description('send stdin lines as records, one per line'))
    .addOption(new Option('-p, --partition <n>', 'partition to write to (default: by key hash, else round-robin per batch)').argParser(intArg('--partition', 0)))
    .option('-K, --key-separator <sep>', 'split each line at the first <sep> into key and value')
    .addOption(new Option('-H, --header <key=value>', 'record header on every record, repeatable').argParser(keyValueArg('--header')))
    .addOption(new Option('--acks <acks>', 'all (-1), 1 or 0').argParser(choiceArg('--acks', ACKS)).default('all'))
    .addOption(new Option('--compression <codec>', 'batch compression').argParser(choiceArg('--compression', CODECS)).default('none'))
    .addOption(new Option('--batch-size <n>', 'records per produce request').argParser(intArg('--batch-size', 1, 1_000_000)).default(500))
    .addHelpText('after', '\nExample:\n  printf "k1:hello\\nk2:world\\n" | streamhouse produce orders -K : --acks all --compression zstd')
    .action(action(async (topic: string, o: ProduceFlags) => {
      if (o.keySeparator === '') throw new UsageError('--key-separator: must not be empty');
      await withClient(o, (c) => produceLines(c, topic, o));
    }));
}

async function produceLines(c: KafkaClient, topic: string, o: ProduceFlags): Promise<void> {
  const info = await c.topic(topic, true);
  const count = info.partitions.length;
  if (o.partition !== undefined && o.partition >= count) {
    throw new UsageError(`--partition ${o.partition}: topic ${topic} has partitions 0-${count - 1}`);
  }
  const acks = o.acks === 'all' ? -1 : (Number(o.acks) as -1 | 0 | 1);
  const headers = Object.entries(o.header ?? {}).map(([key, value]) => ({ key, value }));
  const pending = new Map<number, RecordInput[]>();
  const progress = new Progress(`producing to ${topic}`, null);
  let sent = 0;
  let roundRobin = 0;
  const results: Array<{ partition: number; baseOffset: bigint | null; records: number }> = [];

  const flush = async (partition: number) => {
    const records = pending.get(partition);
    if (!records?.length) return;
    pending.delete(partition);
    const r = await c.produce(topic, partition, records, { acks, compression: o.compression, timeoutMs: o.timeoutMs });
    sent += records.length;
    results.push({ partition, baseOffset: r?.baseOffset ?? null, records: records.length });
    progress.update(sent, 'records');
  };

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    let key: string | null = null;
    let value = line;
    if (o.keySeparator !== undefined) {
      const i = line.indexOf(o.keySeparator);
      if (i >= 0) {
        key = line.slice(0, i);
        value = line.slice(i + o.keySeparator.length);
      }
    }
    const partition = o.partition ?? (key !== null ? partitionForKey(Buffer.from(key), count) : roundRobin % count);
    const batch = pending.get(partition) ?? [];
    batch.push({ key, value, headers, timestamp: Date.now() });
    pending.set(partition, batch);
    if (batch.length >= o.batchSize) {
      await flush(partition);
      if (key === null && o.partition === undefined) roundRobin++;
    }
  }
  for (const p of [...pending.keys()]) await flush(p);
  progress.done();
  if (o.json) printJson({ topic, records: sent, acks, batches: results });
  else process.stderr.write(`Produced ${sent} record${sent === 1 ? '' : 's'} to ${topic}${acks === 0 ? ' (acks=0: not confirmed)' : ''}\n`);
}
