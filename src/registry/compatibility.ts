// Compatibility levels over a format's canRead: BACKWARD (the new schema reads data written with
// the old), FORWARD (the old reads the new), FULL (both); the _TRANSITIVE forms check every
// earlier version instead of only the latest.

import type { ParsedSchema, SchemaFormat } from './formats/index.js';
import type { CompatibilityLevel } from './types.js';

export interface VersionedSchema {
  version: number;
  schema: ParsedSchema;
}

/** Messages explaining each incompatibility ([] when compatible). `previous` is ordered oldest first. */
export function checkCompatibility(
  format: SchemaFormat,
  level: CompatibilityLevel,
  candidate: ParsedSchema,
  previous: readonly VersionedSchema[],
): string[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const targets = level.endsWith('_TRANSITIVE') ? [...previous].reverse() : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const out: string[] = [];
  for (const old of targets) {
    if (old.schema.schemaType !== candidate.schemaType) {
      out.push(`version ${old.version} is ${old.schema.schemaType}, the new schema is ${candidate.schemaType}`);
      continue;
    }
    if (backward) for (const m of format.canRead(candidate, old.schema)) out.push(`BACKWARD against version ${old.version}: ${m}`);
    if (forward) for (const m of format.canRead(old.schema, candidate)) out.push(`FORWARD against version ${old.version}: ${m}`);
  }
  return out;
}
