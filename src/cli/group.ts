// streamhouse group list|describe|reset-offsets|delete
import { Command, Option } from 'commander';
import { EARLIEST, LATEST, type KafkaClient } from '../client/client.js';
import { ApiKey } from '../protocol/generated/index.js';
import { bigintArg, brokerCommand, intArg, timestampArg, withClient, type ConnectionFlags } from './common.js';
import { NotFoundError, UsageError, action } from './exit.js';
import { printJson, printTable } from './output.js';

export function groupCommand(): Command {
  const group = new Command('group').description('list, inspect, reset and delete consumer groups');

  brokerCommand(group.command('list').alias('ls').description('list consumer groups'))
    .action(action(async (o: ConnectionFlags) => {
      await withClient(o, async (c) => {
        const groups = await c.listGroups();
        if (o.json) return printJson(groups);
        printTable(['group', 'state', 'protocol type', 'type'], groups.map((g) => [g.groupId, g.state || '-', g.protocolType || '-', g.type || '-']));
      });
    }));

  brokerCommand(group.command('describe <group>').description('state, members, committed offsets and lag of a group'))
    .action(action(async (groupId: string, o: ConnectionFlags) => {
      await withClient(o, async (c) => {
        const g = (await c.apiVersions()).has(ApiKey.DescribeGroups) ? await c.describeGroup(groupId) : null;
        const offsets = await c.fetchOffsets(groupId);
        if ((g === null || g.groupState === 'Dead') && offsets.length === 0) throw new NotFoundError(`group '${groupId}' does not exist (no members and no committed offsets)`);
        const lagRows = [];
        const canList = (await c.apiVersions()).has(ApiKey.ListOffsets);
        for (const off of offsets) {
          const end = canList ? await c.listOffset(off.topic, off.partition, LATEST).catch(() => null) : null;
          lagRows.push({ ...off, endOffset: end, lag: end === null ? null : end - off.offset > 0n ? end - off.offset : 0n });
        }
        const members = (g?.members ?? []).map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, instanceId: m.groupInstanceId }));
        if (o.json) return printJson({ groupId, state: g?.groupState ?? null, protocolType: g?.protocolType ?? null, protocol: g?.protocolData ?? null, members, offsets: lagRows });
        process.stdout.write(`Group: ${groupId}  state: ${g?.groupState ?? 'unknown'}  protocol: ${g?.protocolData || '-'}  members: ${members.length}\n`);
        if (members.length) {
          process.stdout.write('\n');
          printTable(['member', 'client', 'host', 'instance'], members.map((m) => [m.memberId, m.clientId, m.host, m.instanceId]));
        }
        process.stdout.write('\n');
        printTable(['topic', 'partition', 'committed', 'end offset', 'lag'], lagRows.map((r) => [r.topic, r.partition, r.offset, r.endOffset, r.lag]));
      });
    }));

  brokerCommand(group.command('reset-offsets <group>').description('move a group\'s committed offsets (the group must have no active members)'))
    .requiredOption('-t, --topic <topic>', 'topic whose offsets to reset')
    .addOption(new Option('-p, --partition <n>', 'only this partition (default: all)').argParser(intArg('--partition', 0)))
    .option('--to-earliest', 'to the log start offset')
    .option('--to-latest', 'to the log end offset')
    .addOption(new Option('--to-offset <offset>', 'to this offset').argParser(bigintArg('--to-offset')))
    .addOption(new Option('--to-datetime <time>', 'to the first offset at or after this time (epoch ms or ISO-8601)').argParser(timestampArg('--to-datetime')))
    .addOption(new Option('--shift-by <n>', 'move the committed offset by n (negative: back)').argParser(bigintArg('--shift-by')))
    .option('--execute', 'apply the plan (without it the plan is only printed)')
    .addHelpText('after', '\nExactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by is required.')
    .action(action(async (groupId: string, o: ResetFlags) => {
      const chosen = [o.toEarliest, o.toLatest, o.toOffset, o.toDatetime, o.shiftBy].filter((x) => x !== undefined);
      if (chosen.length !== 1) throw new UsageError('reset-offsets: pass exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by');
      await withClient(o, async (c) => {
        const plan = await resetPlan(c, groupId, o);
        if (o.execute) await c.commitOffsets(groupId, plan.map((p) => ({ topic: o.topic, partition: p.partition, offset: p.newOffset })));
        if (o.json) return printJson({ groupId, topic: o.topic, executed: !!o.execute, partitions: plan });
        printTable(['topic', 'partition', 'current', 'new'], plan.map((p) => [o.topic, p.partition, p.currentOffset, p.newOffset]));
        if (!o.execute) process.stderr.write('Dry run: nothing changed. Add --execute to apply.\n');
      });
    }));

  brokerCommand(group.command('delete <groups...>').alias('rm').description('delete groups and their committed offsets (groups must be empty)'))
    .action(action(async (groups: string[], o: ConnectionFlags) => {
      await withClient(o, async (c) => {
        await c.deleteGroups(groups);
        if (o.json) printJson({ deleted: groups });
        else for (const g of groups) process.stdout.write(`Deleted group ${g}\n`);
      });
    }));

  return group;
}

interface ResetFlags extends ConnectionFlags {
  topic: string;
  partition?: number;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: bigint;
  toDatetime?: bigint;
  shiftBy?: bigint;
  execute?: boolean;
}

interface PlannedReset {
  partition: number;
  currentOffset: bigint | null;
  newOffset: bigint;
}

/** Target offsets, clamped to [log start, log end] as Kafka's tool does. */
async function resetPlan(c: KafkaClient, groupId: string, o: ResetFlags): Promise<PlannedReset[]> {
  const info = await c.topic(o.topic, true);
  if (o.partition !== undefined && o.partition >= info.partitions.length) {
    throw new UsageError(`--partition ${o.partition}: topic ${o.topic} has partitions 0-${info.partitions.length - 1}`);
  }
  const partitions = o.partition !== undefined ? [o.partition] : info.partitions.map((p) => p.partition);
  const committed = new Map((await c.fetchOffsets(groupId, [{ topic: o.topic, partitions }])).map((x) => [x.partition, x.offset]));
  const plan: PlannedReset[] = [];
  for (const partition of partitions) {
    const start = await c.listOffset(o.topic, partition, EARLIEST);
    const end = await c.listOffset(o.topic, partition, LATEST);
    const current = committed.get(partition) ?? null;
    let target: bigint;
    if (o.toEarliest) target = start;
    else if (o.toLatest) target = end;
    else if (o.toOffset !== undefined) target = o.toOffset;
    else if (o.toDatetime !== undefined) {
      const at = await c.listOffset(o.topic, partition, o.toDatetime);
      target = at >= 0n ? at : end;
    } else target = (current ?? start) + o.shiftBy!;
    if (target < start) target = start;
    if (target > end) target = end;
    plan.push({ partition, currentOffset: current, newOffset: target });
  }
  return plan;
}
