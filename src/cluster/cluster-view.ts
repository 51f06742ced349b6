// Who the brokers are and who leads each partition, as Metadata and FindCoordinator report it.
// A single agent leads everything; cluster mode (leases in the metadata store) implements the
// same interface, so handlers do not care which one runs.

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionLeader {
  leaderId: number;
  leaderEpoch: number;
}

export interface ClusterView {
  readonly clusterId: string;
  readonly localNodeId: number;
  brokers(): BrokerEndpoint[];
  controllerId(): number;
  leader(topicId: string, partition: number): PartitionLeader;
}

export class SingleNodeClusterView implements ClusterView {
  private readonly epochs = new Map<string, number>();

  constructor(
    readonly clusterId: string,
    private readonly self: BrokerEndpoint,
  ) {}

  get localNodeId(): number {
    return this.self.nodeId;
  }

  brokers(): BrokerEndpoint[] {
    return [this.self];
  }

  controllerId(): number {
    return this.self.nodeId;
  }

  /** Partition logs report the leader epoch they loaded from the metadata store. */
  setLeaderEpoch(topicId: string, partition: number, epoch: number): void {
    this.epochs.set(`${topicId}:${partition}`, epoch);
  }

  leader(topicId: string, partition: number): PartitionLeader {
    return { leaderId: this.self.nodeId, leaderEpoch: this.epochs.get(`${topicId}:${partition}`) ?? 0 };
  }
}
