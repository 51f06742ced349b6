// streamhouse profile list: the durability profiles a topic (durability.profile) or the broker
// (--profile) can choose. Local information: needs no broker.
import { Command } from 'commander';
import { PROFILES } from '../log/topic-config.js';
import { action } from './exit.js';
import { printJson, printTable } from './output.js';

const ACK_MEANING = { fsync: 'fsync (group commit)', write: 'WAL write()', memory: 'in-memory append' } as const;

function size(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} B`;
}

function duration(ms: number): string {
  if (ms < 0) return 'never';
  if (ms === 0) return 'every commit';
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function profileCommand(): Command {
  const profile = new Command('profile').description('durability profiles');
  profile
    .command('list')
    .alias('ls')
    .description('list durability profiles and what each one trades')
    .option('--json', 'print JSON for scripts')
    .action(action(async (o: { json?: boolean }) => {
      const rows = Object.values(PROFILES);
      if (o.json) return printJson(rows);
      printTable(
        ['profile', 'wal', 'acks=all waits for', 'fsync', 'segment bytes', 'segment age'],
        rows.map((p) => [p.name, p.wal ? 'on' : 'off', ACK_MEANING[p.ackOn], p.wal ? duration(p.syncIntervalMs) : 'none', size(p.segmentBytes), duration(p.segmentMs)]),
      );
    }));
  return profile;
}
