// Runs the compiled tests with Node's built-in runner on every supported Node version.
// Node 20 takes no glob patterns, so the files are listed here explicitly.
//   node scripts/run-tests.mjs            tests that need only Node and npm packages (npm test)
//   node scripts/run-tests.mjs --full     also *.system.test.js: PostgreSQL, kcat, Java tools
//   node scripts/run-tests.mjs --only system   just the system tests
//   extra arguments that are paths filter the files by substring
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const full = args.includes('--full');
const onlySystem = args.includes('--only') && args[args.indexOf('--only') + 1] === 'system';
const filters = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--only');

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk('dist/test');
const isSystem = (f) => f.endsWith('.system.test.js');
if (onlySystem) files = files.filter(isSystem);
else if (!full) files = files.filter((f) => !isSystem(f));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
