// Writes transaction markers through the partition logs (this agent leads every partition in
// single-node mode). In cluster mode a partition led elsewhere would get WriteTxnMarkers instead.
import type { LogManager } from '../../log/types.js';
import type { TopicRecord } from '../../metadata/types.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { buildControlBatch } from '../../protocol/records/index.js';
import type { MarkerWriter } from './txn-coordinator.js';
import type { TxnPartition } from './txn-metadata.js';

export class LogMarkerWriter implements MarkerWriter {
  constructor(
    private readonly logs: LogManager,
    private readonly topicById: (id: string) => Promise<TopicRecord | undefined | null>,
  ) {}

  async writeMarker(p: TxnPartition, producerId: bigint, producerEpoch: number, coordinatorEpoch: number, marker: 'commit' | 'abort'): Promise<void> {
    const topic = await this.topicById(p.topicId);
    if (!topic || p.partition >= topic.partitions) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${p.topic} partition ${p.partition} no longer exists`);
    }
    const log = await this.logs.partition(topic, p.partition);
    if (!log.appendControl) throw new Error('the partition log cannot append control batches');
    await log.appendControl(buildControlBatch({ marker, producerId, producerEpoch, coordinatorEpoch }));
  }
}
