// ListTransactions (key 66), versions 0-1.
// Every transactional id the coordinator holds, filtered by state names (unknown names are echoed
// in unknownStateFilters), by producer ids, and from v1 by DurationFilter: only transactions
// running longer than that many milliseconds (-1: no filter).
import {
  ListTransactionsRequestMessage,
  ListTransactionsResponseMessage,
  createListTransactionsResponse,
  type ListTransactionsRequest,
  type ListTransactionsResponse,
} from '../protocol/generated/index.js';
import { TXN_STATE_NAMES } from '../coordinator/txn/txn-metadata.js';
import { txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function listTransactionsHandler(b: BrokerContext) {
  return defineHandler<ListTransactionsRequest, ListTransactionsResponse>({
    request: ListTransactionsRequestMessage,
    response: ListTransactionsResponseMessage,
    minVersion: 0,
    maxVersion: 1,
    handle(req, ctx) {
      const known = new Set(Object.values(TXN_STATE_NAMES));
      const states = new Set(req.stateFilters.filter((s) => known.has(s)));
      const unknownStateFilters = req.stateFilters.filter((s) => !known.has(s));
      const pids = new Set(req.producerIdFilters);
      const minDuration = ctx.apiVersion >= 1 ? req.durationFilter : -1n;
      const now = Date.now();
      const transactionStates = txnCoordinator(b)
        .list()
        .filter((r) => r.state !== 'Dead')
        .filter((r) => req.stateFilters.length === 0 || states.has(r.state))
        .filter((r) => pids.size === 0 || pids.has(r.producerId))
        .filter((r) => minDuration < 0n || (r.txnStartMs >= 0 && BigInt(now - r.txnStartMs) > minDuration))
        .map((r) => ({ transactionalId: r.transactionalId, producerId: r.producerId, transactionState: r.state }));
      return { ...createListTransactionsResponse(), unknownStateFilters, transactionStates };
    },
    errorResponse: (_req, code) => ({ ...createListTransactionsResponse(), errorCode: code }),
  });
}
