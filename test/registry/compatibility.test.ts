// Compatibility per format and level: each row registers v1 then asks whether v2 may follow.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCompatibility, formatOf, type CompatibilityLevel, type SchemaType } from '../../src/registry/index.js';

function compatible(type: SchemaType, level: CompatibilityLevel, history: string[], candidate: string): boolean {
  const format = formatOf(type);
  const previous = history.map((s, i) => ({ version: i + 1, schema: format.parse(s, [], false) }));
  return checkCompatibility(format, level, format.parse(candidate, [], false), previous).length === 0;
}

const avro = (fields: unknown[], name = 'User') => JSON.stringify({ type: 'record', name, namespace: 'ex', fields });
const id = { name: 'id', type: 'int' };

// [case, v1, v2, BACKWARD, FORWARD]; FULL is expected to be both.
const AVRO: Array<[string, string, string, boolean, boolean]> = [
  ['field added with default', avro([id]), avro([id, { name: 'e', type: 'string', default: '' }]), true, true],
  ['field added without default', avro([id]), avro([id, { name: 'e', type: 'string' }]), false, true],
  ['field removed (it had no default)', avro([id, { name: 'e', type: 'string' }]), avro([id]), true, false],
  ['field removed (it had a default)', avro([id, { name: 'e', type: 'string', default: '' }]), avro([id]), true, true],
  ['field renamed without alias', avro([id]), avro([{ name: 'ident', type: 'int' }]), false, false],
  ['field renamed with alias', avro([id]), avro([{ name: 'ident', type: 'int', aliases: ['id'] }]), true, false],
  ['type widened int -> long', avro([id]), avro([{ name: 'id', type: 'long' }]), true, false],
  [
    'enum symbol added',
    avro([{ name: 'c', type: { type: 'enum', name: 'C', symbols: ['A'] } }]),
    avro([{ name: 'c', type: { type: 'enum', name: 'C', symbols: ['A', 'B'] } }]),
    true,
    false,
  ],
  [
    'enum symbol added, reader default',
    avro([{ name: 'c', type: { type: 'enum', name: 'C', symbols: ['A'], default: 'A' } }]),
    avro([{ name: 'c', type: { type: 'enum', name: 'C', symbols: ['A', 'B'], default: 'A' } }]),
    true,
    true,
  ],
];

const json = (o: object) => JSON.stringify(o);
const open = (props: object, extra: object = {}) => json({ type: 'object', properties: props, ...extra });
const closed = (props: object, extra: object = {}) => json({ type: 'object', properties: props, additionalProperties: false, ...extra });
const JSONS: Array<[string, string, string, boolean, boolean]> = [
  ['optional property added to a closed model', closed({ a: { type: 'string' } }), closed({ a: { type: 'string' }, b: { type: 'integer' } }), true, false],
  ['optional property added to an open model', open({ a: { type: 'string' } }), open({ a: { type: 'string' }, b: { type: 'integer' } }), false, true],
  ['property removed from a closed model', closed({ a: { type: 'string' }, b: { type: 'integer' } }), closed({ a: { type: 'string' } }), false, true],
  ['property removed from an open model', open({ a: { type: 'string' }, b: { type: 'integer' } }), open({ a: { type: 'string' } }), true, false],
  ['required property added', open({ a: { type: 'string' } }), open({ a: { type: 'string' } }, { required: ['a'] }), false, true],
  ['integer widened to number', open({ n: { type: 'integer' } }), open({ n: { type: 'number' } }), true, false],
  ['type changed string -> integer', open({ n: { type: 'string' } }), open({ n: { type: 'integer' } }), false, false],
  ['enum value added', json({ enum: ['A'] }), json({ enum: ['A', 'B'] }), true, false],
  ['maxLength decreased', json({ type: 'string', maxLength: 10 }), json({ type: 'string', maxLength: 5 }), false, true],
  ['additionalProperties closed', open({ a: { type: 'string' } }), closed({ a: { type: 'string' } }), false, true],
  [
    'recursive schema unchanged',
    json({ $ref: '#/definitions/n', definitions: { n: { type: 'object', properties: { next: { $ref: '#/definitions/n' } } } } }),
    json({ $ref: '#/definitions/n', definitions: { n: { type: 'object', properties: { next: { $ref: '#/definitions/n' } } } } }),
    true,
    true,
  ],
  // Combinations, after Confluent's rules (a reader oneOf/anyOf must pair with each writer branch).
  ['oneOf branch added', json({ oneOf: [{ type: 'string' }, { type: 'integer' }] }), json({ oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }] }), true, false],
  ['oneOf branch removed, even when another covers it', json({ oneOf: [{ type: 'integer' }, { type: 'number' }] }), json({ oneOf: [{ type: 'number' }] }), false, true],
  ['oneOf branches reordered', json({ oneOf: [{ type: 'string' }, { type: 'integer' }] }), json({ oneOf: [{ type: 'integer' }, { type: 'string' }] }), true, true],
  ['anyOf became oneOf', json({ anyOf: [{ type: 'string' }, { type: 'integer' }] }), json({ oneOf: [{ type: 'string' }, { type: 'integer' }] }), false, true],
  ['plain type became a oneOf holding it', json({ type: 'string' }), json({ oneOf: [{ type: 'string' }, { type: 'integer' }] }), true, false],
  [
    'oneOf branch changed incompatibly',
    json({ oneOf: [{ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }, { type: 'integer' }] }),
    json({ oneOf: [{ type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false }, { type: 'integer' }] }),
    false,
    false,
  ],
  ['oneOf beside type: the sibling type still counts', json({ type: 'object', oneOf: [{ required: ['a'] }] }), json({ type: 'array', oneOf: [{ required: ['a'] }] }), false, false],
  // Dependencies: the reader may drop or narrow them, not add or extend them.
  ['dependency array added', open({ a: {}, b: {} }), open({ a: {}, b: {} }, { dependencies: { a: ['b'] } }), false, true],
  ['dependency array narrowed', open({ a: {}, b: {}, c: {} }, { dependencies: { a: ['b', 'c'] } }), open({ a: {}, b: {}, c: {} }, { dependencies: { a: ['b'] } }), true, false],
  [
    'dependentRequired changed',
    open({ a: {}, b: {}, c: {} }, { $schema: 'https://json-schema.org/draft/2019-09/schema', dependentRequired: { a: ['b'] } }),
    open({ a: {}, b: {}, c: {} }, { $schema: 'https://json-schema.org/draft/2019-09/schema', dependentRequired: { a: ['c'] } }),
    false,
    false,
  ],
  ['schema dependency added', open({ a: {} }), open({ a: {} }, { dependencies: { a: { required: ['b'] } } }), false, true],
  ['property made required with a default', open({ a: { type: 'string' } }), open({ a: { type: 'string', default: '' } }, { required: ['a'] }), true, true],
];

