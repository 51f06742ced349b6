// streamhouse schema register|get|list|check: the schema registry's REST API.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { RegistryClient, RegistryError, type SchemaType } from '../client/registry.js';
import { choiceArg, intArg } from './common.js';
import { NotFoundError, UsageError, action } from './exit.js';
import { printJson, printTable } from './output.js';

const TYPES = ['AVRO', 'PROTOBUF', 'JSON'] as const;

interface RegistryFlags {
  registryUrl: string;
  timeoutMs: number;
  json?: boolean;
}

interface SchemaInput extends RegistryFlags {
  schema?: string;
  schemaFile?: string;
  type: SchemaType;
}

function registryCommand(cmd: Command): Command {
  return cmd
    .addOption(new Option('--registry-url <url>', 'schema registry base URL').env('STREAMHOUSE_REGISTRY_URL').default('http://localhost:8081'))
    .addOption(new Option('--timeout-ms <ms>', 'request timeout').argParser(intArg('--timeout-ms', 1)).default(30_000))
    .option('--json', 'print JSON for scripts');
}

function withSchemaInput(cmd: Command): Command {
  return cmd
    .option('--schema <text>', 'the schema text')
    .option('--schema-file <path>', 'read the schema from a file')
    .addOption(new Option('--type <type>', 'schema type').argParser(choiceArg('--type', TYPES)).default('AVRO'));
}

function schemaText(o: SchemaInput): string {
  if ((o.schema === undefined) === (o.schemaFile === undefined)) throw new UsageError('pass exactly one of --schema or --schema-file');
  if (o.schema !== undefined) return o.schema;
  try {
    return readFileSync(o.schemaFile!, 'utf8');
  } catch (err) {
    throw new UsageError(`--schema-file ${o.schemaFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function versionArg(raw: string): number | 'latest' {
  if (raw === 'latest') return raw;
  return intArg('--version', 1)(raw);
}

/** Registry 404s (subject, version or schema not found) exit with the not-found code. */
async function registryAction(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof RegistryError && err.notFound) throw new NotFoundError(err.message);
    throw err;
  }
}

export function schemaCommand(): Command {
  const schema = new Command('schema').description('register, fetch, list and check schemas in the schema registry');

  withSchemaInput(registryCommand(schema.command('register <subject>').description('register a schema version under a subject')))
    .action(action(async (subject: string, o: SchemaInput) => {
      const text = schemaText(o);
      await registryAction(async () => {
        const { id } = await new RegistryClient(o.registryUrl, o.timeoutMs).register(subject, text, o.type);
        if (o.json) printJson({ subject, id });
        else process.stdout.write(`Registered ${subject} with schema id ${id}\n`);
      });
    }));

  registryCommand(schema.command('get <subject>').description('a version of a subject (default latest)'))
    .addOption(new Option('--version <version>', 'version number or latest').argParser(versionArg).default('latest'))
    .action(action(async (subject: string, o: RegistryFlags & { version: number | 'latest' }) => {
      await registryAction(async () => {
        const v = await new RegistryClient(o.registryUrl, o.timeoutMs).getVersion(subject, o.version);
        if (o.json) return printJson(v);
        process.stdout.write(`Subject: ${v.subject}  version: ${v.version}  id: ${v.id}  type: ${v.schemaType}\n${v.schema}\n`);
      });
    }));

  registryCommand(schema.command('list').alias('ls').description('list subjects and their versions'))
    .action(action(async (o: RegistryFlags) => {
      await registryAction(async () => {
        const client = new RegistryClient(o.registryUrl, o.timeoutMs);
        const subjects = (await client.subjects()).sort();
        const rows = [];
        for (const s of subjects) rows.push({ subject: s, versions: await client.versions(s) });
        if (o.json) return printJson(rows);
        printTable(['subject', 'versions', 'latest'], rows.map((r) => [r.subject, r.versions.length, r.versions[r.versions.length - 1]]));
      });
    }));

  withSchemaInput(registryCommand(schema.command('check <subject>').description('is a schema compatible with a subject\'s version? (exit 1 when not)')))
    .addOption(new Option('--version <version>', 'version to check against, or latest').argParser(versionArg).default('latest'))
    .action(action(async (subject: string, o: SchemaInput & { version: number | 'latest' }) => {
      const text = schemaText(o);
      await registryAction(async () => {
        const r = await new RegistryClient(o.registryUrl, o.timeoutMs).checkCompatibility(subject, text, o.type, o.version);
        if (o.json) printJson({ subject, ...r });
        else process.stdout.write(r.compatible ? `Compatible with ${subject} (${o.version})\n` : `NOT compatible with ${subject} (${o.version})${r.messages.map((m) => `\n  ${m}`).join('')}\n`);
        if (!r.compatible) process.exitCode = 1;
      });
    }));

  return schema;
}
