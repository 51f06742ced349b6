// A kafkajs group member in its own process, for tests that kill it (SIGKILL) like a crash.
// argv: bootstrap topic groupId name. Prints one JSON line per event on stdout:
// {"ev":"assigned"} after each join, {"ev":"read","p","o"} before committing a record and
// {"ev":"committed","p","o"} after committing offset o + 1.
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, groupId, name] = process.argv.slice(2) as [string, string, string, string];
const say = (x: object) => process.stdout.write(JSON.stringify(x) + '\n');

const kafka = new Kafka({ clientId: name, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50 } });
const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
consumer.on(consumer.events.GROUP_JOIN, (e) => say({ ev: 'assigned', generation: e.payload.groupId, assignment: e.payload.memberAssignment }));
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachMessage: async ({ partition, message }) => {
    say({ ev: 'read', p: partition, o: Number(message.offset) });
    await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
    say({ ev: 'committed', p: partition, o: Number(message.offset) });
  },
});
say({ ev: 'running' });
process.on('SIGTERM', () => {
  consumer.disconnect().finally(() => process.exit(0));
});
