// Produce (key 0), versions 3-11 (v3 is the first with record batches v2, all Kafka 4 accepts;
// v11 is the newest in the spec this codec was generated from; there is no topic-id Produce yet).
// Each partition's records field must hold exactly one v2 batch. It is validated on its header
// (length, magic, CRC-32C, offsets vs count, no client control batches, sequence rules), patched in
// place with its offsets and the leader epoch, and stored as the client's bytes; only LogAppendTime
// topics get maxTimestamp rewritten (and the CRC recomputed), and then report logAppendTimeMs.
// acks=0 answers nothing: the appends are started and the handler returns at once, so responses to
// later requests on the connection are not held back. acks=1 answers after the local append (the
// WAL write() where the topic's durability profile has a WAL, memory for glacier). acks=-1 answers
// once the batch is durable under the topic's durability.profile: after the group-commit fsync for
// ultra-safe, after the WAL write() for balanced and high-throughput, after the in-memory append for
// glacier. There are no follower replicas (the durable copy is the WAL, then object storage), so
// NOT_ENOUGH_REPLICAS is never returned and min.insync.replicas has no effect. Any other acks value
// is INVALID_REQUIRED_ACKS. A partition still waiting when timeoutMs runs out gets REQUEST_TIMED_OUT
// (the append may still complete, as in Kafka). Errors: UNKNOWN_TOPIC_OR_PARTITION (Produce never
// creates topics; Metadata does), MESSAGE_TOO_LARGE above max.message.bytes, CORRUPT_MESSAGE on a
// bad CRC or framing, INVALID_RECORD for structurally bad batches, INVALID_TIMESTAMP outside
// message.timestamp.{before,after}.max.ms (checked on the header's base and max timestamps, with a
// recordErrors entry), REQUEST_TIMED_OUT when the WAL stays full (retriable), KAFKA_STORAGE_ERROR
// when the WAL cannot write. v8+ carries errorMessage and recordErrors (KIP-467).
// Topics with confluent.{key,value}.schema.validation get their records checked against the schema
// registry before the append (INVALID_RECORD with one recordErrors entry per bad record, the whole
// batch refused). The check awaits the registry, so appends to such a partition take turns in
// arrival order: an idempotent producer's pipelined batches must reach the log in sequence.
import {
  ProduceRequestMessage,
  ProduceResponseMessage,
  createProduceResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/generated/index.js';
import type { PartitionProduceResponse, TopicProduceResponse } from '../protocol/generated/ProduceResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ATTRIBUTES_OFFSET, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET, RecordsError, TRANSACTIONAL_FLAG_MASK } from '../protocol/records/index.js';
import type { AppendResult } from '../log/types.js';
import type { BrokerContext } from './context.js';
import { defineHandler, type RequestContext } from './types.js';

function partitionResponse(index: number, errorCode: number, errorMessage: string | null = null): PartitionProduceResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

function fromError(index: number, err: unknown, ctx: RequestContext): PartitionProduceResponse {
  if (err instanceof KafkaError) {
    const r = partitionResponse(index, err.code, err.message);
    const recordIndex = (err as KafkaError & { recordIndex?: number }).recordIndex;
    if (recordIndex !== undefined) r.recordErrors = [{ batchIndex: recordIndex, batchIndexErrorMessage: err.message }];
    return r;
  }
  ctx.log.error({ err }, 'produce to a partition failed unexpectedly');
  return partitionResponse(index, ErrorCode.UNKNOWN_SERVER_ERROR, 'internal error');
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0 || !Number.isFinite(ms)) return p;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `the append did not complete within the request's timeoutMs (${ms} ms)`)),
      ms,
    );
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** Runs `fn` after every earlier call with the same key has run, in call order. */
class TurnTaker {
  private readonly last = new Map<string, Promise<void>>();

  /** `prepare` runs meanwhile; `fn` gets its value and must not await (the turn ends when it returns). */
  async inTurn<P, T>(key: string, prepare: Promise<P>, fn: (value: P) => T): Promise<T> {
    const before = this.last.get(key) ?? Promise.resolve();
    // A failure of `prepare` is seen when the turn comes; until then it must not count as unhandled.
    prepare.catch(() => undefined);
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    this.last.set(key, mine);
    try {
      await before;
      return fn(await prepare);
    } finally {
      done();
      if (this.last.get(key) === mine) this.last.delete(key);
    }
  }
}

