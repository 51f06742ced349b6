// The explicit list of served APIs. Adding a handler here is what makes ApiVersions list it.
import type { BrokerContext } from './context.js';
import { HandlerRegistry } from './registry.js';
import type { Handler } from './types.js';
import { produceHandler } from './00-produce.js';
import { fetchHandler } from './01-fetch.js';
import { listOffsetsHandler } from './02-list-offsets.js';
import { deleteRecordsHandler } from './21-delete-records.js';
import { offsetForLeaderEpochHandler } from './23-offset-for-leader-epoch.js';
import { metadataHandler } from './03-metadata.js';
import { apiVersionsHandler } from './18-api-versions.js';
import { createTopicsHandler } from './19-create-topics.js';
import { deleteTopicsHandler } from './20-delete-topics.js';
import { describeConfigsHandler } from './32-describe-configs.js';
import { alterConfigsHandler } from './33-alter-configs.js';
import { describeLogDirsHandler } from './35-describe-log-dirs.js';
import { createPartitionsHandler } from './37-create-partitions.js';
import { incrementalAlterConfigsHandler } from './44-incremental-alter-configs.js';
import { describeClusterHandler } from './60-describe-cluster.js';
import { offsetCommitHandler } from './08-offset-commit.js';
import { offsetFetchHandler } from './09-offset-fetch.js';
import { findCoordinatorHandler } from './10-find-coordinator.js';
import { joinGroupHandler } from './11-join-group.js';
import { heartbeatHandler } from './12-heartbeat.js';
import { leaveGroupHandler } from './13-leave-group.js';
import { syncGroupHandler } from './14-sync-group.js';
import { describeGroupsHandler } from './15-describe-groups.js';
import { listGroupsHandler } from './16-list-groups.js';
import { deleteGroupsHandler } from './42-delete-groups.js';
import { offsetDeleteHandler } from './47-offset-delete.js';
import { consumerGroupHeartbeatHandler } from './68-consumer-group-heartbeat.js';
import { consumerGroupDescribeHandler } from './69-consumer-group-describe.js';

import { initProducerIdHandler } from './22-init-producer-id.js';
import { addPartitionsToTxnHandler } from './24-add-partitions-to-txn.js';
import { addOffsetsToTxnHandler } from './25-add-offsets-to-txn.js';
import { endTxnHandler } from './26-end-txn.js';
import { writeTxnMarkersHandler } from './27-write-txn-markers.js';
import { txnOffsetCommitHandler } from './28-txn-offset-commit.js';
import { describeProducersHandler } from './61-describe-producers.js';
import { describeTransactionsHandler } from './65-describe-transactions.js';
import { listTransactionsHandler } from './66-list-transactions.js';

export function buildHandlerRegistry(b: BrokerContext): HandlerRegistry {
  let registry: HandlerRegistry | undefined;
  const handlers: Handler[] = [
    produceHandler(b),
    fetchHandler(b),
    listOffsetsHandler(b),
    metadataHandler(b),
    apiVersionsHandler(() => registry!.versions()),
    deleteRecordsHandler(b),
    offsetForLeaderEpochHandler(b),
    createTopicsHandler(b),
    deleteTopicsHandler(b),
    describeConfigsHandler(b),
    alterConfigsHandler(b),
    describeLogDirsHandler(b),
    createPartitionsHandler(b),
    incrementalAlterConfigsHandler(b),
    describeClusterHandler(b),
    offsetCommitHandler(b),
    offsetFetchHandler(b),
    findCoordinatorHandler(b),
    joinGroupHandler(b),
    heartbeatHandler(b),
    leaveGroupHandler(b),
    syncGroupHandler(b),
    describeGroupsHandler(b),
    listGroupsHandler(b),
    deleteGroupsHandler(b),
    offsetDeleteHandler(b),
    consumerGroupHeartbeatHandler(b),
    consumerGroupDescribeHandler(b),
    initProducerIdHandler(b),
    addPartitionsToTxnHandler(b),
    addOffsetsToTxnHandler(b),
    endTxnHandler(b),
    writeTxnMarkersHandler(b),
    txnOffsetCommitHandler(b),
    describeProducersHandler(b),
    describeTransactionsHandler(b),
    listTransactionsHandler(b),
  ];
  registry = new HandlerRegistry(handlers);
  return registry;
}