const proto = (body: string, pkg = 'ex') => `syntax = "proto3";\npackage ${pkg};\n${body}\n`;
const PROTOS: Array<[string, string, string, boolean, boolean]> = [
  ['field added', proto('message U { int32 id = 1; }'), proto('message U { int32 id = 1; string e = 2; }'), true, true],
  ['field removed', proto('message U { int32 id = 1; string e = 2; }'), proto('message U { int32 id = 1; }'), true, true],
  ['field number reused with another type', proto('message U { int32 id = 1; string e = 2; }'), proto('message U { int32 id = 1; double d = 2; }'), false, false],
  ['field number of a reserved (removed) field reused', proto('message U { int32 id = 1; reserved 2; }'), proto('message U { int32 id = 1; string x = 2; }'), false, true],
  ['wire-compatible type change int32 -> int64', proto('message U { int32 id = 1; }'), proto('message U { int64 id = 1; }'), true, true],
  ['singular -> repeated', proto('message U { string id = 1; }'), proto('message U { repeated string id = 1; }'), false, false],
  ['field renamed (same number and type)', proto('message U { int32 id = 1; }'), proto('message U { int32 ident = 1; }'), true, true],
  ['message renamed in place', proto('message U { int32 id = 1; }'), proto('message User { int32 id = 1; }'), true, true],
  ['message removed', proto('message U { int32 id = 1; }\nmessage V { int32 x = 1; }'), proto('message U { int32 id = 1; }'), false, true],
  ['package changed', proto('message U { int32 id = 1; }'), proto('message U { int32 id = 1; }', 'other'), false, false],
  // Oneofs, after Confluent's rules.
  ['field moved into a new oneof', proto('message U { int32 a = 1; string b = 2; }'), proto('message U { oneof o { int32 a = 1; } string b = 2; }'), true, true],
  ['two fields moved into one oneof', proto('message U { int32 a = 1; string b = 2; }'), proto('message U { oneof o { int32 a = 1; string b = 2; } }'), false, true],
  ['field moved into an existing oneof', proto('message U { int32 a = 1; oneof o { string b = 2; } }'), proto('message U { oneof o { int32 a = 1; string b = 2; } }'), false, true],
  ['field moved out of a oneof', proto('message U { oneof o { int32 a = 1; string b = 2; } }'), proto('message U { int32 a = 1; oneof o { string b = 2; } }'), true, false],
  ['field removed from a oneof', proto('message U { oneof o { int32 a = 1; string b = 2; } }'), proto('message U { oneof o { int32 a = 1; } }'), false, true],
  ['field added to a oneof', proto('message U { oneof o { int32 a = 1; } }'), proto('message U { oneof o { int32 a = 1; string b = 2; } }'), true, false],
  ['proto3 optional fields are not oneofs', proto('message U { int32 a = 1; string b = 2; }'), proto('message U { optional int32 a = 1; optional string b = 2; }'), true, true],
  // Enums are open on the wire: Confluent accepts added, removed and renamed constants.
  ['enum constant added', proto('enum E { A = 0; } message U { E e = 1; }'), proto('enum E { A = 0; B = 1; } message U { E e = 1; }'), true, true],
  ['enum constant removed', proto('enum E { A = 0; B = 1; } message U { E e = 1; }'), proto('enum E { A = 0; } message U { E e = 1; }'), true, true],
  ['enum number reused under another name', proto('enum E { A = 0; B = 1; } message U { E e = 1; }'), proto('enum E { A = 0; C = 1; } message U { E e = 1; }'), true, true],
  ['field changed to another enum type', proto('enum E { A = 0; } enum F { A2 = 0; } message U { E e = 1; }'), proto('enum E { A = 0; } enum F { A2 = 0; } message U { F e = 1; }'), false, false],
  ['nested message type changed', proto('message U { A a = 1; } message A { int32 x = 1; } message B { int32 x = 1; }'), proto('message U { B a = 1; } message A { int32 x = 1; } message B { int32 x = 1; }'), false, false],
];

