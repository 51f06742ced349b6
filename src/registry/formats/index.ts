import type { SchemaType } from '../types.js';
import { avroFormat } from './avro.js';
import type { ParsedSchema, SchemaFormat } from './format.js';
import { jsonSchemaFormat } from './json-schema.js';
import { protobufFormat } from './protobuf.js';

export * from './format.js';

const FORMATS: Record<SchemaType, SchemaFormat> = {
  AVRO: avroFormat as unknown as SchemaFormat,
  JSON: jsonSchemaFormat as unknown as SchemaFormat,
  PROTOBUF: protobufFormat as unknown as SchemaFormat,
};

export function formatOf(type: SchemaType): SchemaFormat<ParsedSchema> {
  return FORMATS[type];
}
