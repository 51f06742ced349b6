// Fetch (key 1), versions 4-17 (v4 is the first with isolation levels and record batches v2).
// Consumer fetches only: replicaId / replicaState are ignored, because there are no follower brokers
// (the durable copy is the WAL, then object storage); preferredReadReplica is always -1.
// Long polling: the broker answers once MinBytes are available, MaxWaitMs has passed, a partition
// has an error, or the client disconnected (ctx.signal); appends that move a partition's high
// watermark wake the wait. MaxBytes bounds the response and PartitionMaxBytes each partition, in
// whole batches; by KIP-74 the first batch of the first non-empty partition is returned whole even
// when larger than either limit, so a consumer always makes progress. Batches are never cut.
// Fetch sessions (KIP-227, v7+): SessionEpoch -1 fetches without a session (closing SessionId if
// given), 0 opens a new one, n > 0 continues SessionId incrementally (ForgottenTopicsData removes
// partitions; the response carries only partitions with records, an error, or a changed HW / LSO /
// log start). Unknown sessions are FETCH_SESSION_ID_NOT_FOUND, a wrong epoch is
// INVALID_FETCH_SESSION_EPOCH, mixing topic names and ids in one session FETCH_SESSION_TOPIC_ID_ERROR.
// The session cache is bounded (least recently used evicted first, idle ones expire after 2 min).
// read_committed (IsolationLevel 1) stops at the last stable offset; until transactions exist it
// equals the high watermark and AbortedTransactions is empty (null for read_uncommitted).
// v13+ names topics by id (UNKNOWN_TOPIC_ID); older versions by name (UNKNOWN_TOPIC_OR_PARTITION).
// CurrentLeaderEpoch (v9+) older than the partition's is FENCED_LEADER_EPOCH, newer is
// UNKNOWN_LEADER_EPOCH. A fetch offset outside [log start, log end] is OFFSET_OUT_OF_RANGE; offsets
// between the high watermark and the log end answer empty. LastFetchedEpoch / DivergingEpoch
// (follower truncation) are not used: there are no followers.
import {
  FetchRequestMessage,
  FetchResponseMessage,
  createFetchResponse,
  type FetchRequest,
  type FetchResponse,
} from '../protocol/generated/index.js';
import { createEpochEndOffset, createLeaderIdAndEpoch, createSnapshotId, type FetchableTopicResponse, type PartitionData } from '../protocol/generated/FetchResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { TopicRecord } from '../metadata/types.js';
import type { PartitionLogHandle } from '../log/types.js';
import { FetchSession, FetchSessionCache, type SessionPartition } from '../log/fetch-sessions.js';
import type { BrokerContext } from './context.js';
import { defineHandler, type RequestContext } from './types.js';

const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;

interface WorkItem {
  /** Name (v4-12) or id (v13+), as the request names the topic. */
  topicKey: string;
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  session?: SessionPartition;
}

interface ItemResult {
  item: WorkItem;
  data: PartitionData;
  log?: PartitionLogHandle;
}

function emptyPartition(partitionIndex: number, errorCode: number): PartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: createEpochEndOffset(),
    currentLeader: createLeaderIdAndEpoch(),
    snapshotId: createSnapshotId(),
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: Buffer.alloc(0),
  };
}

