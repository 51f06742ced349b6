// Golden frames captured from real clients (test/golden/<client>/<api>-v<N>.hex, made by
// test/golden/capture.ts): each decodes without error and re-encodes to the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { requestsByApiKey, requestHeaderVersion, RequestHeaderMessage } from '../../src/protocol/generated/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../test/golden');
const clients = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

test('golden captures exist for kafkajs and kcat covering ApiVersions, Metadata, Produce and Fetch', () => {
  for (const client of ['kafkajs', 'kcat']) {
    const files = readdirSync(join(root, client));
    for (const api of ['api-versions', 'metadata', 'produce', 'fetch']) {
      assert.ok(files.some((f) => f.startsWith(`${api}-v`)), `${client} has no ${api} capture`);
    }
  }
});

for (const client of clients) {
  for (const file of readdirSync(join(root, client)).filter((f) => f.endsWith('.hex'))) {
    test(`golden ${client}/${file} decodes and re-encodes byte for byte`, () => {
      const bytes = Buffer.from(readFileSync(join(root, client, file), 'utf8').trim(), 'hex');
      const r = new Reader(bytes);
      const apiKey = bytes.readInt16BE(0);
      const version = bytes.readInt16BE(2);
      const headerVersion = requestHeaderVersion(apiKey, version);
      const header = RequestHeaderMessage.decode(r, headerVersion);
      const codec = requestsByApiKey.get(apiKey)!;
      const body = codec.decode(r, version);
      assert.equal(r.error, null);
      assert.equal(r.remaining, 0, 'no bytes left over');
      const w = new Writer();
      RequestHeaderMessage.encode(w, header, headerVersion);
      codec.encode(w, body, version);
      assert.equal(w.finish().toString('hex'), bytes.toString('hex'));
    });
  }
}
