// Typed errors of the metadata store. Handlers map them to Kafka error codes at the edge.

export class MetadataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class TopicExistsError extends MetadataError {
  constructor(readonly topic: string) {
    super(`topic '${topic}' already exists; delete it first or choose another name`);
  }
}

export class UnknownTopicError extends MetadataError {
  constructor(readonly topicId: string) {
    super(`no topic with id ${topicId}`);
  }
}

export class UnknownTopicOrPartitionError extends MetadataError {
  constructor(readonly topicId: string, readonly partition: number) {
    super(`no partition ${partition} of topic id ${topicId}`);
  }
}

export class InvalidPartitionsError extends MetadataError {}

/** A write carried a leader epoch that is no longer the partition's: another agent took over. */
export class FencedError extends MetadataError {
  constructor(
    readonly topicId: string,
    readonly partition: number,
    readonly epoch: number,
    readonly currentEpoch: number,
    /** Why, when the epoch matches but the lease does not (released or held by another agent). */
    detail?: string,
  ) {
    super(
      `partition ${topicId}/${partition}: leader epoch ${epoch} is fenced, the current epoch is ` +
        `${currentEpoch}${detail ? ` and the lease is ${detail}` : ''}; this agent lost leadership and must stop writing`,
    );
  }
}

/** A write under a lease (LeaseFence) found the lease taken over: this agent must stop writing. */
export class LeaseFencedError extends MetadataError {
  constructor(readonly resource: string, readonly epoch: number) {
    super(`the lease ${resource} at epoch ${epoch} is no longer held by this agent; another agent took it over`);
  }
}

export class SegmentOverlapError extends MetadataError {
  constructor(
    readonly topicId: string,
    readonly partition: number,
    readonly baseOffset: bigint,
    readonly lastOffset: bigint,
    readonly existingObjectKey: string,
  ) {
    super(
      `partition ${topicId}/${partition}: segment [${baseOffset}, ${lastOffset}] overlaps committed ` +
        `segment ${existingObjectKey}`,
    );
  }
}

/**
 * The database could not be reached or is busy (connection refused or lost, server shutting down,
 * lock timeout). Retriable; the outcome of an in-flight write is unknown.
 */
export class MetadataUnavailableError extends MetadataError {}

/** IMPORT mode asked for a schema id or subject version that already holds something else. */
export class SchemaConflictError extends MetadataError {}
