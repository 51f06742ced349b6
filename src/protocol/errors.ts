// Kafka's error codes: name, code, whether a client may retry, and a one-line meaning.
// The codes and retriable flags are facts of the protocol (Kafka 4.x); the wording is ours.
// Handlers return these codes per partition; `KafkaError` carries one through typed code inside.

export interface ErrorInfo {
  readonly name: string;
  readonly code: number;
  readonly retriable: boolean;
  readonly message: string;
}

const table = [
  [-1, 'UNKNOWN_SERVER_ERROR', false, 'The server experienced an unexpected error while processing the request.'],
  [0, 'NONE', false, ''],
  [1, 'OFFSET_OUT_OF_RANGE', false, 'The requested offset is outside the range this partition holds.'],
  [2, 'CORRUPT_MESSAGE', true, 'The record batch failed its CRC check, has an invalid size, or is otherwise corrupt.'],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', true, 'This broker does not host this topic-partition.'],
  [4, 'INVALID_FETCH_SIZE', false, 'The requested fetch size is invalid.'],
  [5, 'LEADER_NOT_AVAILABLE', true, 'The partition has no leader right now.'],
  [6, 'NOT_LEADER_OR_FOLLOWER', true, 'This broker is not the leader of the partition.'],
  [7, 'REQUEST_TIMED_OUT', true, 'The request timed out.'],
  [8, 'BROKER_NOT_AVAILABLE', false, 'The broker is not available.'],
  [9, 'REPLICA_NOT_AVAILABLE', true, 'The replica is not available for the requested topic-partition.'],
  [10, 'MESSAGE_TOO_LARGE', false, 'The request included a record batch larger than the topic accepts (max.message.bytes).'],
  [11, 'STALE_CONTROLLER_EPOCH', false, 'The controller moved to another broker.'],
  [12, 'OFFSET_METADATA_TOO_LARGE', false, 'The metadata of the committed offset is too large.'],
  [13, 'NETWORK_EXCEPTION', true, 'The server disconnected before a response was received.'],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', true, 'The coordinator is loading and cannot serve this request yet.'],
  [15, 'COORDINATOR_NOT_AVAILABLE', true, 'The coordinator is not available.'],
  [16, 'NOT_COORDINATOR', true, 'This broker is not the coordinator for this key.'],
  [17, 'INVALID_TOPIC_EXCEPTION', false, 'The topic name is invalid or the operation is not allowed on this topic.'],
  [18, 'RECORD_LIST_TOO_LARGE', false, 'The batch is larger than the segment size.'],
  [19, 'NOT_ENOUGH_REPLICAS', true, 'Fewer in-sync replicas than required.'],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true, 'Written with fewer in-sync replicas than required.'],
  [21, 'INVALID_REQUIRED_ACKS', false, 'acks must be -1, 0 or 1.'],
  [22, 'ILLEGAL_GENERATION', false, 'The generation id is not the current one of the group.'],
  [23, 'INCONSISTENT_GROUP_PROTOCOL', false, "The member's protocol type or protocols do not match the group's."],
  [24, 'INVALID_GROUP_ID', false, 'The group id is invalid.'],
  [25, 'UNKNOWN_MEMBER_ID', false, 'The member id is not known in the current generation.'],
  [26, 'INVALID_SESSION_TIMEOUT', false, "The session timeout is outside the broker's allowed range."],
  [27, 'REBALANCE_IN_PROGRESS', false, 'The group is rebalancing; rejoin.'],
  [28, 'INVALID_COMMIT_OFFSET_SIZE', false, 'The committed offset data size is not valid.'],
  [29, 'TOPIC_AUTHORIZATION_FAILED', false, 'Topic authorization failed.'],
  [30, 'GROUP_AUTHORIZATION_FAILED', false, 'Group authorization failed.'],
  [31, 'CLUSTER_AUTHORIZATION_FAILED', false, 'Cluster authorization failed.'],
  [32, 'INVALID_TIMESTAMP', false, 'The record timestamp is out of the accepted range.'],
  [33, 'UNSUPPORTED_SASL_MECHANISM', false, 'The broker does not support the requested SASL mechanism.'],
  [34, 'ILLEGAL_SASL_STATE', false, 'The request is not valid in the current SASL state.'],
  [35, 'UNSUPPORTED_VERSION', false, 'The broker does not support this version of the API.'],
  [36, 'TOPIC_ALREADY_EXISTS', false, 'A topic with this name already exists.'],
  [37, 'INVALID_PARTITIONS', false, 'The number of partitions is invalid.'],
  [38, 'INVALID_REPLICATION_FACTOR', false, 'The replication factor is invalid.'],
  [39, 'INVALID_REPLICA_ASSIGNMENT', false, 'The replica assignment is invalid.'],
  [40, 'INVALID_CONFIG', false, 'The configuration is invalid.'],
  [41, 'NOT_CONTROLLER', true, 'This broker is not the controller.'],
  [42, 'INVALID_REQUEST', false, 'The request is malformed or not valid for this broker.'],
  [43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', false, 'The message format version does not support the request.'],
  [44, 'POLICY_VIOLATION', false, 'The request violates a configured policy.'],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, 'The broker received an out-of-order sequence number.'],
  [46, 'DUPLICATE_SEQUENCE_NUMBER', false, 'The broker received a duplicate sequence number.'],
  [47, 'INVALID_PRODUCER_EPOCH', false, 'The producer epoch is older than the current one.'],
  [48, 'INVALID_TXN_STATE', false, "The transactional operation is not valid in the transaction's state."],
  [49, 'INVALID_PRODUCER_ID_MAPPING', false, 'The producer id is not assigned to this transactional id.'],
  [50, 'INVALID_TRANSACTION_TIMEOUT', false, 'The transaction timeout exceeds transaction.max.timeout.ms.'],
  [51, 'CONCURRENT_TRANSACTIONS', true, 'Another operation on this transaction is in progress.'],
  [52, 'TRANSACTION_COORDINATOR_FENCED', false, 'The transaction coordinator is no longer the current one for this producer.'],
  [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false, 'Transactional id authorization failed.'],
  [54, 'SECURITY_DISABLED', false, 'Security features are disabled.'],
  [55, 'OPERATION_NOT_ATTEMPTED', false, 'The broker did not attempt this operation because another in the batch failed.'],
  [56, 'KAFKA_STORAGE_ERROR', true, 'A storage error occurred on the broker (disk or object store).'],
  [57, 'LOG_DIR_NOT_FOUND', false, 'The log directory does not exist.'],
  [58, 'SASL_AUTHENTICATION_FAILED', false, 'SASL authentication failed.'],
  [59, 'UNKNOWN_PRODUCER_ID', false, 'The broker has no state for this producer id.'],
  [60, 'REASSIGNMENT_IN_PROGRESS', false, 'A partition reassignment is in progress.'],
  [61, 'DELEGATION_TOKEN_AUTH_DISABLED', false, 'Delegation token authentication is disabled.'],
  [62, 'DELEGATION_TOKEN_NOT_FOUND', false, 'The delegation token was not found.'],
  [63, 'DELEGATION_TOKEN_OWNER_MISMATCH', false, 'The principal does not own the delegation token.'],
  [64, 'DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', false, 'Delegation token requests are not allowed on this channel.'],
  [65, 'DELEGATION_TOKEN_AUTHORIZATION_FAILED', false, 'Delegation token authorization failed.'],
  [66, 'DELEGATION_TOKEN_EXPIRED', false, 'The delegation token has expired.'],
  [67, 'INVALID_PRINCIPAL_TYPE', false, 'The principal type is not supported.'],
  [68, 'NON_EMPTY_GROUP', false, 'The group is not empty.'],
  [69, 'GROUP_ID_NOT_FOUND', false, 'The group id does not exist.'],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', true, 'The fetch session id was not found.'],
  [71, 'INVALID_FETCH_SESSION_EPOCH', true, 'The fetch session epoch is invalid.'],
  [72, 'LISTENER_NOT_FOUND', true, 'No leader endpoint matches the listener the request arrived on.'],
  [73, 'TOPIC_DELETION_DISABLED', false, 'Topic deletion is disabled.'],
  [74, 'FENCED_LEADER_EPOCH', true, "The request's leader epoch is older than the broker's."],
  [75, 'UNKNOWN_LEADER_EPOCH', true, "The request's leader epoch is newer than the broker's."],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE', false, 'The requesting client does not support the compression type.'],
  [77, 'STALE_BROKER_EPOCH', false, 'The broker epoch has changed.'],
  [78, 'OFFSET_NOT_AVAILABLE', true, "The leader's high watermark has not caught up yet."],
  [79, 'MEMBER_ID_REQUIRED', false, 'The group member needs a member id; rejoin with the one given.'],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', true, 'The preferred leader is not available.'],
  [81, 'GROUP_MAX_SIZE_REACHED', false, 'The group has reached its maximum size.'],
  [82, 'FENCED_INSTANCE_ID', false, 'Another member with the same group.instance.id replaced this one.'],
  [83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', true, 'No eligible leader is available.'],
  [84, 'ELECTION_NOT_NEEDED', true, 'No leader election is needed.'],
  [85, 'NO_REASSIGNMENT_IN_PROGRESS', false, 'No partition reassignment is in progress.'],
  [86, 'GROUP_SUBSCRIBED_TO_TOPIC', false, 'The group still subscribes to the topic; deleting its offsets is not allowed.'],
  [87, 'INVALID_RECORD', false, "A record failed the broker's validation and was rejected."],
  [88, 'UNSTABLE_OFFSET_COMMIT', true, 'Offsets of this partition are pending in a transaction.'],
  [89, 'THROTTLING_QUOTA_EXCEEDED', true, 'The throttling quota was exceeded.'],
  [90, 'PRODUCER_FENCED', false, 'A newer producer with the same transactional id fenced this one.'],
  [91, 'RESOURCE_NOT_FOUND', false, 'The resource does not exist.'],
  [92, 'DUPLICATE_RESOURCE', false, 'The request names the same resource more than once.'],
  [93, 'UNACCEPTABLE_CREDENTIAL', false, 'The credential does not meet the requirements.'],
  [94, 'INCONSISTENT_VOTER_SET', false, 'The voter set is inconsistent.'],
  [95, 'INVALID_UPDATE_VERSION', false, 'The update version is invalid.'],
  [96, 'FEATURE_UPDATE_FAILED', false, 'Updating the feature failed.'],
  [97, 'PRINCIPAL_DESERIALIZATION_FAILURE', false, 'The principal could not be deserialized.'],
  [98, 'SNAPSHOT_NOT_FOUND', false, 'The snapshot was not found.'],
  [99, 'POSITION_OUT_OF_RANGE', false, 'The position is outside the snapshot.'],
  [100, 'UNKNOWN_TOPIC_ID', true, 'This broker does not know the topic id.'],
  [101, 'DUPLICATE_BROKER_REGISTRATION', false, 'The broker registration is a duplicate.'],
  [102, 'BROKER_ID_NOT_REGISTERED', false, 'The broker id is not registered.'],
  [103, 'INCONSISTENT_TOPIC_ID', true, 'The topic id does not match the topic name.'],
  [104, 'INCONSISTENT_CLUSTER_ID', false, 'The cluster id does not match.'],
  [105, 'TRANSACTIONAL_ID_NOT_FOUND', false, 'The transactional id was not found.'],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', true, "The fetch session's topic ids are inconsistent."],
  [107, 'INELIGIBLE_REPLICA', false, 'The replica is not eligible for the leader or ISR.'],
  [108, 'NEW_LEADER_ELECTED', false, 'A new leader was elected.'],
  [109, 'OFFSET_MOVED_TO_TIERED_STORAGE', false, 'The offset has moved to tiered storage.'],
  [110, 'FENCED_MEMBER_EPOCH', false, 'The member epoch is fenced; rejoin with epoch 0.'],
  [111, 'UNRELEASED_INSTANCE_ID', false, 'The instance id is still used by another member.'],
  [112, 'UNSUPPORTED_ASSIGNOR', false, 'The assignor is not supported by the group.'],
  [113, 'STALE_MEMBER_EPOCH', false, 'The member epoch is stale.'],
  [114, 'MISMATCHED_ENDPOINT_TYPE', false, 'The request was sent to an endpoint of the wrong type.'],
  [115, 'UNSUPPORTED_ENDPOINT_TYPE', false, 'This endpoint type does not support the request.'],
  [116, 'UNKNOWN_CONTROLLER_ID', false, 'The controller id is unknown.'],
  [117, 'UNKNOWN_SUBSCRIPTION_ID', false, 'The client telemetry subscription id is unknown.'],
  [118, 'TELEMETRY_TOO_LARGE', false, 'The client telemetry request is too large.'],
  [119, 'INVALID_REGISTRATION', false, 'The broker registration is invalid.'],
  [120, 'TRANSACTION_ABORTABLE', true, 'The transaction must be aborted; the producer can abort and retry.'],
  [121, 'INVALID_RECORD_STATE', false, 'The record state is invalid.'],
  [122, 'SHARE_SESSION_NOT_FOUND', true, 'The share session was not found.'],
  [123, 'INVALID_SHARE_SESSION_EPOCH', true, 'The share session epoch is invalid.'],
  [124, 'FENCED_STATE_EPOCH', false, 'The share coordinator state epoch is fenced.'],
  [125, 'INVALID_VOTER_KEY', false, 'The voter key is invalid.'],
  [126, 'DUPLICATE_VOTER', false, 'The voter is already in the voter set.'],
  [127, 'VOTER_NOT_FOUND', false, 'The voter is not in the voter set.'],
  [128, 'INVALID_REGULAR_EXPRESSION', false, 'The regular expression is invalid.'],
  [129, 'REBOOTSTRAP_REQUIRED', false, 'The client must rebootstrap.'],
  [130, 'STREAMS_INVALID_TOPOLOGY', false, 'The streams topology is invalid.'],
  [131, 'STREAMS_INVALID_TOPOLOGY_EPOCH', false, 'The streams topology epoch is invalid.'],
  [132, 'STREAMS_TOPOLOGY_FENCED', false, 'The streams topology is fenced.'],
  [133, 'SHARE_SESSION_LIMIT_REACHED', true, 'The share session limit was reached.'],
] as const;