export function produceHandler(b: BrokerContext) {
  const validationTurns = new TurnTaker();

  /** Starts one partition's append; resolves with its response when the acks level is met. */
  async function producePartition(
    req: ProduceRequest,
    topicName: string,
    index: number,
    records: Buffer | null,
    ctx: RequestContext,
  ): Promise<PartitionProduceResponse> {
    try {
      const topic = await b.topics.get(topicName);
      if (!topic || index < 0 || index >= topic.partitions) {
        return partitionResponse(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${topicName}' partition ${index} does not exist`);
      }
      if (records === null || records.length === 0) {
        return partitionResponse(index, ErrorCode.INVALID_RECORD, 'the produce request carries no record batch for this partition');
      }
      const log = await b.logs!.partition(topic, index);
      const append = () => log.append(records, { acks: req.acks, produceVersion: ctx.apiVersion, transactionalId: req.transactionalId });
      let handle: ReturnType<typeof append>;
      const validating = b.recordValidator?.applies(topic) === true;
      // Schema validation and KIP-890 verification run concurrently with other requests, but the
      // appends they guard still happen in arrival order per partition (idempotent sequences).
      if (validating || (req.transactionalId !== null && b.producers)) {
        const verified = req.transactionalId !== null ? b.producers?.verifyBeforeAppend(topic.id, index, req.transactionalId, records) : undefined;
        const checked = validating ? b.recordValidator!.validate(topic, records) : Promise.resolve([]);
        const prepared = Promise.all([checked, verified]).then(([errs]) => errs);
        const errors = await validationTurns.inTurn(`${topic.id}:${index}`, prepared, (errs) => (errs.length ? errs : append()));
        if (Array.isArray(errors)) {
          const message = `${errors.length} record(s) failed schema validation; record ${errors[0].batchIndex}: ${errors[0].message}`;
          return {
            ...partitionResponse(index, ErrorCode.INVALID_RECORD, message),
            recordErrors: errors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message })),
          };
        }
        handle = errors;
      } else {
        handle = append();
      }
      b.metrics?.produced(topicName, records.length, records.length >= RECORD_BATCH_OVERHEAD ? records.readInt32BE(RECORDS_COUNT_OFFSET) : 0);
      const r: AppendResult = await withTimeout(req.acks === -1 ? handle.durable : handle.appended, req.timeoutMs);
      return {
        ...partitionResponse(index, ErrorCode.NONE),
        baseOffset: r.baseOffset,
        logAppendTimeMs: r.logAppendTime,
        logStartOffset: r.logStartOffset,
      };
    } catch (err) {
      if (err instanceof RecordsError) return partitionResponse(index, err.code, err.message);
      return fromError(index, err, ctx);
    }
  }

  return defineHandler<ProduceRequest, ProduceResponse>({
    request: ProduceRequestMessage,
    response: ProduceResponseMessage,
    minVersion: 3,
    maxVersion: 11,
    async handle(req, ctx) {
      if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
        return errorResponse(req, ErrorCode.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, got ${req.acks}`);
      }
      if (!b.logs) return errorResponse(req, ErrorCode.KAFKA_STORAGE_ERROR, 'the partition logs are not available');
      // As Kafka: transactional batches need the request's transactional id (the authorization
      // check on a null id fails), so a client cannot write transactional data outside a transaction.
      if (req.transactionalId === null && hasTransactionalBatch(req)) {
        return errorResponse(req, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactional record batches need the transactional id in the produce request');
      }
      const started = req.topicData.map((t) => ({
        name: t.name,
        partitions: t.partitionData.map((p) => producePartition(req, t.name, p.index, p.records, ctx)),
      }));
      if (req.acks === 0) {
        // No response is due; failures are only logged (the client cannot learn of them anyway).
        for (const t of started) {
          for (const p of t.partitions) {
            p.then((r) => {
              if (r.errorCode !== ErrorCode.NONE) ctx.log.debug({ topic: t.name, partition: r.index, errorCode: r.errorCode, msg: r.errorMessage }, 'acks=0 produce failed');
            });
          }
        }
        return null;
      }
      const responses: TopicProduceResponse[] = [];
      for (const t of started) responses.push({ name: t.name, partitionResponses: await Promise.all(t.partitions) });
      return { ...createProduceResponse(), responses };
    },
    errorResponse: (req, code, message) => errorResponse(req, code, message),
  });
}

function hasTransactionalBatch(req: ProduceRequest): boolean {
  return req.topicData.some((t) =>
    t.partitionData.some((p) => p.records !== null && p.records.length >= RECORD_BATCH_OVERHEAD && (p.records.readInt16BE(ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG_MASK) !== 0),
  );
}

function errorResponse(req: ProduceRequest, code: number, message: string): ProduceResponse {
  return {
    ...createProduceResponse(),
    responses: req.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) => partitionResponse(p.index, code, message)),
    })),
  };
}
