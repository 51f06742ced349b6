// PROTOBUF: .proto text parsed by protobufjs; references are the files the schema imports
// (google/protobuf/* well-known types come built in). Compatibility compares messages field by
// field number, by the wire format: a number reused with an incompatible wire type, a changed
// label, a changed message or enum type, an added or removed proto2 `required` field, reuse of a
// reserved number, a changed package, or a removed message are incompatible; adding or removing
// an optional field is not. A top-level message renamed in place (same position) keeps its
// identity: names are not on the wire.
//
// Oneofs and enums follow Confluent's Protobuf rules (its SchemaDiff, writer = "original",
// reader = "update"): moving two or more plain fields into one oneof (MULTIPLE_FIELDS_MOVED_TO_ONEOF)
// or moving one into a oneof that also holds fields of an existing oneof
// (FIELD_MOVED_TO_EXISTING_ONEOF) is incompatible, as is removing a field of a oneof that exists on
// both sides (ONEOF_FIELD_REMOVED) unless the number lives on elsewhere in the message; moving a
// single field into a new oneof, adding or removing a oneof, and adding a field to one are
// compatible. Enum constants may be added, removed or renamed (a number reused under another
// name) without incompatibility: enums are open on the wire and Confluent accepts all three.
// proto3 `optional` fields (protobufjs models them as one-field "_name" oneofs) count as plain fields.

import protobuf from 'protobufjs';
import type { ResolvedReference } from '../types.js';
import { InvalidSchemaError, MAX_SCHEMA_DEPTH, type ParsedSchema, type SchemaFormat } from './format.js';

export interface ProtobufSchema extends ParsedSchema {
  /** Messages this file defines (nested ones too), by full name without the leading dot, in file order. */
  readonly messages: ReadonlyMap<string, protobuf.Type>;
  /** Top-level messages in file order: the roots of Confluent's message-index paths. */
  readonly topLevel: readonly protobuf.Type[];
  readonly packageName: string;
}

const PARSE_OPTIONS = { keepCase: true };

/** Brace nesting measured on the text before protobufjs's recursive parser sees it. */
function braceDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') max = Math.max(max, ++depth);
    else if (c === '}') depth--;
  }
  return max;
}