type Row = (typeof table)[number];
export type ErrorName = Row[1];

/** Error codes by name: `ErrorCode.NOT_LEADER_OR_FOLLOWER === 6`. */
export const ErrorCode = Object.fromEntries(table.map((r) => [r[1], r[0]])) as { readonly [K in ErrorName]: number };

const byCode = new Map<number, ErrorInfo>(
  table.map((r: Row) => [r[0], { code: r[0], name: r[1], retriable: r[2], message: r[3] }]),
);

export function errorInfo(code: number): ErrorInfo | undefined {
  return byCode.get(code);
}

export function errorName(code: number): string {
  return byCode.get(code)?.name ?? `UNKNOWN_ERROR_CODE_${code}`;
}

export function allErrors(): ErrorInfo[] {
  return [...byCode.values()];
}

/** A failure that maps to one Kafka error code, with a message for the client and the log. */
export class KafkaError extends Error {
  constructor(
    readonly code: number,
    message?: string,
  ) {
    super(message ?? byCode.get(code)?.message ?? `error ${code}`);
    this.name = `KafkaError(${errorName(code)})`;
  }

  get retriable(): boolean {
    return byCode.get(this.code)?.retriable ?? false;
  }
}

/** Builds a KafkaError by name: `kafkaError('INVALID_CONFIG', 'retention.ms must be a number')`. */
export function kafkaError(name: ErrorName, message?: string): KafkaError {
  return new KafkaError(ErrorCode[name], message);
}
