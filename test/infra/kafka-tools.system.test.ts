// Every Kafka tool that the system tests name starts from the fetched jars and prints its usage:
// the main-class table in test/helpers/kafka-tools.ts matches Kafka 4.4's packages.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KAFKA_TOOL, kafkaTool, runKafkaTool, type KafkaToolName } from '../helpers/kafka-tools.js';

// A phrase from each tool's --help text (some print it on stdout, some on stderr; most exit 1).
const USAGE: Record<KafkaToolName, string> = {
  ConsoleProducer: 'read data from standard input and publish it to Kafka',
  ConsoleConsumer: 'read data from Kafka topics',
  TopicCommand: 'create, delete, describe, or change a topic',
  ConfigCommand: 'describe entity config',
  GetOffsetShell: 'getting topic-partition offsets',
  DeleteRecordsCommand: 'delete records of the given partitions',
  BrokerApiVersionsCommand: 'retrieve broker version information',
  ProducerPerformance: 'usage: kafka-producer-perf-test',
  ConsumerPerformance: 'verify the consumer performance',
  VerifiableConsumer: 'usage: verifiable-consumer',
  VerifiableProducer: 'usage: verifiable-producer',
  TransactionalMessageCopier: 'usage: transactional-message-copier',
  TransactionsCommand: 'usage: kafka-transactions',
  ConsumerGroupCommand: 'manage the offsets of consumer groups',
  MetadataQuorumCommand: 'usage: kafka-metadata-quorum',
  AclCommand: 'manage acls on kafka',
  StorageTool: 'usage: kafka-storage',
  KafkaServer: 'kafka.Kafka server.properties',
};

describe('Kafka tools from test/java/target/lib', () => {
  for (const name of Object.keys(KAFKA_TOOL) as KafkaToolName[]) {
    it(`${name} (${KAFKA_TOOL[name]}) starts and prints its usage`, async () => {
      const r = await kafkaTool[name](['--help'], { timeoutMs: 60_000 });
      assert.equal(r.timedOut, false);
      assert.notEqual(r.code, null, `killed by ${r.signal}`);
      const output = r.stdout + r.stderr;
      assert.doesNotMatch(output, /ClassNotFoundException|NoClassDefFoundError|Could not find or load main class/);
      assert.ok(output.toLowerCase().includes(USAGE[name].toLowerCase()), `no usage text in:\n${output.slice(0, 2000)}`);
    });
  }

  it('reports Kafka 4.4.0', async () => {
    const r = await runKafkaTool(KAFKA_TOOL.ConsoleProducer, ['--version'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^4\.4\.0\b/m);
  });
});
