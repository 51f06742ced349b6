// DescribeTransactions (key 65), version 0.
// State, timeout, start time, producer id and epoch, and partitions of each transactional id;
// TRANSACTIONAL_ID_NOT_FOUND for ids the coordinator does not know (or that expired).
import {
  DescribeTransactionsRequestMessage,
  DescribeTransactionsResponseMessage,
  createDescribeTransactionsResponse,
  type DescribeTransactionsRequest,
  type DescribeTransactionsResponse,
} from '../protocol/generated/index.js';
import type { TransactionState } from '../protocol/generated/DescribeTransactionsResponse.js';
import { ErrorCode } from '../protocol/errors.js';
import { txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

function notFound(id: string, code: number): TransactionState {
  return {
    errorCode: code,
    transactionalId: id,
    transactionState: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1n,
    producerId: -1n,
    producerEpoch: -1,
    topics: [],
  };
}

export function describeTransactionsHandler(b: BrokerContext) {
  return defineHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>({
    request: DescribeTransactionsRequestMessage,
    response: DescribeTransactionsResponseMessage,
    minVersion: 0,
    maxVersion: 0,
    handle(req) {
      const coord = txnCoordinator(b);
      const transactionStates = req.transactionalIds.map((id) => {
        if (!coord.coordinates(id)) return notFound(id, ErrorCode.NOT_COORDINATOR);
        const r = coord.get(id);
        if (!r || r.state === 'Dead') return notFound(id, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
        const byTopic = new Map<string, number[]>();
        for (const p of r.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
        return {
          errorCode: ErrorCode.NONE,
          transactionalId: id,
          transactionState: r.state,
          transactionTimeoutMs: r.timeoutMs,
          transactionStartTimeMs: BigInt(r.txnStartMs),
          producerId: r.producerId,
          producerEpoch: r.producerEpoch,
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        };
      });
      return { ...createDescribeTransactionsResponse(), transactionStates };
    },
    errorResponse: (req, code) => ({
      ...createDescribeTransactionsResponse(),
      transactionStates: req.transactionalIds.map((id) => notFound(id, code)),
    }),
  });
}
