import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { avroRecord, startTestRegistry, type TestRegistry } from './helpers.js';

const v1 = avroRecord([{ name: 'id', type: 'int' }]);
const v2 = avroRecord([{ name: 'id', type: 'int' }, { name: 'email', type: 'string', default: '' }]);
const v3bad = avroRecord([{ name: 'id', type: 'int' }, { name: 'age', type: 'int' }]);

describe('schema registry REST API', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ maxBodyBytes: 64 * 1024 });
  });
  after(() => r.stop());

  it('registers idempotently, with global ids shared across subjects', async () => {
    const a = await r.call('POST', '/subjects/users-value/versions', { schema: v1 });
    assert.equal(a.status, 200);
    assert.equal(a.contentType, 'application/vnd.schemaregistry.v1+json');
    assert.deepEqual(a.body, { id: 1 });
    const again = await r.call('POST', '/subjects/users-value/versions', { schema: v1.replace(/,/g, ', ') }, { 'content-type': 'application/json' });
    assert.deepEqual(again.body, { id: 1 }, 'whitespace does not make a new schema');
    const other = await r.call('POST', '/subjects/other-value/versions', { schema: v1 });
    assert.deepEqual(other.body, { id: 1 });
    const b = await r.call('POST', '/subjects/users-value/versions', { schema: v2 });
    assert.deepEqual(b.body, { id: 2 });
    assert.deepEqual((await r.call('GET', '/subjects/users-value/versions')).body, [1, 2]);
    assert.deepEqual((await r.call('GET', '/subjects')).body, ['other-value', 'users-value']);
  });

  it('serves versions, latest, raw schemas and schemas by id', async () => {
    const latest = await r.call('GET', '/subjects/users-value/versions/latest');
    assert.deepEqual(latest.body, { subject: 'users-value', version: 2, id: 2, schema: v2 });
    assert.deepEqual((await r.call('GET', '/subjects/users-value/versions/-1')).body.version, 2);
    assert.deepEqual((await r.call('GET', '/subjects/users-value/versions/1')).body.id, 1);
    const raw = await r.call('GET', '/subjects/users-value/versions/1/schema');
    assert.deepEqual(raw.body, JSON.parse(v1));
    assert.deepEqual((await r.call('GET', '/schemas/ids/2')).body, { schema: v2 });
    assert.deepEqual(JSON.parse((await r.call('GET', '/schemas/ids/2/schema')).text), JSON.parse(v2));
    assert.deepEqual((await r.call('GET', '/schemas/ids/1/subjects')).body, ['other-value', 'users-value']);
    assert.deepEqual((await r.call('GET', '/schemas/ids/1/versions')).body, [
      { subject: 'other-value', version: 1 },
      { subject: 'users-value', version: 1 },
    ]);
    assert.deepEqual((await r.call('GET', '/schemas/types')).body, ['AVRO', 'JSON', 'PROTOBUF']);
  });

  it('looks a schema up under a subject', async () => {
    const found = await r.call('POST', '/subjects/users-value', { schema: v2 });
    assert.deepEqual(found.body, { subject: 'users-value', version: 2, id: 2, schema: v2 });
    const missing = await r.call('POST', '/subjects/users-value', { schema: avroRecord([{ name: 'x', type: 'long' }]) });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 40403);
    assert.equal((await r.call('POST', '/subjects/nobody', { schema: v1 })).body.error_code, 40401);
  });

  it('answers errors with Confluent codes', async () => {
    const cases: Array<[string, string, unknown, number, number]> = [
      ['GET', '/subjects/nobody/versions', undefined, 404, 40401],
      ['GET', '/subjects/users-value/versions/9', undefined, 404, 40402],
      ['GET', '/schemas/ids/999', undefined, 404, 40403],
      ['GET', '/subjects/users-value/versions/abc', undefined, 422, 42202],
      ['GET', '/subjects/users-value/versions/0', undefined, 422, 42202],
      ['POST', '/subjects/users-value/versions', { schema: '{"type":"nope"}' }, 422, 42201],
      ['POST', '/subjects/users-value/versions', { schema: 'not json' }, 422, 42201],
      ['POST', '/subjects/users-value/versions', { schema: v1, schemaType: 'XML' }, 422, 42201],
      ['POST', '/subjects/users-value/versions', { nothing: true }, 422, 42201],
      ['POST', '/subjects/users-value/versions', '{"schema": ', 400, 400],
      ['PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['PUT', '/mode', { mode: 'SOMETIMES' }, 422, 42204],
      ['GET', '/config/users-value', undefined, 404, 40408],
      ['GET', '/nowhere', undefined, 404, 404],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await r.call(method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      assert.equal(res.body.error_code, code, `${method} ${path}: ${res.text}`);
      assert.equal(typeof res.body.message, 'string');
    }
  });

  it('refuses an incompatible schema with 409 and explains why', async () => {
    const res = await r.call('POST', '/subjects/users-value/versions', { schema: v3bad });
    assert.equal(res.status, 409);
    assert.equal(res.body.error_code, 409);
    assert.match(res.body.message, /incompatible.*users-value.*age/);
    const check = await r.call('POST', '/compatibility/subjects/users-value/versions/latest?verbose=true', { schema: v3bad });
    assert.equal(check.body.is_compatible, false);
    assert.ok(check.body.messages.length > 0);
    const ok = await r.call('POST', '/compatibility/subjects/users-value/versions/latest', { schema: v2 });
    assert.deepEqual(ok.body, { is_compatible: true });
  });

  it('sets compatibility globally and per subject', async () => {
    assert.deepEqual((await r.call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
    assert.deepEqual((await r.call('PUT', '/config/users-value', { compatibility: 'NONE' })).body, { compatibility: 'NONE' });
    assert.deepEqual((await r.call('GET', '/config/users-value')).body, { compatibilityLevel: 'NONE' });
    assert.deepEqual((await r.call('GET', '/config/other-value?defaultToGlobal=true')).body, { compatibilityLevel: 'BACKWARD' });
    const res = await r.call('POST', '/subjects/users-value/versions', { schema: v3bad });
    assert.deepEqual(res.body, { id: 3 }, 'NONE accepts anything');
    assert.deepEqual((await r.call('DELETE', '/config/users-value')).body, { compatibilityLevel: 'NONE' });
    assert.deepEqual((await r.call('PUT', '/config', { compatibility: 'full' })).body, { compatibility: 'FULL' });
    assert.deepEqual((await r.call('DELETE', '/config')).body, { compatibilityLevel: 'FULL' });
    assert.deepEqual((await r.call('GET', '/config')).body, { compatibilityLevel: 'BACKWARD' });
  });

  it('soft-deletes, then permanently deletes versions and subjects', async () => {
    assert.equal((await r.call('DELETE', '/subjects/users-value/versions/3?permanent=true')).body.error_code, 40407);
    assert.deepEqual((await r.call('DELETE', '/subjects/users-value/versions/3')).body, 3);
    assert.equal((await r.call('DELETE', '/subjects/users-value/versions/3')).body.error_code, 40402);
    assert.deepEqual((await r.call('GET', '/subjects/users-value/versions')).body, [1, 2]);
    assert.deepEqual((await r.call('GET', '/subjects/users-value/versions?deleted=true')).body, [1, 2, 3]);
    assert.deepEqual((await r.call('GET', '/subjects/users-value/versions/3?deleted=true')).body.id, 3);
    assert.deepEqual((await r.call('DELETE', '/subjects/users-value/versions/3?permanent=true')).body, 3);
    assert.equal((await r.call('DELETE', '/subjects/other-value?permanent=true')).body.error_code, 40405);
    assert.deepEqual((await r.call('DELETE', '/subjects/other-value')).body, [1]);
    assert.equal((await r.call('DELETE', '/subjects/other-value')).body.error_code, 40404);
    assert.deepEqual((await r.call('GET', '/subjects')).body, ['users-value']);
    assert.deepEqual((await r.call('GET', '/subjects?deleted=true')).body, ['other-value', 'users-value']);
    assert.deepEqual((await r.call('DELETE', '/subjects/other-value?permanent=true')).body, [1]);
    assert.deepEqual((await r.call('GET', '/subjects?deleted=true')).body, ['users-value']);
    assert.deepEqual((await r.call('GET', '/schemas/ids/1')).body, { schema: v1 }, 'ids stay resolvable');
  });

  it('enforces READONLY and IMPORT modes', async () => {
    assert.deepEqual((await r.call('GET', '/mode')).body, { mode: 'READWRITE' });
    assert.deepEqual((await r.call('PUT', '/mode/users-value', { mode: 'READONLY' })).body, { mode: 'READONLY' });
    const res = await r.call('POST', '/subjects/users-value/versions', { schema: v1 });
    assert.equal(res.body.error_code, 42205);
    assert.equal((await r.call('DELETE', '/subjects/users-value/versions/1')).body.error_code, 42205);
    assert.deepEqual((await r.call('DELETE', '/mode/users-value')).body, { mode: 'READONLY' });
    assert.equal((await r.call('PUT', '/mode', { mode: 'IMPORT' })).body.error_code, 42205, 'not empty');
    assert.deepEqual((await r.call('PUT', '/mode/imported', { mode: 'IMPORT' })).body, { mode: 'IMPORT' });
    const imported = await r.call('POST', '/subjects/imported/versions', { schema: avroRecord([{ name: 'z', type: 'int' }]), id: 100, version: 7 });
    assert.deepEqual(imported.body, { id: 100 });
    assert.deepEqual((await r.call('GET', '/subjects/imported/versions')).body, [7]);
    assert.equal((await r.call('POST', '/subjects/imported/versions', { schema: v2 })).body.error_code, 42205, 'IMPORT needs an id');
    assert.equal((await r.call('POST', '/subjects/users-value/versions', { schema: v2, id: 5 })).body.error_code, 42205, 'id outside IMPORT');
    await r.call('DELETE', '/mode/imported');
  });

  it('resolves schema references and refuses missing or cyclic ones', async () => {
    const address = JSON.stringify({ type: 'record', name: 'Address', namespace: 'com.example', fields: [{ name: 'city', type: 'string' }] });
    assert.deepEqual((await r.call('POST', '/subjects/address/versions', { schema: address })).status, 200);
    const person = JSON.stringify({ type: 'record', name: 'Person', namespace: 'com.example', fields: [{ name: 'home', type: 'com.example.Address' }] });
    const refs = [{ name: 'com.example.Address', subject: 'address', version: 1 }];
    const res = await r.call('POST', '/subjects/person/versions', { schema: person, references: refs });
    assert.equal(res.status, 200, res.text);
    const got = await r.call('GET', `/schemas/ids/${res.body.id}`);
    assert.deepEqual(got.body.references, refs);
    const missing = await r.call('POST', '/subjects/person2/versions', { schema: person, references: [{ name: 'com.example.Address', subject: 'address', version: 9 }] });
    assert.equal(missing.body.error_code, 42201);
    const unresolved = await r.call('POST', '/subjects/person3/versions', { schema: person });
    assert.equal(unresolved.body.error_code, 42201);
  });

  it('refuses a body over the size limit with 413 and deep nesting with 42201', async () => {
    const big = await r.call('POST', '/subjects/big/versions', { schema: 'x'.repeat(100 * 1024) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error_code, 413);
    let deep = '"int"';
    for (let i = 0; i < 2000; i++) deep = `{"type":"array","items":${deep}}`;
    const res = await r.call('POST', '/subjects/deep/versions', { schema: deep });
    assert.equal(res.status, 422);
    assert.equal(res.body.error_code, 42201);
    let deepBody = '1';
    for (let i = 0; i < 5000; i++) deepBody = `[${deepBody}]`;
    const odd = await r.call('POST', '/subjects/deep/versions', `{"schema":"\\"int\\"","references":${deepBody}}`);
    assert.equal(odd.status, 422);
    assert.equal((await r.call('GET', '/config')).status, 200, 'still serving');
  });
});

describe('schema registry REST API: references block deletes, content types', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.stop());

  const address = JSON.stringify({ type: 'record', name: 'Address', namespace: 'ex', fields: [{ name: 'city', type: 'string' }] });
  const person = JSON.stringify({ type: 'record', name: 'Person', namespace: 'ex', fields: [{ name: 'home', type: 'ex.Address' }] });
  const refusedAs42206 = (res: { status: number; body: any }, subject: string, version: number) => {
    assert.equal(res.status, 422);
    assert.equal(res.body.error_code, 42206);
    assert.equal(res.body.message, `One or more references exist to the schema {magic=1,keytype=SCHEMA,subject=${subject},version=${version}}.`);
  };

  it('refuses to delete a referenced version or subject (42206) until the referrer is gone for good', async () => {
    assert.equal((await r.call('POST', '/subjects/address/versions', { schema: address })).status, 200);
    const { body } = await r.call('POST', '/subjects/person/versions', { schema: person, references: [{ name: 'ex.Address', subject: 'address', version: 1 }] });
    assert.deepEqual((await r.call('GET', '/subjects/address/versions/1/referencedby')).body, [body.id]);
    assert.deepEqual((await r.call('GET', '/subjects/person/versions/1/referencedby')).body, []);

    refusedAs42206(await r.call('DELETE', '/subjects/address/versions/1'), 'address', 1);
    refusedAs42206(await r.call('DELETE', '/subjects/address'), 'address', 1);
    // A soft-deleted referrer still holds its reference, as in Confluent.
    assert.deepEqual((await r.call('DELETE', '/subjects/person/versions/1')).body, 1);
    refusedAs42206(await r.call('DELETE', '/subjects/address/versions/1'), 'address', 1);
    assert.deepEqual((await r.call('DELETE', '/subjects/person/versions/1?permanent=true')).body, 1);
    assert.deepEqual((await r.call('GET', '/subjects/address/versions/1/referencedby')).body, []);
    assert.deepEqual((await r.call('DELETE', '/subjects/address/versions/1')).body, 1);
    assert.deepEqual((await r.call('DELETE', '/subjects/address/versions/1?permanent=true')).body, 1);
  });

  it('refuses a permanent delete of a soft-deleted version that is still referenced', async () => {
    await r.call('POST', '/subjects/base/versions', { schema: address });
    await r.call('POST', '/subjects/base/versions', { schema: avroRecord([{ name: 'city', type: 'string' }, { name: 'zip', type: 'string', default: '' }], 'Address', 'ex') });
    await r.call('POST', '/subjects/user/versions', { schema: person, references: [{ name: 'ex.Address', subject: 'base', version: 2 }] });
    assert.deepEqual((await r.call('DELETE', '/subjects/base/versions/1')).body, 1, 'an unreferenced version goes');
    // The subject delete walks versions in order and stops at the first referenced one.
    refusedAs42206(await r.call('DELETE', '/subjects/base'), 'base', 2);
    assert.deepEqual((await r.call('GET', '/subjects/base/versions')).body, [2], 'nothing was deleted');
    refusedAs42206(await r.call('DELETE', '/subjects/base/versions/2'), 'base', 2);
    assert.deepEqual((await r.call('DELETE', '/subjects/base/versions/1?permanent=true')).body, 1);
  });

  it('answers 415 for body types Confluent does not consume, and accepts its four and none', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/xml']) {
      const res = await r.call('POST', '/subjects/ct/versions', { schema: '"string"' }, { 'content-type': type });
      assert.equal(res.status, 415, type);
      assert.equal(res.body.error_code, 415, type);
      assert.match(res.body.message, /Unsupported Media Type.*application\/vnd\.schemaregistry\.v1\+json/, type);
      assert.equal((await r.call('PUT', '/config/ct', { compatibility: 'NONE' }, { 'content-type': type })).status, 415, `PUT ${type}`);
    }
    for (const type of ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/json; charset=utf-8', 'application/octet-stream']) {
      const res = await r.call('POST', '/subjects/ct/versions', { schema: '"string"' }, { 'content-type': type });
      assert.equal(res.status, 200, `${type}: ${res.text}`);
    }
    // No Content-Type at all: Jersey treats it as application/octet-stream.
    const bare = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${r.url}/subjects/ct/versions`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ schema: '"string"' }));
    });
    assert.equal(bare, 200);
    assert.equal((await r.call('GET', '/subjects/ct/versions', undefined, { 'content-type': 'text/plain' })).status, 200, 'GETs have no body to refuse');
  });
});
