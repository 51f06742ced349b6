// Apache Kafka's own command-line tools, run from the jars that test/java/pom.xml fetches from
// Maven Central (Kafka 4.4.0, see the pom), exactly as kafka-run-class.sh would start them:
// `java -cp 'test/java/target/lib/*' <main class> args...`.
//
// The jars are not in git. Where they are missing every call fails (not skips) with the command
// that fetches them. Java 17 (the JDK on the project's machines) runs Kafka 4.x.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MissingToolError, projectRoot, runProcess, startProcess, type RunningProcess, type RunResult } from './external-process.js';

export type { RunResult, RunningProcess } from './external-process.js';

/** Main classes of the Kafka 4.4 tools, checked against the jars by test/infra/kafka-tools.system.test.ts. */
export const KAFKA_TOOL = {
  ConsoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
  ConsoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  TopicCommand: 'org.apache.kafka.tools.TopicCommand',
  // Moved from kafka.admin (Scala) to the tools module in 4.x.
  ConfigCommand: 'org.apache.kafka.tools.ConfigCommand',
  GetOffsetShell: 'org.apache.kafka.tools.GetOffsetShell',
  DeleteRecordsCommand: 'org.apache.kafka.tools.DeleteRecordsCommand',
  BrokerApiVersionsCommand: 'org.apache.kafka.tools.BrokerApiVersionsCommand',
  ProducerPerformance: 'org.apache.kafka.tools.ProducerPerformance',
  ConsumerPerformance: 'org.apache.kafka.tools.ConsumerPerformance',
  VerifiableConsumer: 'org.apache.kafka.tools.VerifiableConsumer',
  VerifiableProducer: 'org.apache.kafka.tools.VerifiableProducer',
  TransactionalMessageCopier: 'org.apache.kafka.tools.TransactionalMessageCopier',
  TransactionsCommand: 'org.apache.kafka.tools.TransactionsCommand',
  ConsumerGroupCommand: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  MetadataQuorumCommand: 'org.apache.kafka.tools.MetadataQuorumCommand',
  AclCommand: 'org.apache.kafka.tools.AclCommand',
  // The broker side, used by bench/apache-kafka.ts.
  StorageTool: 'kafka.tools.StorageTool',
  KafkaServer: 'kafka.Kafka',
} as const;

export type KafkaToolName = keyof typeof KAFKA_TOOL;

export const FETCH_KAFKA_TOOLS_COMMAND = 'mvn -q -B -f test/java/pom.xml dependency:copy-dependencies';

export interface KafkaToolOptions {
  timeoutMs: number;
  input?: string | Buffer;
  /** slf4j-simple level for the tool's own logging on stderr: error, warn (default), info, debug. */
  logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Extra JVM flags, before the main class. The heap defaults to -Xmx512m like kafka-run-class.sh's tools. */
  jvmArgs?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Where the jars are; defaults to $KAFKA_TOOLS_LIB or <root>/test/java/target/lib. */
  libDir?: string;
}

/** The directory holding the Kafka jars, after checking they are there. */
export function kafkaToolsLibDir(libDir = process.env.KAFKA_TOOLS_LIB ?? join(projectRoot(), 'test', 'java', 'target', 'lib')): string {
  const jars = existsSync(libDir) ? readdirSync(libDir) : [];
  for (const prefix of ['kafka-tools-', 'kafka_2.13-', 'kafka-clients-']) {
    if (!jars.some((j) => j.startsWith(prefix) && j.endsWith('.jar'))) {
      throw new MissingToolError(
        `Kafka's Java tools are not fetched: no ${prefix}*.jar in ${libDir}. ` +
          `Run \`${FETCH_KAFKA_TOOLS_COMMAND}\` in ${projectRoot()} (Maven 3.8+, Java 17; .ci/run does this).`,
      );
    }
  }
  return libDir;
}

