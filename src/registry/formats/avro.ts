// AVRO: schemas parsed by avsc; compatibility is Avro's schema resolution (avsc's resolver throws
// exactly where the spec says the reader cannot read the writer's data: a reader field without a
// default, a missing enum symbol, a type that is not a permitted promotion, a renamed record
// without an alias).

import avsc from 'avsc';
import type { ResolvedReference } from '../types.js';
import { InvalidSchemaError, parseJsonDocument, type ParsedSchema, type SchemaFormat } from './format.js';

export interface AvroSchema extends ParsedSchema {
  readonly type: avsc.Type;
  /** Parsing Canonical Form (names fully qualified, attributes such as doc and default dropped). */
  readonly canonical: string;
}

function forSchema(doc: unknown, registry: Record<string, avsc.Type>, what: string): avsc.Type {
  try {
    return avsc.Type.forSchema(doc as avsc.Schema, { registry });
  } catch (err) {
    throw new InvalidSchemaError(`${what}: ${(err as Error).message}`);
  }
}

export const avroFormat: SchemaFormat<AvroSchema> = {
  schemaType: 'AVRO',

  parse(text, references: readonly ResolvedReference[], normalize) {
    const registry: Record<string, avsc.Type> = {};
    for (const ref of references) {
      if (ref.schemaType !== 'AVRO') throw new InvalidSchemaError(`reference '${ref.name}' is ${ref.schemaType}, not AVRO`);
      forSchema(parseJsonDocument(ref.schema, `referenced schema '${ref.name}'`), registry, `referenced schema '${ref.name}'`);
    }
    const type = forSchema(parseJsonDocument(text, 'the Avro schema'), registry, 'the Avro schema');
    const full = JSON.stringify(type.schema({ exportAttrs: true }));
    return {
      schemaType: 'AVRO',
      type,
      text: normalize ? full : text,
      // Confluent compares Avro schemas by their parsed form, so whitespace never makes a new id.
      identity: full,
      canonical: JSON.stringify(type.schema()),
      recordName: type.typeName === 'record' || type.typeName === 'error' ? (type.name ?? null) : null,
    };
  },

  canRead(reader, writer) {
    try {
      reader.type.createResolver(writer.type);
      return [];
    } catch (err) {
      return [`the reader schema cannot read data written with the writer schema: ${(err as Error).message}`];
    }
  },

  validatePayload(schema, payload) {
    let result: { value: unknown; offset: number };
    try {
      result = schema.type.decode(payload, 0);
    } catch (err) {
      return `the value does not decode as Avro: ${(err as Error).message}`;
    }
    if (result.offset < 0) return `the value is shorter than its Avro schema requires (${payload.length} bytes)`;
    if (result.offset !== payload.length) {
      return `the value has ${payload.length - result.offset} bytes left over after decoding with its Avro schema`;
    }
    return null;
  },
};
