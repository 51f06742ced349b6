import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiKey,
  requestHeaderVersion,
  requestsByApiKey,
  responseHeaderVersion,
  responsesByApiKey,
} from '../../../src/protocol/generated/index.js';

test('request header version follows the request flexibility', () => {
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 1), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 2), 1);
  assert.equal(requestHeaderVersion(ApiKey.ApiVersions, 3), 2);
  assert.equal(requestHeaderVersion(ApiKey.SaslHandshake, 1), 1);
});

test('response header version follows flexibility, except ApiVersions which is always v0', () => {
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 8), 0);
  assert.equal(responseHeaderVersion(ApiKey.Metadata, 9), 1);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 3), 0);
  assert.equal(responseHeaderVersion(ApiKey.ApiVersions, 4), 0);
});

test('API key maps hold matching request and response descriptors', () => {
  assert.equal(requestsByApiKey.get(0)?.name, 'ProduceRequest');
  assert.equal(responsesByApiKey.get(1)?.name, 'FetchResponse');
  assert.equal(requestsByApiKey.size, responsesByApiKey.size);
  for (const [key, req] of requestsByApiKey) {
    const res = responsesByApiKey.get(key);
    assert.ok(res, `no response for API key ${key}`);
    assert.equal(req.apiKey, key);
    assert.equal(req.type, 'request');
    assert.equal(res.type, 'response');
    assert.deepEqual(res.validVersions, req.validVersions, `${req.name} and ${res.name} disagree on versions`);
  }
});