for (const [type, rows] of [['AVRO', AVRO], ['JSON', JSONS], ['PROTOBUF', PROTOS]] as const) {
  describe(`${type} compatibility matrix`, () => {
    for (const [name, v1, v2, backward, forward] of rows) {
      it(`${name}: BACKWARD ${backward}, FORWARD ${forward}, FULL ${backward && forward}, NONE true`, () => {
        assert.equal(compatible(type, 'BACKWARD', [v1], v2), backward, 'BACKWARD');
        assert.equal(compatible(type, 'FORWARD', [v1], v2), forward, 'FORWARD');
        assert.equal(compatible(type, 'FULL', [v1], v2), backward && forward, 'FULL');
        assert.equal(compatible(type, 'NONE', [v1], v2), true, 'NONE');
      });
    }
  });
}

describe('transitive levels', () => {
  // v1 {id}, v2 {id, e default}, v3 {id, e without default}: v3 reads v2's data but not v1's.
  const v1 = avro([id]);
  const v2 = avro([id, { name: 'e', type: 'string', default: '' }]);
  const v3 = avro([id, { name: 'e', type: 'string' }]);
  it('BACKWARD checks only the latest version; BACKWARD_TRANSITIVE checks all', () => {
    assert.equal(compatible('AVRO', 'BACKWARD', [v1, v2], v3), true);
    assert.equal(compatible('AVRO', 'BACKWARD_TRANSITIVE', [v1, v2], v3), false);
    assert.equal(compatible('AVRO', 'FULL_TRANSITIVE', [v1, v2], v3), false);
  });
  it('FORWARD_TRANSITIVE: every old schema must read the new data', () => {
    const v4 = avro([{ name: 'e', type: 'string', default: '' }]);
    assert.equal(compatible('AVRO', 'FORWARD', [v2], v4), false, 'v2 needs id without default');
    assert.equal(compatible('AVRO', 'FORWARD_TRANSITIVE', [v1, v2], v2), true);
  });
});

describe('formats', () => {
  it('gives Avro its canonical form and record name', () => {
    const s = formatOf('AVRO').parse('{"type":"record","name":"U","namespace":"ex","doc":"d","fields":[{"name":"a","type":"int","default":1}]}', [], false) as any;
    assert.equal(s.canonical, '{"name":"ex.U","type":"record","fields":[{"name":"a","type":"int"}]}');
    assert.equal(s.recordName, 'ex.U');
  });
  it('accepts JSON Schema drafts 4 to 2020-12', () => {
    const f = formatOf('JSON');
    for (const draft of [
      'http://json-schema.org/draft-04/schema#',
      'http://json-schema.org/draft-06/schema#',
      'http://json-schema.org/draft-07/schema#',
      'https://json-schema.org/draft/2019-09/schema',
      'https://json-schema.org/draft/2020-12/schema',
    ]) {
      const s = f.parse(JSON.stringify({ $schema: draft, type: 'object', properties: { n: { type: 'number', maximum: 5 } } }), [], false);
      assert.equal(f.validatePayload(s, Buffer.from('{"n":3}')), null, draft);
      assert.match(f.validatePayload(s, Buffer.from('{"n":9}')) ?? '', /does not match/, draft);
    }
    const d4 = f.parse(JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'number', maximum: 5, exclusiveMaximum: true }), [], false);
    assert.notEqual(f.validatePayload(d4, Buffer.from('5')), null, 'draft-4 boolean exclusiveMaximum');
  });
  it('refuses schemas nested too deep for the parsers, without overflowing the stack', () => {
    let avroDeep: string = '"int"';
    for (let i = 0; i < 500; i++) avroDeep = `{"type":"array","items":${avroDeep}}`;
    assert.throws(() => formatOf('AVRO').parse(avroDeep, [], false), /deeper than/);
    const protoDeep = `syntax = "proto3"; ${'message M { '.repeat(300)}${'} '.repeat(300)}`;
    assert.throws(() => formatOf('PROTOBUF').parse(protoDeep, [], false), /deeper than/);
  });
});
