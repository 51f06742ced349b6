// streamhouse bench [sections...]: runs the benchmark suite (dist/bench/index.js) as a child
// process so its memory and timing are not shared with the CLI.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ExitCode, NotFoundError, action } from './exit.js';

export function benchCommand(): Command {
  return new Command('bench')
    .argument('[sections...]', 'sections to run (default: all), e.g. codec kafka')
    .description('run the benchmarks and print their tables (progress goes to stderr)')
    .action(action(async (sections: string[]) => {
      // dist/src/cli/bench.js -> dist/bench/index.js
      const script = join(dirname(fileURLToPath(import.meta.url)), '../../bench/index.js');
      if (!existsSync(script)) throw new NotFoundError(`benchmarks not built (${script} is missing): run npm run build`);
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [script, ...sections], { stdio: 'inherit' });
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + 1 : ExitCode.FAILURE)));
      });
      if (code !== 0) process.exitCode = ExitCode.FAILURE;
    }));
}