export function fetchHandler(b: BrokerContext, sessions = new FetchSessionCache()) {
  async function readAll(req: FetchRequest, items: WorkItem[], byId: boolean, topics: Map<string, TopicRecord | undefined>, ctx: RequestContext) {
    const results: ItemResult[] = [];
    let bytes = 0;
    let errored = false;
    for (const item of items) {
      let topic = topics.get(item.topicKey);
      if (!topics.has(item.topicKey)) {
        topic = byId ? await b.topics.getById(item.topicKey) : await b.topics.get(item.topicKey);
        topics.set(item.topicKey, topic);
      }
      if (!topic || item.partition < 0 || item.partition >= topic.partitions) {
        errored = true;
        const code = !topic && byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        results.push({ item, data: emptyPartition(item.partition, code) });
        continue;
      }
      try {
        const log = await b.logs!.partition(topic, item.partition);
        if (item.currentLeaderEpoch >= 0 && item.currentLeaderEpoch !== log.leaderEpoch) {
          errored = true;
          const code = item.currentLeaderEpoch < log.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
          results.push({ item, data: emptyPartition(item.partition, code), log });
          continue;
        }
        const remaining = req.maxBytes - bytes;
        const got = await log.read(item.fetchOffset, {
          maxBytes: Math.max(0, Math.min(item.partitionMaxBytes, remaining)),
          minOneBatch: bytes === 0,
          isolationLevel: req.isolationLevel,
        });
        bytes += got.records.length;
        results.push({
          item,
          log,
          data: {
            ...emptyPartition(item.partition, ErrorCode.NONE),
            highWatermark: got.highWatermark,
            lastStableOffset: got.lastStableOffset,
            logStartOffset: got.logStartOffset,
            abortedTransactions: got.abortedTransactions,
            records: got.records,
          },
        });
      } catch (err) {
        errored = true;
        if (!(err instanceof KafkaError)) ctx.log.error({ err, topic: topic.name, partition: item.partition }, 'fetch from a partition failed');
        results.push({ item, data: emptyPartition(item.partition, err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR) });
      }
    }
    return { results, bytes, errored };
  }

  /**
   * Resolves when any of the logs gets new data, the time is up, or the client goes away. Every
   * callback and the one listener on the connection's signal are removed when it resolves: the
   * signal lives as long as the connection and sees thousands of long polls.
   */
  function waitAny(logs: PartitionLogHandle[], ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let settled = false;
      const cancels: (() => void)[] = [];
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        for (const cancel of cancels) cancel();
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      for (const log of logs) {
        cancels.push(log.watch(done));
        if (settled) break;
      }
      if (settled) for (const cancel of cancels) cancel();
    });
  }

  return defineHandler<FetchRequest, FetchResponse>({
    request: FetchRequestMessage,
    response: FetchResponseMessage,
    minVersion: 4,
    maxVersion: 17,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const byId = v >= 13;
      if (!b.logs) return topLevelError(ErrorCode.KAFKA_STORAGE_ERROR);
      const keyOf = (t: { topic: string; topicId: string }) => (byId ? t.topicId : t.topic);

      // ---- session context ----
      let session: FetchSession | null = null;
      let incremental = false;
      let newSession = false;
      if (v >= 7) {
        if (req.sessionEpoch === FINAL_EPOCH || req.sessionEpoch === INITIAL_EPOCH) {
          if (req.sessionId !== 0) sessions.remove(req.sessionId);
          if (req.sessionEpoch === INITIAL_EPOCH) {
            session = sessions.create(byId);
            newSession = session !== null;
          }
        } else {
          const s = sessions.get(req.sessionId);
          if (!s) return topLevelError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
          if (s.epoch !== req.sessionEpoch) return topLevelError(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
          if (s.usesTopicIds !== byId) {
            sessions.remove(s.id);
            return topLevelError(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
          }
          session = s;
          incremental = true;
          s.epoch = s.epoch === 0x7fffffff ? 1 : s.epoch + 1;
        }
      }

      // ---- what to read ----
      let items: WorkItem[] = [];
      for (const t of req.topics) {
        for (const p of t.partitions) {
          items.push({
            topicKey: keyOf(t),
            partition: p.partition,
            fetchOffset: p.fetchOffset,
            partitionMaxBytes: p.partitionMaxBytes,
            currentLeaderEpoch: p.currentLeaderEpoch,
          });
        }
      }
      if (session) {
        for (const it of items) session.upsert(it);
        if (incremental) {
          for (const f of req.forgottenTopicsData) for (const p of f.partitions) session.forget(keyOf(f), p);
          items = [...session.partitions.values()].map((sp) => ({ ...sp, session: sp }));
        } else {
          for (const it of items) it.session = session.partitions.get(FetchSession.key(it.topicKey, it.partition));
        }
      }

      // ---- read, long-polling until MinBytes, MaxWaitMs, an error or a disconnect ----
      const topics = new Map<string, TopicRecord | undefined>();
      const deadline = Date.now() + Math.max(0, req.maxWaitMs);
      let round = await readAll(req, items, byId, topics, ctx);
      for (;;) {
        const left = deadline - Date.now();
        if (round.bytes >= req.minBytes || round.errored || left <= 0 || ctx.signal.aborted || items.length === 0) break;
        const logs = round.results.flatMap((r) => (r.log ? [r.log] : []));
        await waitAny(logs, left, ctx.signal);
        round = await readAll(req, items, byId, topics, ctx);
      }

      // ---- answer ----
      const responses: FetchableTopicResponse[] = [];
      let current: FetchableTopicResponse | null = null;
      for (const { item, data } of round.results) {
        const sp = item.session;
        if (sp) {
          const changed =
            data.records!.length > 0 ||
            data.errorCode !== ErrorCode.NONE ||
            data.highWatermark !== sp.sentHighWatermark ||
            data.lastStableOffset !== sp.sentLastStableOffset ||
            data.logStartOffset !== sp.sentLogStartOffset;
          sp.sentHighWatermark = data.highWatermark;
          sp.sentLastStableOffset = data.lastStableOffset;
          sp.sentLogStartOffset = data.logStartOffset;
          if (incremental && !changed) continue;
        }
        if (current === null || (byId ? current.topicId : current.topic) !== item.topicKey) {
          current = { topic: byId ? '' : item.topicKey, topicId: byId ? item.topicKey : '00000000-0000-0000-0000-000000000000', partitions: [] };
          responses.push(current);
        }
        current.partitions.push(data);
        const topicName = topics.get(item.topicKey)?.name;
        if (b.metrics && topicName && data.records && data.records.length > 0) b.metrics.fetched(topicName, data.records.length);
      }
      return {
        ...createFetchResponse(),
        errorCode: ErrorCode.NONE,
        sessionId: session && (newSession || incremental) ? session.id : 0,
        responses,
      };
    },
    errorResponse: (_req, code) => topLevelError(code),
  });
}

function topLevelError(errorCode: number): FetchResponse {
  return { ...createFetchResponse(), errorCode, sessionId: 0, responses: [] };
}
