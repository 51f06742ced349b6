// A real Apache Kafka 4.4 broker for benchmarks (the baseline StreamHouse is measured against),
// started from the jars that test/java/pom.xml fetches: one KRaft node that is both broker and
// controller, formatted as a standalone (dynamic) quorum, on free 127.0.0.1 ports, with its data
// in a temp directory that stop() removes.
//
// Replication factors and min.isr are 1 (one node), and the group rebalance delay is 0 so a
// consumer joins at once; everything else is Kafka's default, which is the point of a baseline.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, tail, type RunningProcess } from '../test/helpers/external-process.js';
import { expectSuccess, javaExecutable, KAFKA_TOOL, kafkaJavaArgs, runKafkaTool } from '../test/helpers/kafka-tools.js';
import { procStatusBytes } from '../test/helpers/child-broker.js';

export interface ApacheKafkaOptions {
  /** JVM heap, as -Xmx and -Xms (Kafka's own start script uses 1G). */
  heap?: string;
  startTimeoutMs?: number;
  /** More server.properties entries, overriding the defaults here. */
  config?: Record<string, string>;
  /** slf4j level of the broker's log, kept in memory and returned by log(). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export interface ApacheKafka {
  /** host:port of the PLAINTEXT listener. */
  bootstrap: string;
  port: number;
  controllerPort: number;
  /** The java process. */
  pid: number;
  /** Temp directory with server.properties and the log dirs (removed by stop()). */
  dir: string;
  /** Current resident set size of the broker, in bytes. */
  rssBytes(): number;
  /** Peak resident set size so far (VmHWM); after stop(), the last value read before the stop. */
  peakRssBytes(): number;
  /** The broker's log output so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-' (as Kafka's Uuid.randomUuid). */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// Kept here too: the Apache Kafka side samples its broker the same way.
export { procStatusBytes };

function serverProperties(dir: string, port: number, controllerPort: number, extra: Record<string, string>): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    ...extra,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

export async function startApacheKafka(opts: ApacheKafkaOptions = {}): Promise<ApacheKafka> {
  const heap = opts.heap ?? '1G';
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const dir = mkdtempSync(join(tmpdir(), 'apache-kafka-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, serverProperties(dir, port, controllerPort, opts.config ?? {}));

  try {
    expectSuccess(
      await runKafkaTool(KAFKA_TOOL.StorageTool, ['format', '-t', randomClusterId(), '-c', propsFile, '--standalone'], { timeoutMs: 60_000 }),
      'kafka-storage format',
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const broker: RunningProcess = startProcess(
    javaExecutable(),
    kafkaJavaArgs(KAFKA_TOOL.KafkaServer, [propsFile], {
      logLevel: opts.logLevel ?? 'info',
      // The JVM flags of Kafka's kafka-server-start.sh / kafka-run-class.sh.
      jvmArgs: [`-Xmx${heap}`, `-Xms${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent'],
    }),
    { timeoutMs: 24 * 3600_000, missingHint: 'Kafka 4.x needs Java 17+: apt-get install -y openjdk-17-jre-headless.' },
  );
  let lastPeak = 0;
  let stopped = false;
  const output = (): string => broker.stdout() + broker.stderr();
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    lastPeak = Math.max(lastPeak, procStatusBytes(broker.pid, 'VmHWM'));
    await broker.stop(20_000).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + startTimeoutMs;
  let exitedEarly = false;
  broker.exited.then(
    () => (exitedEarly = true),
    () => (exitedEarly = true),
  );
  for (;;) {
    if (exitedEarly) {
      const r = await broker.exited.catch((e: Error) => e);
      await stop();
      throw new Error(`Apache Kafka exited during startup (${r instanceof Error ? r.message : `code ${r.code}`}):\n${tail(output(), 40)}`);
    }
    if (await portAnswers(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Apache Kafka did not listen on 127.0.0.1:${port} within ${startTimeoutMs} ms:\n${tail(output(), 40)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    controllerPort,
    pid: broker.pid,
    dir,
    rssBytes: () => (stopped ? 0 : procStatusBytes(broker.pid, 'VmRSS')),
    peakRssBytes: () => (stopped ? lastPeak : Math.max(lastPeak, procStatusBytes(broker.pid, 'VmHWM'))),
    log: output,
    stop,
  };
}
