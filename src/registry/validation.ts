// Broker-side schema validation (Confluent's confluent.{key,value}.schema.validation): every
// record's key or value must start with the magic byte 0 and a 4-byte schema id that is a live
// version of the subject its naming strategy gives; with the StreamHouse-specific
// confluent.{key,value}.schema.validation.full the payload must also decode under that schema.
//
// Pure with respect to the log: it reads topic configs and a batch, asks the registry through the
// SchemaLookup interface (cached), and returns per-record errors. The produce path turns a
// non-empty result into INVALID_RECORD for the partition, with these as KIP-467 record errors.
// The hot path pays nothing unless a topic turns validation on (schemaValidationSettings -> null).

import { readBatchRecords } from '../protocol/records/records.js';
import { formatOf, type ParsedSchema } from './formats/index.js';

export const KEY_SCHEMA_VALIDATION = 'confluent.key.schema.validation';
export const VALUE_SCHEMA_VALIDATION = 'confluent.value.schema.validation';
export const KEY_SUBJECT_NAME_STRATEGY = 'confluent.key.subject.name.strategy';
export const VALUE_SUBJECT_NAME_STRATEGY = 'confluent.value.subject.name.strategy';
export const KEY_SCHEMA_VALIDATION_FULL = 'confluent.key.schema.validation.full';
export const VALUE_SCHEMA_VALIDATION_FULL = 'confluent.value.schema.validation.full';

export const SUBJECT_NAME_STRATEGIES = ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy'] as const;
export type SubjectNameStrategy = (typeof SUBJECT_NAME_STRATEGIES)[number];
/** Confluent writes strategies as Java class names; the short names are accepted too. */
export const SUBJECT_NAME_STRATEGY_VALUES: readonly string[] = SUBJECT_NAME_STRATEGIES.flatMap((s) => [
  s,
  `io.confluent.kafka.serializers.subject.${s}`,
]);

export const MAGIC_BYTE = 0;
/** Magic byte plus the big-endian int32 schema id. */
export const SCHEMA_HEADER_BYTES = 5;

export interface SideSettings {
  strategy: SubjectNameStrategy;
  /** Also decode the payload under its schema. */
  full: boolean;
}

export interface SchemaValidationSettings {
  key: SideSettings | null;
  value: SideSettings | null;
}

/** What validation needs from the registry. SchemaRegistry implements it with caches. */
export interface SchemaLookup {
  parsedById(id: number): Promise<ParsedSchema | null>;
  isRegisteredUnder(subject: string, id: number): Promise<boolean>;
}

export interface RecordPayload {
  key: Buffer | null;
  value: Buffer | null;
}

export interface RecordSchemaError {
  /** Index of the record within its batch (KIP-467's batch_index). */
  batchIndex: number;
  message: string;
}

const enabled = (v: string | undefined) => v !== undefined && v.trim().toLowerCase() === 'true';

function strategyOf(v: string | undefined): SubjectNameStrategy {
  const short = (v ?? '').trim().replace(/^io\.confluent\.kafka\.serializers\.subject\./, '');
  return (SUBJECT_NAME_STRATEGIES as readonly string[]).includes(short) ? (short as SubjectNameStrategy) : 'TopicNameStrategy';
}

/** The topic's validation settings, or null when neither keys nor values are validated. */
export function schemaValidationSettings(configs: Readonly<Record<string, string>>): SchemaValidationSettings | null {
  const key = enabled(configs[KEY_SCHEMA_VALIDATION])
    ? { strategy: strategyOf(configs[KEY_SUBJECT_NAME_STRATEGY]), full: enabled(configs[KEY_SCHEMA_VALIDATION_FULL]) }
    : null;
  const value = enabled(configs[VALUE_SCHEMA_VALIDATION])
    ? { strategy: strategyOf(configs[VALUE_SUBJECT_NAME_STRATEGY]), full: enabled(configs[VALUE_SCHEMA_VALIDATION_FULL]) }
    : null;
  return key || value ? { key, value } : null;
}

/** Subject for a record's key or value under a naming strategy; null when the schema has no record name. */
export function subjectName(strategy: SubjectNameStrategy, topic: string, isKey: boolean, schema: ParsedSchema | null): string | null {
  if (strategy === 'TopicNameStrategy') return `${topic}-${isKey ? 'key' : 'value'}`;
  const name = schema?.recordName ?? null;
  if (name === null) return null;
  return strategy === 'RecordNameStrategy' ? name : `${topic}-${name}`;
}