/** The `java` to run: $JAVA_HOME/bin/java when JAVA_HOME is set, else the one on PATH. */
export function javaExecutable(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

const MISSING_JAVA = 'Kafka 4.x tools need Java 17+: apt-get install -y openjdk-17-jre-headless (or set JAVA_HOME).';

/** The java command line for a Kafka main class, shared with bench/apache-kafka.ts. */
export function kafkaJavaArgs(mainClass: string, args: readonly string[], opts: Omit<KafkaToolOptions, 'timeoutMs'> = {}): string[] {
  const lib = kafkaToolsLibDir(opts.libDir);
  const jvmArgs = opts.jvmArgs ?? [];
  const heap = jvmArgs.some((a) => a.startsWith('-Xmx')) ? [] : ['-Xmx512m'];
  return [
    ...heap,
    '-Djava.awt.headless=true',
    `-Dorg.slf4j.simpleLogger.defaultLogLevel=${opts.logLevel ?? process.env.KAFKA_TOOLS_LOG_LEVEL ?? 'warn'}`,
    ...jvmArgs,
    '-cp',
    join(lib, '*'),
    mainClass,
    ...args,
  ];
}

/** Runs one Kafka tool to completion (or its timeout). A missing JDK or missing jars reject with MissingToolError. */
export async function runKafkaTool(mainClass: string, args: readonly string[], opts: KafkaToolOptions): Promise<RunResult> {
  return runProcess(javaExecutable(), kafkaJavaArgs(mainClass, args, opts), {
    timeoutMs: opts.timeoutMs,
    input: opts.input,
    env: opts.env,
    missingHint: MISSING_JAVA,
  });
}

/** Starts a long-running Kafka tool (a consumer, VerifiableProducer...) to be read line by line and stopped. */
export function startKafkaTool(mainClass: string, args: readonly string[], opts: KafkaToolOptions): RunningProcess {
  return startProcess(javaExecutable(), kafkaJavaArgs(mainClass, args, opts), {
    timeoutMs: opts.timeoutMs,
    input: opts.input,
    env: opts.env,
    missingHint: MISSING_JAVA,
  });
}

type ToolRunner = (args: readonly string[], opts: KafkaToolOptions) => Promise<RunResult>;

/** One runner per tool: `kafkaTool.TopicCommand(['--bootstrap-server', b, '--list'], { timeoutMs: 30_000 })`. */
export const kafkaTool = Object.fromEntries(
  Object.entries(KAFKA_TOOL).map(([name, mainClass]) => [name, (args: readonly string[], opts: KafkaToolOptions) => runKafkaTool(mainClass, args, opts)]),
) as Record<KafkaToolName, ToolRunner>;

/** Throws with the tool's output when it did not exit 0; returns the result otherwise. */
export function expectSuccess(result: RunResult, what: string): RunResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} ${result.timedOut ? 'timed out' : `exited with ${result.code ?? result.signal}`}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`,
    );
  }
  return result;
}

/**
 * Produces one record per line with the console producer (Java client defaults: idempotent,
 * acks=all). With `keySeparator` each line is `key<sep>value`.
 */
export async function consoleProduce(
  bootstrap: string,
  topic: string,
  lines: readonly string[],
  opts: { timeoutMs?: number; keySeparator?: string; producerProps?: Record<string, string>; extraArgs?: readonly string[] } = {},
): Promise<RunResult> {
  const args = ['--bootstrap-server', bootstrap, '--topic', topic];
  if (opts.keySeparator !== undefined) args.push('--reader-property', 'parse.key=true', '--reader-property', `key.separator=${opts.keySeparator}`);
  for (const [k, v] of Object.entries(opts.producerProps ?? {})) args.push('--command-property', `${k}=${v}`);
  args.push(...(opts.extraArgs ?? []));
  const input = lines.length ? lines.join('\n') + '\n' : '';
  return expectSuccess(await runKafkaTool(KAFKA_TOOL.ConsoleProducer, args, { timeoutMs: opts.timeoutMs ?? 60_000, input }), 'ConsoleProducer');
}

/**
 * Reads `maxMessages` records from the beginning of a topic with the console consumer and returns
 * their values (one per line; with `printKey`, `key<TAB>value`).
 */
export async function consoleConsume(
  bootstrap: string,
  topic: string,
  opts: { maxMessages: number; timeoutMs?: number; group?: string; printKey?: boolean; consumerProps?: Record<string, string>; extraArgs?: readonly string[] },
): Promise<string[]> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const args = ['--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning', '--max-messages', String(opts.maxMessages)];
  // The tool's own timeout makes it exit cleanly (code 0, records printed) before ours kills it.
  args.push('--timeout-ms', String(Math.max(1000, timeoutMs - 10_000)));
  if (opts.group) args.push('--group', opts.group);
  if (opts.printKey) args.push('--formatter-property', 'print.key=true');
  for (const [k, v] of Object.entries(opts.consumerProps ?? {})) args.push('--command-property', `${k}=${v}`);
  args.push(...(opts.extraArgs ?? []));
  const r = await runKafkaTool(KAFKA_TOOL.ConsoleConsumer, args, { timeoutMs });
  const records = r.stdout.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
  if (records.length < opts.maxMessages) {
    throw new Error(`ConsoleConsumer read ${records.length} of ${opts.maxMessages} records from ${topic} (exit ${r.code ?? r.signal})\n--- stderr\n${r.stderr.slice(-4000)}`);
  }
  return records;
}
