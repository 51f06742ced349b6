// The native modules load and work on the running Node version. CI runs this on Node 20 and on
// Node 24 (with node-gyp modules rebuilt against Node 24's headers), where an ABI mismatch or a
// missing build shows up here first, with the module's name, instead of deep inside a suite.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import * as zstd from 'zstd-napi';
import { crc32c } from '@node-rs/crc32';
import { projectRoot } from '../helpers/external-process.js';

const input = Buffer.from('streamhouse record batch '.repeat(200));

describe(`native modules on Node ${process.version} (ABI ${process.versions.modules})`, () => {
  it('better-sqlite3 runs statements', () => {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE t (x INTEGER)');
      db.prepare('INSERT INTO t VALUES (?)').run(42);
      assert.deepEqual(db.prepare('SELECT x FROM t').get(), { x: 42 });
    } finally {
      db.close();
    }
  });

  it('a process that exits with better-sqlite3 statements still alive exits cleanly', () => {
    // Node 24.19-24.21 abort here (SIGABRT in RemoveEnvironmentCleanupHook) with better-sqlite3 12
    // once a GC has run while an unreferenced statement was waiting to be finalized.
    const script =
      "const D=require('better-sqlite3');const db=new D(':memory:');db.prepare('select 1').get();" +
      'const a=[];for(let i=0;i<1e5;i++)a.push({i});process.exit(0)';
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: projectRoot() });
    assert.equal(r.signal, null, r.stderr.slice(0, 2000));
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  });

  it('snappy round-trips', () => {
    assert.deepEqual(snappy.uncompressSync(snappy.compressSync(input)), input);
  });

  it('lz4-napi round-trips a frame', () => {
    assert.deepEqual(lz4.decompressFrameSync(lz4.compressFrameSync(input)), input);
  });

  it('zstd-napi round-trips', () => {
    assert.deepEqual(zstd.decompress(zstd.compress(input)), input);
  });

  it('@node-rs/crc32 computes CRC-32C', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
});