async function checkPayload(
  topic: string,
  isKey: boolean,
  side: SideSettings,
  payload: Buffer | null,
  lookup: SchemaLookup,
): Promise<string | null> {
  const what = isKey ? 'key' : 'value';
  // A null value is a tombstone and a null key is "no key": there is nothing to carry a schema id.
  if (payload === null) return null;
  if (payload.length < SCHEMA_HEADER_BYTES || payload[0] !== MAGIC_BYTE) {
    const first = payload.length ? `starts with byte 0x${payload[0]!.toString(16).padStart(2, '0')}` : 'is empty';
    return (
      `the ${what} has no schema id: it ${payload.length < SCHEMA_HEADER_BYTES && payload.length ? `is only ${payload.length} bytes` : first}, ` +
      `not the magic byte 0 and a 4-byte schema id; produce it with a schema-registry serializer (${isKey ? KEY_SCHEMA_VALIDATION : VALUE_SCHEMA_VALIDATION} is on for topic ${topic})`
    );
  }
  const id = payload.readInt32BE(1);
  const needsSchema = side.full || side.strategy !== 'TopicNameStrategy';
  const schema = needsSchema ? await lookup.parsedById(id) : null;
  if (needsSchema && !schema) return `the ${what} carries schema id ${id}, which the schema registry does not know`;
  const subject = subjectName(side.strategy, topic, isKey, schema);
  if (subject === null) {
    return `the ${what}'s schema ${id} has no record name, so ${side.strategy} cannot name its subject; use a named record type or TopicNameStrategy`;
  }
  if (!(await lookup.isRegisteredUnder(subject, id))) {
    return `the ${what} carries schema id ${id}, which is not registered under subject '${subject}' (${side.strategy}); register it there first`;
  }
  if (side.full && schema) {
    const error = formatOf(schema.schemaType).validatePayload(schema, payload.subarray(SCHEMA_HEADER_BYTES));
    if (error) return `the ${what} does not match schema ${id}: ${error}`;
  }
  return null;
}

function memoize<T>(memo: Map<string, Promise<unknown>>, key: string, load: () => Promise<T>): Promise<T> {
  let hit = memo.get(key) as Promise<T> | undefined;
  if (!hit) memo.set(key, (hit = load()));
  return hit;
}

/** Checks decoded records; returns one error per failing record (empty when all pass). */
export async function validateRecordSchemas(
  topic: string,
  settings: SchemaValidationSettings,
  records: readonly RecordPayload[],
  lookup: SchemaLookup,
): Promise<RecordSchemaError[]> {
  const errors: RecordSchemaError[] = [];
  // A batch's records nearly always share one schema id: ask the registry once per id and side.
  const memo = new Map<string, Promise<string | null>>();
  const cachedLookup: SchemaLookup = {
    parsedById: (id) => memoize(memo, `p${id}`, () => lookup.parsedById(id)),
    isRegisteredUnder: (subject, id) => memoize(memo, `r${id}\u0000${subject}`, () => lookup.isRegisteredUnder(subject, id)),
  };
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const message =
      (settings.key && (await checkPayload(topic, true, settings.key, rec.key, cachedLookup))) ||
      (settings.value && (await checkPayload(topic, false, settings.value, rec.value, cachedLookup)));
    if (message) errors.push({ batchIndex: i, message });
  }
  return errors;
}

/**
 * Checks every record of one v2 batch (decompressing under `maxUncompressedBytes`) against the
 * topic's configs. Returns [] at once, without decoding, when the topic validates nothing.
 * Throws RecordsError for a batch whose records cannot be decoded.
 */
export async function validateBatchSchemas(
  topic: string,
  configs: Readonly<Record<string, string>>,
  batch: Buffer,
  lookup: SchemaLookup,
  maxUncompressedBytes: number,
): Promise<RecordSchemaError[]> {
  const settings = schemaValidationSettings(configs);
  if (!settings) return [];
  const records = await readBatchRecords(batch, { maxUncompressedBytes });
  return validateRecordSchemas(topic, settings, records, lookup);
}

/** The produce response's error message for a batch refused by validation. */
export function schemaValidationSummary(topic: string, errors: readonly RecordSchemaError[]): string {
  const first = errors[0];
  return `${errors.length} record(s) failed schema validation for topic ${topic}${first ? `; record ${first.batchIndex}: ${first.message}` : ''}`;
}