function parseInto(text: string, root: protobuf.Root, what: string): protobuf.IParserResult {
  if (braceDepth(text) > MAX_SCHEMA_DEPTH) throw new InvalidSchemaError(`${what} nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
  try {
    return protobuf.parse(text, root, PARSE_OPTIONS);
  } catch (err) {
    throw new InvalidSchemaError(`${what} does not parse: ${(err as Error).message}`);
  }
}

function addWellKnown(root: protobuf.Root, imports: readonly string[], known: ReadonlySet<string>, what: string): void {
  for (const file of imports) {
    if (known.has(file)) continue;
    const wellKnown = file.startsWith('google/protobuf/') ? protobuf.common.get(file) : null;
    if (!wellKnown) {
      throw new InvalidSchemaError(`${what} imports '${file}' but no reference is named '${file}'; add it to "references"`);
    }
    if (!root.lookup(file.replace(/^google\/protobuf\//, 'google.protobuf.').replace(/\.proto$/, ''))) {
      try {
        root.addJSON(wellKnown.nested!);
      } catch {
        // already added by another import of the same package
      }
    }
  }
}

function collectMessages(ns: protobuf.NamespaceBase, out: Map<string, protobuf.Type>, top: protobuf.Type[] | null): void {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) {
      out.set(child.fullName.slice(1), child);
      top?.push(child);
      collectMessages(child, out, null);
    } else if (child instanceof protobuf.Namespace) collectMessages(child, out, top);
  }
}

export const protobufFormat: SchemaFormat<ProtobufSchema> = {
  schemaType: 'PROTOBUF',

  parse(text, references: readonly ResolvedReference[], normalize) {
    // This file's own definitions, apart from what its imports bring.
    const own = parseInto(text, new protobuf.Root(), 'the Protobuf schema');
    const root = new protobuf.Root();
    const known = new Set(references.map((r) => r.name));
    for (const ref of references) {
      if (ref.schemaType !== 'PROTOBUF') throw new InvalidSchemaError(`reference '${ref.name}' is ${ref.schemaType}, not PROTOBUF`);
      const parsed = parseInto(ref.schema, root, `referenced schema '${ref.name}'`);
      addWellKnown(root, parsed.imports ?? [], known, `referenced schema '${ref.name}'`);
    }
    parseInto(text, root, 'the Protobuf schema');
    addWellKnown(root, [...(own.imports ?? []), ...(own.weakImports ?? [])], known, 'the Protobuf schema');
    try {
      root.resolveAll();
    } catch (err) {
      throw new InvalidSchemaError(`the Protobuf schema has an unresolved type: ${(err as Error).message}`);
    }
    const ownNames = new Map<string, protobuf.Type>();
    collectMessages(own.root, ownNames, null);
    const messages = new Map<string, protobuf.Type>();
    const topLevel: protobuf.Type[] = [];
    const ownTop: protobuf.Type[] = [];
    collectMessages(own.root, new Map(), ownTop);
    for (const name of ownNames.keys()) messages.set(name, root.lookupType(name));
    for (const t of ownTop) topLevel.push(root.lookupType(t.fullName));
    if (topLevel.length === 0) throw new InvalidSchemaError('the Protobuf schema defines no message');
    const normalized = JSON.stringify({ package: own.package ?? '', imports: own.imports ?? [], root: own.root.toJSON() });
    return {
      schemaType: 'PROTOBUF',
      text: normalize ? normalized : text,
      identity: normalize ? normalized : text.trim(),
      recordName: topLevel[0]!.fullName.slice(1),
      messages,
      topLevel,
      packageName: own.package ?? '',
    };
  },

  canRead(reader, writer) {
    const out: string[] = [];
    if (reader.packageName !== writer.packageName) {
      out.push(`PACKAGE_CHANGED: package '${writer.packageName}' became '${reader.packageName}'`);
    }
    const renames = renamedMessages(reader, writer);
    const readerName = (writerName: string) => {
      for (const [from, to] of renames) if (writerName === from || writerName.startsWith(`${from}.`)) return to + writerName.slice(from.length);
      return writerName;
    };
    for (const [name, w] of writer.messages) {
      const r = reader.messages.get(readerName(name));
      if (!r) {
        out.push(`MESSAGE_REMOVED: message ${name} was removed`);
        continue;
      }
      compareFields(r, w, name, readerName, out);
    }
    return out;
  },

  validatePayload(schema, payload) {
    const indexed = readMessageIndexes(payload);
    if (indexed) {
      const type = messageAt(schema, indexed.indexes);
      if (!type) return `the message indexes [${indexed.indexes.join(', ')}] name no message of the schema`;
      const error = decodeError(type, payload.subarray(indexed.length));
      // Some clients (kafkajs's registry library) write no indexes at all: try the first message.
      if (!error || payload[0] === 0) return error;
      if (!decodeError(schema.topLevel[0]!, payload)) return null;
      return error;
    }
    return decodeError(schema.topLevel[0]!, payload);
  },
};

/** Top-level messages whose name vanished while a new name took the same position. */
function renamedMessages(reader: ProtobufSchema, writer: ProtobufSchema): Map<string, string> {
  const out = new Map<string, string>();
  writer.topLevel.forEach((w, i) => {
    const r = reader.topLevel[i];
    const wName = w.fullName.slice(1);
    const rName = r?.fullName.slice(1);
    if (r && rName !== wName && !reader.messages.has(wName) && !writer.messages.has(rName!)) out.set(wName, rName!);
  });
  return out;
}

const WIRE_GROUPS: readonly (readonly string[])[] = [
  ['int32', 'uint32', 'int64', 'uint64', 'bool'],
  ['sint32', 'sint64'],
  ['fixed32', 'sfixed32'],
  ['fixed64', 'sfixed64'],
  ['string', 'bytes'],
  ['float'],
  ['double'],
];

function fieldKind(f: protobuf.Field, readerName: (n: string) => string): string {
  if (f.resolvedType instanceof protobuf.Type) return `message ${readerName(f.resolvedType.fullName.slice(1))}`;
  if (f.resolvedType instanceof protobuf.Enum) return `enum ${readerName(f.resolvedType.fullName.slice(1))}`;
  const group = WIRE_GROUPS.findIndex((g) => g.includes(f.type));
  return group >= 0 ? `scalar group ${group}` : f.type;
}

function isReserved(t: protobuf.Type, id: number): boolean {
  return (t.reserved ?? []).some((r) => Array.isArray(r) && id >= r[0]! && id <= r[1]!);
}

function compareFields(r: protobuf.Type, w: protobuf.Type, name: string, readerName: (n: string) => string, out: string[]): void {
  const identity = (n: string) => n;
  for (const wf of w.fieldsArray) {
    const rf = r.fieldsById[wf.id];
    if (!rf) {
      if (wf.required) out.push(`REQUIRED_FIELD_REMOVED: ${name}: required field ${wf.name} = ${wf.id} was removed`);
      continue;
    }
    const at = `${name}: field ${wf.id} (${wf.name}${rf.name !== wf.name ? ` -> ${rf.name}` : ''})`;
    if (wf instanceof protobuf.MapField !== rf instanceof protobuf.MapField) {
      out.push(`FIELD_KIND_CHANGED: ${at} changed between map and non-map`);
    } else if (wf instanceof protobuf.MapField && rf instanceof protobuf.MapField && wf.keyType !== rf.keyType) {
      out.push(`FIELD_SCALAR_KIND_CHANGED: ${at} map key ${wf.keyType} became ${rf.keyType}`);
    }
    if (wf.repeated !== rf.repeated) out.push(`FIELD_KIND_CHANGED: ${at} changed between repeated and singular`);
    const wk = fieldKind(wf, readerName);
    const rk = fieldKind(rf, identity);
    if (wk !== rk) {
      const named = wk.startsWith('message') || wk.startsWith('enum') || rk.startsWith('message') || rk.startsWith('enum');
      out.push(`${named ? 'FIELD_NAMED_TYPE_CHANGED' : 'FIELD_SCALAR_KIND_CHANGED'}: ${at} type ${wf.type} became ${rf.type}`);
    }
  }
  compareOneofs(r, w, name, out);
  for (const rf of r.fieldsArray) {
    if (w.fieldsById[rf.id]) continue;
    if (rf.required) out.push(`REQUIRED_FIELD_ADDED: ${name}: required field ${rf.name} = ${rf.id} was added`);
    if (isReserved(w, rf.id)) out.push(`FIELD_NUMBER_REUSED: ${name}: field ${rf.name} reuses number ${rf.id}, reserved in the other schema`);
  }
}

/** The real oneof a field belongs to, or null (proto3 `optional` makes a synthetic one). */
function oneofOf(f: protobuf.Field): protobuf.OneOf | null {
  const o = f.partOf;
  if (!o) return null;
  return o.fieldsArray.length === 1 && o.fieldsArray[0]!.options?.proto3_optional ? null : o;
}

function compareOneofs(r: protobuf.Type, w: protobuf.Type, name: string, out: string[]): void {
  const writerOneof = (id: number) => {
    const wf = w.fieldsById[id];
    return wf ? { oneof: oneofOf(wf) } : null;
  };
  for (const ro of r.oneofsArray) {
    if (ro.fieldsArray.length === 1 && ro.fieldsArray[0]!.options?.proto3_optional) continue;
    let moved = 0;
    let existing = 0;
    for (const rf of ro.fieldsArray) {
      const before = writerOneof(rf.id);
      if (before && before.oneof === null) moved++;
      else if (before?.oneof) existing++;
    }
    if (moved > 1) out.push(`MULTIPLE_FIELDS_MOVED_TO_ONEOF: ${name}: oneof ${ro.name} gathers ${moved} fields that were not in a oneof`);
    else if (moved === 1 && existing > 0) {
      out.push(`FIELD_MOVED_TO_EXISTING_ONEOF: ${name}: a field was moved into oneof ${ro.name}, which holds fields of an existing oneof`);
    }
    const wo = w.oneofs?.[ro.name];
    if (!wo) continue;
    for (const wf of wo.fieldsArray) {
      if (!ro.fieldsArray.some((f) => f.id === wf.id) && !r.fieldsById[wf.id]) {
        out.push(`ONEOF_FIELD_REMOVED: ${name}: field ${wf.name} = ${wf.id} was removed from oneof ${ro.name}`);
      }
    }
  }
}

function messageAt(schema: ProtobufSchema, indexes: readonly number[]): protobuf.Type | null {
  let list: readonly protobuf.Type[] = schema.topLevel;
  let current: protobuf.Type | null = null;
  for (const i of indexes) {
    current = list[i] ?? null;
    if (!current) return null;
    list = current.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
  return current;
}

/** Confluent's message-index prefix: a zigzag varint count, then that many zigzag varint indexes; a lone 0 means [0]. */
function readMessageIndexes(buf: Buffer): { indexes: number[]; length: number } | null {
  let pos = 0;
  const varint = (): number | null => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= buf.length) return null;
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
    }
    return null;
  };
  const count = varint();
  if (count === null || count < 0 || count > 64) return null;
  if (count === 0) return { indexes: [0], length: pos };
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = varint();
    if (v === null || v < 0) return null;
    indexes.push(v);
  }
  return { indexes, length: pos };
}

function decodeError(type: protobuf.Type, payload: Buffer): string | null {
  try {
    type.decode(payload);
    return null;
  } catch (err) {
    return `the value does not decode as Protobuf message ${type.fullName.slice(1)}: ${(err as Error).message}`;
  }
}
