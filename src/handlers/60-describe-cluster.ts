// DescribeCluster (key 60), versions 0-1.
// The brokers are the cluster view's live agents (one in single-node mode), the controller is
// the agent the cluster view names, and the cluster id is the one Metadata reports. Authorized
// operations report every cluster operation as allowed: there are no ACLs yet.
// v1 endpointType: this listener is a broker endpoint (1); asking it for controllers (2) is
// MISMATCHED_ENDPOINT_TYPE and any other type UNSUPPORTED_ENDPOINT_TYPE, as in Kafka.
import {
  DescribeClusterRequestMessage,
  DescribeClusterResponseMessage,
  createDescribeClusterResponse,
  type DescribeClusterRequest,
  type DescribeClusterResponse,
} from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { CLUSTER_OPERATIONS } from './03-metadata.js';
import { defineHandler } from './types.js';

const ENDPOINT_BROKER = 1;
const ENDPOINT_CONTROLLER = 2;
const NOT_REQUESTED = -2147483648;

export function describeClusterHandler(b: BrokerContext) {
  return defineHandler<DescribeClusterRequest, DescribeClusterResponse>({
    request: DescribeClusterRequestMessage,
    response: DescribeClusterResponseMessage,
    minVersion: 0,
    maxVersion: 1,
    handle(req, ctx) {
      const base = { ...createDescribeClusterResponse(), endpointType: ENDPOINT_BROKER, clusterId: b.cluster.clusterId };
      const endpointType = ctx.apiVersion >= 1 ? req.endpointType : ENDPOINT_BROKER;
      if (endpointType === ENDPOINT_CONTROLLER) {
        return {
          ...base,
          errorCode: ErrorCode.MISMATCHED_ENDPOINT_TYPE,
          errorMessage: 'this is a broker endpoint; StreamHouse has no separate controller endpoints, so ask for endpointType 1 (BROKER)',
        };
      }
      if (endpointType !== ENDPOINT_BROKER) {
        return { ...base, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: `unknown endpoint type ${endpointType}; use 1 (BROKER)` };
      }
      return {
        ...base,
        controllerId: b.cluster.controllerId(),
        brokers: b.cluster.brokers().map((x) => ({ brokerId: x.nodeId, host: x.host, port: x.port, rack: x.rack })),
        clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : NOT_REQUESTED,
      };
    },
  });
}
