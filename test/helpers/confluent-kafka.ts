// confluent-kafka (Python over librdkafka) for tests, through test/helpers/python/confluent_driver.py:
// a test describes produce / consume / admin actions as JSON, the driver runs them in one
// process and answers with one JSON result per action. A missing python3 or confluent_kafka
// module fails with the install command, never skips.

import { join } from 'node:path';
import { MissingToolError, projectRoot, runProcess } from './external-process.js';

export const INSTALL_CONFLUENT_KAFKA = 'Install it with `python3 -m pip install confluent-kafka==2.16.1` (.ci/run does).';

export interface KafkaErrorJson {
  code: number | null;
  name: string;
  message: string;
  retriable?: boolean;
}

export interface ProduceMessage {
  value: string | null;
  key?: string | null;
  partition?: number;
  headers?: Record<string, string>;
}

/** librdkafka properties (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md names). */
export type RdkafkaConfig = Record<string, string | number | boolean>;

export type ConfluentAction =
  | {
      op: 'produce';
      topic: string;
      messages: ProduceMessage[];
      transactionalId?: string;
      abort?: boolean;
      timeoutS?: number;
      /** Pause between two produce() calls, so that producing spans a disruption. */
      intervalMs?: number;
      config?: RdkafkaConfig;
    }
  | {
      op: 'consume';
      topics?: string[];
      assign?: { topic: string; partition: number; offset?: number }[];
      group?: string;
      maxMessages: number;
      timeoutS?: number;
      config?: RdkafkaConfig;
    }
  | {
      op: 'groupMember';
      topics: string[];
      group: string;
      durationS: number;
      maxMessages?: number;
      /** Once this file holds JSON {partition: end offset}, the member stops when committed up to every end. */
      stopFile?: string;
      /** Record errors polled (in `errors`) instead of ending the action. */
      tolerateErrors?: boolean;
      config?: RdkafkaConfig;
    }
  | { op: 'createTopics'; topics: { name: string; partitions?: number; replicationFactor?: number; config?: Record<string, string> }[]; timeoutS?: number; config?: RdkafkaConfig }
  | { op: 'deleteTopics'; topics: string[]; timeoutS?: number; config?: RdkafkaConfig }
  | { op: 'metadata'; topic?: string; timeoutS?: number; config?: RdkafkaConfig };

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
  timestamp: number;
  /** groupMember: time.time() of the delivery and its place among messages and commits. */
  at?: number;
  seq?: number;
}

/** What the driver answers per action; `ok` false carries `error` (or per-item errors). */
export interface ConfluentResult {
  ok: boolean;
  error?: KafkaErrorJson;
  /** produce: one delivery report per message, `at` in time.time() seconds. */
  delivered?: { partition: number; offset: number | null; error: KafkaErrorJson | null; value?: string | null; at?: number }[];
  messages?: ConsumedMessage[];
  /** groupMember: each successful synchronous commit (offset = next to read) and assignment change, with time.time(). */
  commits?: { partition: number; offset: number; at: number; seq?: number }[];
  /** groupMember with tolerateErrors: the errors polled. */
  errors?: KafkaErrorJson[];
  events?: { ev: 'assign' | 'revoke' | 'lost'; partitions: number[]; at: number }[];
  topics?: Record<string, unknown>;
  brokers?: { id: number; host: string; port: number }[];
  clusterId?: string | null;
  controllerId?: number;
}

export interface ConfluentRun {
  results: ConfluentResult[];
  /** confluent-kafka and librdkafka versions that ran. */
  version: string;
  librdkafka: string;
  stderr: string;
}

export interface ConfluentOptions {
  timeoutMs?: number;
  /** The interpreter and its flags; defaults to $STREAMHOUSE_PYTHON or python3. */
  python?: readonly string[];
}

const DRIVER = (): string => join(projectRoot(), 'test', 'helpers', 'python', 'confluent_driver.py');

/** Runs the actions in order in one python process against `bootstrap` and returns one result per action. */
export async function runConfluentKafka(bootstrap: string, actions: readonly ConfluentAction[], opts: ConfluentOptions = {}): Promise<ConfluentRun> {
  const [python, ...flags] = opts.python ?? [process.env.STREAMHOUSE_PYTHON ?? 'python3'];
  const r = await runProcess(python!, [...flags, DRIVER()], {
    timeoutMs: opts.timeoutMs ?? 90_000,
    input: JSON.stringify({ bootstrap, actions }),
    missingHint: `confluent-kafka tests need Python 3. ${INSTALL_CONFLUENT_KAFKA}`,
  });
  const lastLine = r.stdout.trim().split('\n').pop() ?? '';
  let answer: { results?: ConfluentResult[]; version?: string; librdkafka?: string; missingModule?: string; badRequest?: string } | undefined;
  try {
    answer = JSON.parse(lastLine) as typeof answer;
  } catch {
    answer = undefined;
  }
  if (r.code === 3 && answer?.missingModule) {
    throw new MissingToolError(`${python} cannot import confluent_kafka (${answer.missingModule}). ${INSTALL_CONFLUENT_KAFKA}`);
  }
  if (r.code !== 0 || !answer?.results) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 90_000} ms` : answer?.badRequest ? `bad request: ${answer.badRequest}` : `exited with ${r.code ?? r.signal}`;
    throw new Error(`confluent-kafka driver ${why}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`);
  }
  return { results: answer.results, version: answer.version ?? '', librdkafka: answer.librdkafka ?? '', stderr: r.stderr };
}

/** Runs one action and returns its result, throwing when the action itself failed. */
export async function confluentKafka(bootstrap: string, action: ConfluentAction, opts: ConfluentOptions = {}): Promise<ConfluentResult> {
  const run = await runConfluentKafka(bootstrap, [action], opts);
  const result = run.results[0]!;
  if (!result.ok) {
    throw new Error(`confluent-kafka ${action.op} failed: ${JSON.stringify(result).slice(0, 4000)}\n--- stderr\n${run.stderr.slice(-4000)}`);
  }
  return result;
}
