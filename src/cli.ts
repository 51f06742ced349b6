#!/usr/bin/env node
// The streamhouse command (alias streamctl). `serve` runs an agent; the admin commands that
// speak the Kafka protocol to --bootstrap-server live in src/cli/.
import { Command, Option } from 'commander';
import { ConfigError, OPTIONS, loadConfig, type BrokerConfig } from './config.js';
import { createLogger } from './observability/logger.js';
import { registerCommands } from './cli/index.js';

const program = new Command();
program.name('streamhouse').description('Kafka-compatible streaming broker on object storage').version('0.1.0');

const serve = program.command('serve').description('run a StreamHouse agent (Kafka listener, schema registry, admin HTTP)');
serve.addOption(new Option('--config <file>', 'JSON config file (keys as in the README reference)'));
for (const o of OPTIONS) {
  const arg = o.kind === 'bool' ? `${o.flag} [bool]` : `${o.flag} <value>`;
  serve.addOption(new Option(arg, o.description).env(o.env).hideHelp(false));
}
serve.action(async (opts: Record<string, unknown>, cmd: Command) => {
  // Only values typed on the command line count as flags; commander also reads the env, but
  // loadConfig applies the environment itself so the precedence is in one place.
  const flags: Partial<Record<keyof BrokerConfig, unknown>> = {};
  for (const o of OPTIONS) {
    const name = camel(o.flag.slice(2));
    if (cmd.getOptionValueSource(name) === 'cli') flags[o.key] = opts[name] === true ? 'true' : opts[name];
  }
  let config: BrokerConfig;
  try {
    config = loadConfig({ flags, configFile: opts.config as string | undefined });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`streamhouse: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let agent;
  try {
    // Loaded here so admin commands do not pay for the storage stack (AWS SDK, pg) at start-up.
    const { startAgent } = await import('./agent.js');
    agent = await startAgent(config, log);
  } catch (err) {
    log.fatal({ err }, (err as Error).message);
    process.stderr.write(`streamhouse: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      log.error('graceful stop took longer than --shutdown-timeout-ms; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000);
    timer.unref();
    agent!.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
});

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

registerCommands(program);

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`streamhouse: ${(err as Error).message}\n`);
  process.exit(1);
});
