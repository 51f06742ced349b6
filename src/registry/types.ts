// The schema registry's vocabulary, as Confluent's REST API names it.

export const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export const MODES = ['READWRITE', 'READONLY', 'IMPORT'] as const;
export type RegistryMode = (typeof MODES)[number];
export const DEFAULT_MODE: RegistryMode = 'READWRITE';

export interface SchemaReference {
  /** How the referring schema names it: an Avro full name, a .proto import path, a JSON Schema $ref URL. */
  name: string;
  subject: string;
  version: number;
}

/** A referenced schema with its own references already resolved, innermost first. */
export interface ResolvedReference {
  name: string;
  schemaType: SchemaType;
  schema: string;
}

export function isSchemaType(s: unknown): s is SchemaType {
  return typeof s === 'string' && (SCHEMA_TYPES as readonly string[]).includes(s);
}

export function isCompatibilityLevel(s: unknown): s is CompatibilityLevel {
  return typeof s === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(s);
}

export function isRegistryMode(s: unknown): s is RegistryMode {
  return typeof s === 'string' && (MODES as readonly string[]).includes(s);
}
