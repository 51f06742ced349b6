// streamhouse consume <topic>: reads records from a partition (or all of them) from an offset,
// a timestamp or a group's committed position, up to a limit or the end of the log.
import { Command, Option } from 'commander';
import avsc from 'avsc';
import { EARLIEST, LATEST, type ConsumedRecord, type KafkaClient } from '../client/client.js';
import { RegistryClient, splitSchemaFrame } from '../client/registry.js';
import { brokerCommand, choiceArg, intArg, timestampArg, withClient, type ConnectionFlags } from './common.js';
import { UsageError, action } from './exit.js';
import { Progress, toJson } from './output.js';

const FORMATS = ['text', 'json', 'avro'] as const;
const ISOLATION = ['read_uncommitted', 'read_committed'] as const;

interface ConsumeFlags extends ConnectionFlags {
  partition?: number;
  offset?: string;
  timestamp?: bigint;
  limit?: number;
  group?: string;
  isolationLevel: (typeof ISOLATION)[number];
  format: (typeof FORMATS)[number];
  registryUrl: string;
  follow?: boolean;
  printKey?: boolean;
  maxWaitMs: number;
}

export function consumeCommand(): Command {
  return brokerCommand(new Command('consume').argument('<topic>').description('print records of a topic'))
    .addOption(new Option('-p, --partition <n>', 'only this partition (default: all)').argParser(intArg('--partition', 0)))
    .option('-o, --offset <offset>', 'start at earliest, latest or an offset number (default: the group\'s committed offset, else earliest)')
    .addOption(new Option('--timestamp <time>', 'start at the first record at or after this time (epoch ms or ISO-8601)').argParser(timestampArg('--timestamp')).conflicts('offset'))
    .addOption(new Option('-n, --limit <n>', 'stop after this many records').argParser(intArg('--limit', 1)))
    .option('-g, --group <id>', 'start from this group\'s committed offsets and commit the position reached (the group must have no active members)')
    .addOption(new Option('--isolation-level <level>', 'read_committed hides aborted transactions and stops at the last stable offset').argParser(choiceArg('--isolation-level', ISOLATION)).default('read_uncommitted'))
    .addOption(new Option('-f, --format <format>', 'text (value per line), json (one object per line) or avro (values decoded with the registry)').argParser(choiceArg('--format', FORMATS)).default('text'))
    .addOption(new Option('--registry-url <url>', 'schema registry for --format avro').env('STREAMHOUSE_REGISTRY_URL').default('http://localhost:8081'))
    .option('--follow', 'keep waiting for new records instead of stopping at the end of the log')
    .option('--print-key', 'text format: print key<TAB>value')
    .addOption(new Option('--max-wait-ms <ms>', 'long-poll wait of each fetch').argParser(intArg('--max-wait-ms', 0)).default(500))
    .action(action(async (topic: string, o: ConsumeFlags) => {
      if (o.json && o.format === 'text') o.format = 'json';
      await withClient(o, (c) => consume(c, topic, o));
    }));
}

interface Cursor {
  partition: number;
  offset: bigint;
  end: bigint | null; // null: follow
}

async function startOffset(c: KafkaClient, topic: string, partition: number, o: ConsumeFlags, committed: Map<number, bigint>): Promise<bigint> {
  if (o.timestamp !== undefined) {
    const at = await c.listOffset(topic, partition, o.timestamp);
    return at >= 0n ? at : await c.listOffset(topic, partition, LATEST);
  }
  if (o.offset !== undefined) {
    if (o.offset === 'earliest') return c.listOffset(topic, partition, EARLIEST);
    if (o.offset === 'latest') return c.listOffset(topic, partition, LATEST);
    if (/^\d+$/.test(o.offset)) return BigInt(o.offset);
    throw new UsageError(`--offset: expected earliest, latest or a non-negative offset, got '${o.offset}'`);
  }
  return committed.get(partition) ?? (await c.listOffset(topic, partition, EARLIEST));
}

