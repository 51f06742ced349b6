// What handlers may use: the broker's services, built once by the composition root (agent.ts).
import type { BrokerConfig } from '../config.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { TopicCatalog } from '../log/topic-catalog.js';
import type { DurabilityProfile } from '../log/topic-config.js';
import type { MetadataStore } from '../metadata/types.js';
import type { LogManager } from '../log/types.js';
import type { GroupCoordinator } from '../coordinator/group/coordinator.js';
import type { TxnCoordinator } from '../coordinator/txn/txn-coordinator.js';
import type { ProducerStateManager } from '../coordinator/producer/producer-state-manager.js';
import type { BrokerMetrics } from '../observability/metrics.js';
import type { TopicRecord } from '../metadata/types.js';
import { ErrorCode, KafkaError, kafkaError } from '../protocol/errors.js';
import { MetadataUnavailableError } from '../metadata/errors.js';

/** Broker-side record checks a topic can ask for (schema validation); see registry/validation.ts. */
export interface RecordValidator {
  /** Cheap: whether the topic's configs ask for any check (no decoding). */
  applies(topic: TopicRecord): boolean;
  /** Per-record problems of one batch, empty when every record passes. */
  validate(topic: TopicRecord, batch: Buffer): Promise<{ batchIndex: number; message: string }[]>;
}

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly profile: DurabilityProfile;
  readonly cluster: ClusterView;
  readonly topics: TopicCatalog;
  readonly store: MetadataStore;
  /** Partition logs (Produce, Fetch, ListOffsets, ...); absent until the log layer is wired in. */
  readonly logs?: LogManager;
  /** Consumer groups and offsets; absent in contexts built without a coordinator (some unit tests). */
  readonly groups?: GroupCoordinator;
  /** Transaction coordinator (InitProducerId, AddPartitionsToTxn, EndTxn, ...); absent in some unit tests. */
  readonly transactions?: TxnCoordinator;
  /** Per-partition producer state (idempotence, LSO, aborted transactions); absent in some unit tests. */
  readonly producers?: ProducerStateManager;
  /** Schema validation on produce, for topics that turn it on. */
  readonly recordValidator?: RecordValidator;
  /** Prometheus metrics of this agent; absent in some unit tests. */
  readonly metrics?: BrokerMetrics;
}

/** The transaction coordinator, or COORDINATOR_NOT_AVAILABLE (retriable) when none runs in this context. */
export function txnCoordinator(b: BrokerContext): TxnCoordinator {
  if (!b.transactions) throw kafkaError('COORDINATOR_NOT_AVAILABLE', 'no transaction coordinator runs on this broker');
  return b.transactions;
}

/**
 * The error code a coordinator failure answers: a KafkaError's own code; COORDINATOR_NOT_AVAILABLE
 * (retriable: clients look the coordinator up again and retry) when the metadata store cannot be
 * reached. Anything else is a bug and is rethrown.
 */
export function coordinatorErrorCode(err: unknown): number {
  if (err instanceof KafkaError) return err.code;
  if (err instanceof MetadataUnavailableError) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  throw err;
}

/** The group coordinator, or COORDINATOR_NOT_AVAILABLE (retriable) when none runs in this context. */
export function groupCoordinator(b: BrokerContext): GroupCoordinator {
  if (!b.groups) throw kafkaError('COORDINATOR_NOT_AVAILABLE', 'no group coordinator runs on this broker');
  return b.groups;
}
