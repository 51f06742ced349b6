// The broker's view of topics: a cache over the metadata store's TopicStore, with Kafka's rules
// for names, partition counts and configs applied in one place. Handlers (Metadata, CreateTopics,
// DeleteTopics, configs) go through here, never to the store directly.
import { randomUUID } from 'node:crypto';
import type { MetadataStore, TopicRecord } from '../metadata/types.js';
import { kafkaError } from '../protocol/errors.js';
import { validateTopicConfig, validateTopicName } from './topic-config.js';

export interface CreateTopicOptions {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
  validateOnly?: boolean;
}

/** Partition count limit per topic: a guard against typos like 100000, not a design limit. */
export const MAX_PARTITIONS = 10_000;

export class TopicCatalog {
  private byName = new Map<string, TopicRecord>();
  private byId = new Map<string, TopicRecord>();
  private loaded = false;
  /** Counts local changes, so a refresh that raced one does not overwrite it with older rows. */
  private mutations = 0;
  private readonly creating = new Map<string, Promise<TopicRecord>>();
  /** Called after a topic is created, deleted or changed (partition logs react to it). */
  onChange?: (event: 'created' | 'deleted' | 'changed', topic: TopicRecord) => void;

  constructor(private readonly store: MetadataStore) {}

  /**
   * Reloads every topic from the store (start-up; other agents' changes in cluster mode). After the
   * first load, differences are reported through onChange like local changes, so a topic another
   * agent deleted or reconfigured stops or changes its logs here too.
   */
  async refresh(): Promise<void> {
    const before = this.mutations;
    const topics = await this.store.topics.listTopics();
    // A local change made while the list was read is newer than it; the next refresh catches up.
    if (this.loaded && this.mutations !== before) return;
    const previous = this.loaded ? this.byId : null;
    this.byName = new Map(topics.map((t) => [t.name, t]));
    this.byId = new Map(topics.map((t) => [t.id, t]));
    this.loaded = true;
    if (!previous || !this.onChange) return;
    for (const [id, old] of previous) if (!this.byId.has(id)) this.onChange('deleted', old);
    for (const t of topics) {
      const old = previous.get(t.id);
      if (!old) this.onChange('created', t);
      else if (old.partitions !== t.partitions || JSON.stringify(old.configs) !== JSON.stringify(t.configs)) this.onChange('changed', t);
    }
  }

  private put(t: TopicRecord): void {
    this.byName.set(t.name, t);
    this.byId.set(t.id, t);
    this.mutations++;
  }

  private async ensureLoaded(): Promise<void> {
    if (!this.loaded) await this.refresh();
  }

  async list(): Promise<TopicRecord[]> {
    await this.ensureLoaded();
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async get(name: string): Promise<TopicRecord | undefined> {
    await this.ensureLoaded();
    const t = this.byName.get(name);
    if (t || !this.readThrough) return t;
    return this.remember(await this.store.topics.getTopicByName(name));
  }

  async getById(id: string): Promise<TopicRecord | undefined> {
    await this.ensureLoaded();
    const t = this.byId.get(id);
    if (t || !this.readThrough) return t;
    return this.remember(await this.store.topics.getTopicById(id));
  }

  /**
   * Cluster mode: a topic another agent created is looked up in the store on a miss, so a client
   * that created it through one agent finds it on every agent at once.
   */
  readThrough = false;

  private remember(t: TopicRecord | null): TopicRecord | undefined {
    if (!t) return undefined;
    this.put(t);
    return t;
  }

  /** Checks a creation request; throws KafkaError with Kafka's code and a message that says why. */
  validateCreate(opts: CreateTopicOptions): void {
    const nameError = validateTopicName(opts.name);
    if (nameError) throw kafkaError('INVALID_TOPIC_EXCEPTION', nameError);
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1) {
      throw kafkaError('INVALID_PARTITIONS', `number of partitions must be at least 1, got ${opts.partitions}`);
    }
    if (opts.partitions > MAX_PARTITIONS) {
      throw kafkaError('INVALID_PARTITIONS', `number of partitions must be at most ${MAX_PARTITIONS}, got ${opts.partitions}`);
    }
    for (const [k, v] of Object.entries(opts.configs ?? {})) {
      const err = validateTopicConfig(k, v);
      if (err) throw kafkaError('INVALID_CONFIG', err);
    }
  }

  /** Creates a topic; concurrent creations of one name share one attempt. */
  async create(opts: CreateTopicOptions): Promise<TopicRecord> {
    await this.ensureLoaded();
    this.validateCreate(opts);
    if (this.byName.has(opts.name)) throw kafkaError('TOPIC_ALREADY_EXISTS', `topic '${opts.name}' already exists`);
    if (opts.validateOnly) return { id: randomUUID(), name: opts.name, partitions: opts.partitions, configs: opts.configs ?? {} };
    const pending = this.creating.get(opts.name);
    if (pending) {
      await pending.catch(() => undefined);
      throw kafkaError('TOPIC_ALREADY_EXISTS', `topic '${opts.name}' already exists`);
    }
    const attempt = this.store.topics
      .createTopic({ name: opts.name, id: randomUUID(), partitions: opts.partitions, configs: opts.configs ?? {} })
      .then((t) => {
        this.put(t);
        this.onChange?.('created', t);
        return t;
      })
      .catch(async (err) => {
        if ((err as Error).name === 'TopicExistsError') {
          await this.refresh();
          throw kafkaError('TOPIC_ALREADY_EXISTS', `topic '${opts.name}' already exists`);
        }
        throw err;
      })
      .finally(() => this.creating.delete(opts.name));
    this.creating.set(opts.name, attempt);
    return attempt;
  }

  /** Returns the topic, creating it with the broker defaults when it is unknown and allowed. */
  async getOrCreate(name: string, partitions: number): Promise<TopicRecord> {
    const t = await this.get(name);
    if (t) return t;
    try {
      return await (this.creating.get(name) ?? this.create({ name, partitions }));
    } catch (err) {
      const again = await this.get(name);
      if (again) return again;
      throw err;
    }
  }

  async delete(id: string): Promise<TopicRecord> {
    await this.ensureLoaded();
    const t = this.byId.get(id);
    if (!t) throw kafkaError('UNKNOWN_TOPIC_ID', `no topic with id ${id}`);
    await this.store.topics.deleteTopic(id);
    this.byName.delete(t.name);
    this.byId.delete(id);
    this.mutations++;
    this.onChange?.('deleted', t);
    return t;
  }

  async setConfigs(id: string, configs: Record<string, string>): Promise<void> {
    const t = this.byId.get(id);
    if (!t) throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION', `no topic with id ${id}`);
    await this.store.topics.setTopicConfigs(id, configs);
    const next = { ...t, configs: { ...configs } };
    this.put(next);
    this.onChange?.('changed', next);
  }

  async addPartitions(id: string, total: number): Promise<void> {
    const t = this.byId.get(id);
    if (!t) throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION', `no topic with id ${id}`);
    if (total <= t.partitions) {
      throw kafkaError('INVALID_PARTITIONS', `topic '${t.name}' has ${t.partitions} partitions; the new count must be larger, got ${total}`);
    }
    if (total > MAX_PARTITIONS) throw kafkaError('INVALID_PARTITIONS', `number of partitions must be at most ${MAX_PARTITIONS}`);
    await this.store.topics.addPartitions(id, total);
    const next = { ...t, partitions: total };
    this.put(next);
    this.onChange?.('changed', next);
  }
}
