// InitProducerId (key 22), versions 0-5.
// Without a transactional id: a fresh producer id from the metadata store's allocator, epoch 0
// (an idempotent producer recovering under KIP-360 simply asks again). With one: the transaction
// coordinator bumps the epoch, fencing earlier instances; an open transaction is aborted first and
// the client is told CONCURRENT_TRANSACTIONS (retriable) until the abort is done; v3+ may pass its
// current id and epoch to resume after an error (KIP-360), which a retried request repeats safely.
// v0-3 see PRODUCER_FENCED as INVALID_PRODUCER_EPOCH, as in Kafka.
import {
  InitProducerIdRequestMessage,
  InitProducerIdResponseMessage,
  createInitProducerIdResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from '../protocol/generated/index.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { coordinatorErrorCode, txnCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function initProducerIdHandler(b: BrokerContext) {
  return defineHandler<InitProducerIdRequest, InitProducerIdResponse>({
    request: InitProducerIdRequestMessage,
    response: InitProducerIdResponseMessage,
    minVersion: 0,
    maxVersion: 5,
    async handle(req, ctx) {
      const expected = ctx.apiVersion >= 3 && req.producerId >= 0n ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : null;
      let r;
      try {
        r = await txnCoordinator(b).initProducerId(req.transactionalId, req.transactionTimeoutMs, expected);
      } catch (err) {
        r = { error: coordinatorErrorCode(err), producerId: -1n, producerEpoch: -1 };
      }
      const error = r.error === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4 ? ErrorCode.INVALID_PRODUCER_EPOCH : r.error;
      return { ...createInitProducerIdResponse(), errorCode: error, producerId: r.producerId, producerEpoch: r.producerEpoch };
    },
    errorResponse: (_req, code) => ({ ...createInitProducerIdResponse(), errorCode: code, producerId: -1n, producerEpoch: -1 }),
  });
}
