// Registers the admin commands on the program (serve lives in src/cli.ts).
import type { Command } from 'commander';
import { topicCommand } from './topic.js';
import { groupCommand } from './group.js';
import { produceCommand } from './produce.js';
import { consumeCommand } from './consume.js';
import { schemaCommand } from './schema.js';
import { profileCommand } from './profile.js';
import { benchCommand } from './bench.js';
import { EXIT_CODES_HELP, ExitCode } from './exit.js';

export { ExitCode } from './exit.js';

export function registerCommands(program: Command): void {
  // Program options (-V/--version, -h) only before the command, so `schema get --version 2`
  // reaches the subcommand instead of printing the program's version.
  program.enablePositionalOptions();
  for (const cmd of [topicCommand(), groupCommand(), produceCommand(), consumeCommand(), schemaCommand(), profileCommand(), benchCommand()]) {
    program.addCommand(cmd);
  }
  program.addHelpText('after', EXIT_CODES_HELP);
  usageErrorsExit(program);
}

/**
 * Commander exits 1 on a bad flag; we use 2 for every usage error so scripts can tell a typo from
 * a broker failure. Help and --version still exit 0.
 */
function usageErrorsExit(cmd: Command): void {
  cmd.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  });
  for (const sub of cmd.commands) usageErrorsExit(sub);
}
