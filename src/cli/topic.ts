// streamhouse topic create|list|describe|delete|alter-config
import { Command, Option } from 'commander';
import { ResourceType, type KafkaClient } from '../client/client.js';
import { BrokerError } from '../client/errors.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiKey } from '../protocol/generated/index.js';
import { brokerCommand, intArg, keyValueArg, listArg, withClient, type ConnectionFlags } from './common.js';
import { UsageError, action } from './exit.js';
import { printJson, printTable } from './output.js';

export function topicCommand(): Command {
  const topic = new Command('topic').description('create, list, describe, delete and configure topics');

  brokerCommand(topic.command('create <name>').description('create a topic'))
    .addOption(new Option('-p, --partitions <n>', 'partition count (default: the broker\'s num.partitions)').argParser(intArg('--partitions', 1)))
    .addOption(new Option('-r, --replication-factor <n>', 'replication factor (default: the broker\'s)').argParser(intArg('--replication-factor', 1, 32767)))
    .addOption(new Option('-c, --config <key=value>', 'topic config, repeatable (e.g. retention.ms=86400000, durability.profile=ultra-safe)').argParser(keyValueArg('--config')))
    .option('--if-not-exists', 'succeed when the topic already exists')
    .option('--validate-only', 'check the request without creating the topic')
    .action(action(async (name: string, o: ConnectionFlags & { partitions?: number; replicationFactor?: number; config?: Record<string, string>; ifNotExists?: boolean; validateOnly?: boolean }) => {
      await withClient(o, async (c) => {
        try {
          const [r] = await c.createTopics([{ name, partitions: o.partitions, replicationFactor: o.replicationFactor, configs: o.config }], { timeoutMs: o.timeoutMs, validateOnly: o.validateOnly });
          if (o.json) printJson({ created: !o.validateOnly, ...r });
          else process.stdout.write(`${o.validateOnly ? 'Valid' : 'Created'} topic ${name} (${r.partitions} partition${r.partitions === 1 ? '' : 's'})\n`);
        } catch (err) {
          if (o.ifNotExists && err instanceof BrokerError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) {
            if (o.json) printJson({ created: false, name });
            else process.stdout.write(`Topic ${name} already exists\n`);
            return;
          }
          throw err;
        }
      });
    }));

  brokerCommand(topic.command('list').alias('ls').description('list topics'))
    .option('--internal', 'include internal topics')
    .action(action(async (o: ConnectionFlags & { internal?: boolean }) => {
      await withClient(o, async (c) => {
        const md = await c.metadata(null);
        const topics = md.topics.filter((t) => o.internal || !t.internal);
        if (o.json) return printJson(topics.map((t) => ({ name: t.name, id: t.id, partitions: t.partitions.length, internal: t.internal })));
        printTable(['name', 'partitions', 'id'], topics.map((t) => [t.name, t.partitions.length, t.id]));
      });
    }));

  brokerCommand(topic.command('describe <name>').description('partitions, leaders, offsets and configs of a topic'))
    .action(action(async (name: string, o: ConnectionFlags) => {
      await withClient(o, async (c) => {
        const t = await c.topic(name, true);
        const offsets = await partitionOffsets(c, name, t.partitions.map((p) => p.partition));
        const configs = (await c.describeConfigs(ResourceType.TOPIC, name)).filter((e) => !e.isDefault);
        const partitions = t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr, ...offsets.get(p.partition) }));
        if (o.json) return printJson({ name: t.name, id: t.id, partitions, configs: Object.fromEntries(configs.map((e) => [e.name, e.sensitive ? null : e.value])) });
        process.stdout.write(`Topic: ${t.name}  id: ${t.id}  partitions: ${t.partitions.length}\n`);
        if (configs.length) process.stdout.write(`Configs: ${configs.map((e) => `${e.name}=${e.sensitive ? '***' : e.value}`).join(', ')}\n`);
        process.stdout.write('\n');
        printTable(['partition', 'leader', 'epoch', 'replicas', 'isr', 'start offset', 'end offset'], partitions.map((p) => [p.partition, p.leader, p.leaderEpoch, p.replicas.join(','), p.isr.join(','), p.startOffset, p.endOffset]));
      });
    }));

  brokerCommand(topic.command('delete <names...>').alias('rm').description('delete topics and their data'))
    .option('--if-exists', 'succeed when a topic does not exist')
    .action(action(async (names: string[], o: ConnectionFlags & { ifExists?: boolean }) => {
      await withClient(o, async (c) => {
        const deleted: string[] = [];
        for (const name of names) {
          try {
            await c.deleteTopics([name], o.timeoutMs);
            deleted.push(name);
          } catch (err) {
            if (o.ifExists && err instanceof BrokerError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) continue;
            throw err;
          }
        }
        if (o.json) printJson({ deleted });
        else for (const n of deleted) process.stdout.write(`Deleted topic ${n}\n`);
      });
    }));

  brokerCommand(topic.command('alter-config <name>').description('set or remove topic configs (IncrementalAlterConfigs)'))
    .addOption(new Option('--set <key=value>', 'set a config, repeatable').argParser(keyValueArg('--set')))
    .addOption(new Option('--delete <key>', 'remove a config override (back to the default), repeatable').argParser(listArg))
    .option('--validate-only', 'check the change without applying it')
    .action(action(async (name: string, o: ConnectionFlags & { set?: Record<string, string>; delete?: string[]; validateOnly?: boolean }) => {
      const ops = [
        ...Object.entries(o.set ?? {}).map(([k, value]) => ({ name: k, op: 'set' as const, value })),
        ...(o.delete ?? []).map((k) => ({ name: k, op: 'delete' as const })),
      ];
      if (ops.length === 0) throw new UsageError('alter-config: nothing to change; pass --set key=value and/or --delete key');
      await withClient(o, async (c) => {
        await c.incrementalAlterConfigs(ResourceType.TOPIC, name, ops, o.validateOnly);
        if (o.json) printJson({ topic: name, applied: !o.validateOnly, changes: ops });
        else process.stdout.write(`${o.validateOnly ? 'Valid' : 'Updated'} configs of ${name}: ${ops.map((x) => (x.op === 'set' ? `${x.name}=${x.value}` : `-${x.name}`)).join(', ')}\n`);
      });
    }));

  return topic;
}

/** Log start and end offsets per partition, when the broker serves ListOffsets. */
export async function partitionOffsets(c: KafkaClient, topic: string, partitions: number[]): Promise<Map<number, { startOffset: bigint; endOffset: bigint }>> {
  const out = new Map<number, { startOffset: bigint; endOffset: bigint }>();
  if (!(await c.apiVersions()).has(ApiKey.ListOffsets)) return out;
  for (const p of partitions) {
    out.set(p, { startOffset: await c.listOffset(topic, p, -2n), endOffset: await c.listOffset(topic, p, -1n) });
  }
  return out;
}