async function consume(c: KafkaClient, topic: string, o: ConsumeFlags): Promise<void> {
  const info = await c.topic(topic, true);
  if (o.partition !== undefined && o.partition >= info.partitions.length) {
    throw new UsageError(`--partition ${o.partition}: topic ${topic} has partitions 0-${info.partitions.length - 1}`);
  }
  const partitions = o.partition !== undefined ? [o.partition] : info.partitions.map((p) => p.partition);
  const isolation = o.isolationLevel === 'read_committed' ? 1 : 0;
  const committed = new Map<number, bigint>();
  if (o.group) {
    for (const co of await c.fetchOffsets(o.group, [{ topic, partitions }])) committed.set(co.partition, co.offset);
  }
  const cursors: Cursor[] = [];
  for (const p of partitions) {
    const offset = await startOffset(c, topic, p, o, committed);
    const end = o.follow ? null : await c.listOffset(topic, p, LATEST, isolation);
    cursors.push({ partition: p, offset, end });
  }
  const total = o.follow ? null : cursors.reduce((n, cur) => n + Number(cur.end! > cur.offset ? cur.end! - cur.offset : 0n), 0);
  const progress = new Progress(`consuming ${topic}`, total === null ? null : Math.min(total, o.limit ?? Infinity));
  const print = printer(o);
  let printed = 0;
  const done = () => o.limit !== undefined && printed >= o.limit;
  const active = () => cursors.filter((cur) => cur.end === null || cur.offset < cur.end);

  let stopped = false;
  const stop = () => (stopped = true);
  process.once('SIGINT', stop);
  try {
    while (!done() && !stopped && active().length > 0) {
      for (const cur of active()) {
        const r = await c.fetch(topic, cur.partition, cur.offset, { maxWaitMs: o.maxWaitMs, isolationLevel: isolation });
        for (const rec of r.records) {
          if (done() || (cur.end !== null && rec.offset >= cur.end)) break;
          await print(topic, cur.partition, rec);
          printed++;
          cur.offset = rec.offset + 1n;
        }
        // Skip past control batches and aborted data the decoder dropped.
        if (!done() && r.nextOffset > cur.offset) cur.offset = cur.end === null ? r.nextOffset : minBig(r.nextOffset, cur.end);
        progress.update(printed, 'records');
        if (done() || stopped) break;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    progress.done();
  }
  if (o.group) {
    await c.commitOffsets(o.group, cursors.map((cur) => ({ topic, partition: cur.partition, offset: cur.offset })));
  }
  if (process.stderr.isTTY) process.stderr.write(`Consumed ${printed} record${printed === 1 ? '' : 's'} from ${topic}\n`);
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

type Printer = (topic: string, partition: number, rec: ConsumedRecord) => Promise<void>;

function printer(o: ConsumeFlags): Printer {
  const out = (line: string) => {
    process.stdout.write(line + '\n');
  };
  const str = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
  const headers = (rec: ConsumedRecord) => Object.fromEntries(rec.headers.map((h) => [h.key, str(h.value)]));
  if (o.format === 'text') {
    return async (_t, _p, rec) => out(o.printKey ? `${str(rec.key) ?? ''}\t${str(rec.value) ?? ''}` : (str(rec.value) ?? ''));
  }
  if (o.format === 'json') {
    return async (topic, partition, rec) =>
      out(toJson({ topic, partition, offset: rec.offset, timestamp: rec.timestamp, key: str(rec.key), value: str(rec.value), headers: headers(rec) }));
  }
  const registry = new RegistryClient(o.registryUrl, o.timeoutMs);
  const types = new Map<number, Promise<avsc.Type>>();
  const decode = async (b: Buffer | null): Promise<unknown> => {
    if (b === null) return null;
    const framed = splitSchemaFrame(b);
    if (!framed) throw new UsageError('--format avro: a record value is not in the schema registry format (magic byte 0 and a schema id); use --format text or json');
    let type = types.get(framed.schemaId);
    if (!type) {
      type = registry.schemaById(framed.schemaId).then((s) => {
        if (s.schemaType !== 'AVRO') throw new UsageError(`--format avro: schema ${framed.schemaId} is ${s.schemaType}, not AVRO`);
        return avsc.Type.forSchema(JSON.parse(s.schema));
      });
      types.set(framed.schemaId, type);
    }
    return (await type).fromBuffer(framed.payload);
  };
  return async (topic, partition, rec) => {
    const key = rec.key && splitSchemaFrame(rec.key) ? await decode(rec.key) : str(rec.key);
    out(toJson({ topic, partition, offset: rec.offset, timestamp: rec.timestamp, key, value: await decode(rec.value), headers: headers(rec) }));
  };
}
