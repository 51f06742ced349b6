// compose.yaml cannot be run here (no Docker engine), so this checks it structurally: every
// StreamHouse agent's command flags and STREAMHOUSE_* variables must be accepted by the config
// schema, and the wiring between services (database, bucket, endpoint, scrape targets) must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTIONS, loadConfig, type BrokerConfig } from '../src/config.js';

// --- a YAML subset parser fit for compose.yaml ---------------------------------------------
// Block mappings and sequences by indentation, sequences of mappings, flow sequences of
// scalars, quoted and plain scalars, `|` literal blocks, comments. Anything else throws, so a
// construct this parser does not know cannot silently pass.

type Yaml = string | Yaml[] | { [k: string]: Yaml } | null;

interface Line {
  indent: number;
  text: string;
  no: number;
}

function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

function scalar(raw: string, no: number): Yaml {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new Error(`line ${no}: unterminated string ${s}`);
    return JSON.parse(s) as string;
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new Error(`line ${no}: unterminated string ${s}`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) throw new Error(`line ${no}: multi-line flow sequences are not supported`);
    const inner = s.slice(1, -1).trim();
    if (inner === '') return [];
    const items: string[] = [];
    let cur = '';
    let quote: string | null = null;
    for (const c of inner) {
      if (quote) {
        cur += c;
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") {
        quote = c;
        cur += c;
      } else if (c === ',') {
        items.push(cur);
        cur = '';
      } else cur += c;
    }
    items.push(cur);
    return items.map((i) => scalar(i, no));
  }
  if (s.startsWith('{') || s.startsWith('&') || s.startsWith('*') || s.startsWith('!')) throw new Error(`line ${no}: unsupported YAML construct ${s}`);
  return s;
}

export function parseYaml(text: string): Yaml {
  const raw = text.split('\n');
  const lines: Line[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i].includes('\t')) throw new Error(`line ${i + 1}: tabs are not allowed in YAML indentation`);
    lines.push({ indent: raw[i].length - raw[i].trimStart().length, text: raw[i], no: i + 1 });
  }
  let pos = 0;
  const significant = () => {
    while (pos < lines.length && stripComment(lines[pos].text).trim() === '') pos++;
    return pos < lines.length ? lines[pos] : null;
  };

  function literal(parentIndent: number): string {
    const out: string[] = [];
    let blockIndent = -1;
    while (pos < lines.length) {
      const l = lines[pos];
      if (l.text.trim() === '') {
        out.push('');
        pos++;
        continue;
      }
      if (l.indent <= parentIndent) break;
      if (blockIndent < 0) blockIndent = l.indent;
      out.push(l.text.slice(blockIndent));
      pos++;
    }
    while (out.length && out[out.length - 1] === '') out.pop();
    return out.join('\n') + '\n';
  }

  function valueAfterKey(rest: string, indent: number, no: number): Yaml {
    const v = rest.trim();
    if (v === '|') return literal(indent);
    if (v !== '') return scalar(v, no);
    const next = significant();
    if (!next || next.indent < indent || (next.indent === indent && !next.text.trimStart().startsWith('- '))) return null;
    return block(next.indent);
  }

  function block(indent: number): Yaml {
    const first = significant()!;
    const isSeq = first.text.trimStart().startsWith('- ') || first.text.trim() === '-';
    if (isSeq) {
      const seq: Yaml[] = [];
      for (let l = significant(); l && l.indent === indent && l.text.trimStart().startsWith('-'); l = significant()) {
        const body = stripComment(l.text).trimStart().slice(1);
        const itemIndent = indent + 1 + (body.length - body.trimStart().length);
        const m = /^([A-Za-z0-9_.-]+):(\s|$)(.*)$/.exec(body.trim());
        if (m) {
          // A mapping inside a sequence item: rewrite this line as the mapping's first line.
          lines[pos] = { indent: itemIndent, text: ' '.repeat(itemIndent) + body.trim(), no: l.no };
          seq.push(mapping(itemIndent));
        } else {
          pos++;
          seq.push(scalar(body, l.no));
        }
      }
      return seq;
    }
    return mapping(indent);
  }

  function mapping(indent: number): { [k: string]: Yaml } {
    const map: { [k: string]: Yaml } = {};
    for (let l = significant(); l && l.indent === indent; l = significant()) {
      const text = stripComment(l.text).trim();
      const m = /^("[^"]*"|'[^']*'|[A-Za-z0-9_.\/-]+):(\s+(.*))?$/.exec(text);
      if (!m) throw new Error(`line ${l.no}: expected 'key: value', got '${text}'`);
      const key = scalar(m[1], l.no) as string;
      if (key in map) throw new Error(`line ${l.no}: duplicate key '${key}'`);
      pos++;
      map[key] = valueAfterKey(m[3] ?? '', indent, l.no);
    }
    const next = significant();
    if (next && next.indent > indent) throw new Error(`line ${next.no}: unexpected indentation`);
    return map;
  }

  const top = significant();
  if (!top) return null;
  const doc = block(top.indent);
  const rest = significant();
  if (rest) throw new Error(`line ${rest.no}: unexpected content`);
  return doc;
}

// --- checks ----------------------------------------------------------------------------------

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
type Map_ = { [k: string]: Yaml };
const asMap = (y: Yaml, what: string): Map_ => {
  assert.ok(y && typeof y === 'object' && !Array.isArray(y), `${what} must be a mapping`);
  return y as Map_;
};
const asList = (y: Yaml, what: string): string[] => {
  assert.ok(Array.isArray(y), `${what} must be a list`);
  return y as string[];
};

const compose = asMap(parseYaml(readFileSync(join(root, 'compose.yaml'), 'utf8')), 'compose.yaml');
const services = asMap(compose.services, 'services');
const agents = Object.entries(services).filter(([, s]) => asList(asMap(s, 'service').command ?? [], 'command').includes('serve'));

/** Flags of a serve command line, as loadConfig's `flags` (by config key). */
function serveFlags(command: string[], service: string): Partial<Record<keyof BrokerConfig, unknown>> {
  const args = command.slice(command.indexOf('serve') + 1);
  const flags: Partial<Record<keyof BrokerConfig, unknown>> = {};
  for (let i = 0; i < args.length; i++) {
    const def = OPTIONS.find((o) => o.flag === args[i]);
    assert.ok(def, `${service}: ${args[i]} is not a serve flag (see src/config.ts OPTIONS)`);
    if (def.kind === 'bool' && (args[i + 1] === undefined || args[i + 1].startsWith('--'))) flags[def.key] = 'true';
    else {
      assert.ok(args[i + 1] !== undefined, `${service}: ${args[i]} needs a value`);
      flags[def.key] = args[++i];
    }
  }
  return flags;
}

function agentConfig(name: string): BrokerConfig {
  const s = asMap(services[name], name);
  const env = Object.fromEntries(Object.entries(asMap(s.environment ?? {}, `${name}.environment`)).map(([k, v]) => [k, String(v)]));
  return loadConfig({ flags: serveFlags(asList(s.command, `${name}.command`), name), env });
}

test('the parser reads the structures compose.yaml uses and refuses what it does not know', () => {
  assert.deepEqual(parseYaml('a:\n  b: "x # y"  # note\n  c: [1, "two", \'3\']\nd:\n  - e\n  - f: g\n    h: i\nj: |\n  line1\n    line2\n'), {
    a: { b: 'x # y', c: ['1', 'two', '3'] },
    d: ['e', { f: 'g', h: 'i' }],
    j: 'line1\n  line2\n',
  });
  assert.throws(() => parseYaml('a: {b: 1}\n'), /unsupported/);
  assert.throws(() => parseYaml('a: 1\na: 2\n'), /duplicate key/);
  assert.throws(() => parseYaml('a: 1\n   b: 2\n'), /indentation|expected/);
});

test('compose.yaml has PostgreSQL, MinIO with a bucket job, two agents and Prometheus', () => {
  for (const name of ['postgres', 'minio', 'minio-init', 'prometheus']) assert.ok(services[name], `service ${name}`);
  assert.equal(agents.length, 2, 'two StreamHouse agents');
  for (const [name, s] of Object.entries(services)) {
    for (const dep of Object.keys(asMap(s, name).depends_on && !Array.isArray(asMap(s, name).depends_on) ? asMap(asMap(s, name).depends_on, 'depends_on') : {})) {
      assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
    }
    for (const dep of Array.isArray(asMap(s, name).depends_on) ? (asMap(s, name).depends_on as string[]) : []) assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
  }
});

test('every agent flag and STREAMHOUSE_* variable is accepted by the config schema', () => {
  const knownEnv = new Set(OPTIONS.map((o) => o.env));
  for (const [name, s] of agents) {
    const env = asMap(asMap(s, name).environment ?? {}, `${name}.environment`);
    for (const k of Object.keys(env)) {
      if (k.startsWith('STREAMHOUSE_')) assert.ok(knownEnv.has(k), `${name}: ${k} is not a StreamHouse variable (see src/config.ts OPTIONS)`);
    }
    const config = agentConfig(name); // throws ConfigError naming the bad flag or variable
    assert.match(config.metadata, /^postgres:\/\//, `${name} uses PostgreSQL`);
    assert.match(config.objects, /^s3:\/\//, `${name} uses the S3 store`);
  }
});

test('agents are wired to the postgres, minio and bucket the other services provide', () => {
  const pg = asMap(asMap(services.postgres, 'postgres').environment, 'postgres.environment');
  const initCommand = asList(asMap(services['minio-init'], 'minio-init').command, 'minio-init.command').join(' ');
  const ids = new Set<number>();
  const hostPorts = new Set<string>();
  for (const [name, s] of agents) {
    const c = agentConfig(name);
    const db = new URL(c.metadata);
    assert.equal(db.hostname, 'postgres');
    assert.equal(db.username, pg.POSTGRES_USER);
    assert.equal(db.password, pg.POSTGRES_PASSWORD);
    assert.equal(db.pathname.slice(1), pg.POSTGRES_DB);
    const bucket = new URL(c.objects).hostname;
    assert.match(initCommand, new RegExp(`mb --ignore-existing local/${bucket}(\\s|$)`), `minio-init creates bucket ${bucket}`);
    assert.equal(new URL(c.s3Endpoint!).hostname, 'minio');
    const env = asMap(asMap(s, name).environment, 'env');
    const minio = asMap(asMap(services.minio, 'minio').environment, 'minio.environment');
    assert.equal(env.AWS_ACCESS_KEY_ID, minio.MINIO_ROOT_USER);
    assert.equal(env.AWS_SECRET_ACCESS_KEY, minio.MINIO_ROOT_PASSWORD);
    assert.ok(!ids.has(c.nodeId), `${name}: node id ${c.nodeId} is used twice`);
    ids.add(c.nodeId);
    // The advertised port must be the host port that reaches this agent's Kafka port.
    const ports = asList(asMap(s, name).ports, `${name}.ports`);
    assert.ok(ports.includes(`${c.advertisedPort}:${c.kafkaPort}`), `${name}: advertised port ${c.advertisedPort} is not published to ${c.kafkaPort}`);
    for (const p of ports) {
      const host = p.split(':')[0];
      assert.ok(!hostPorts.has(host), `host port ${host} published twice`);
      hostPorts.add(host);
    }
  }
});

test('Prometheus scrapes each agent on its admin HTTP port', () => {
  const source = asList(asMap(services.prometheus, 'prometheus').configs as Yaml, 'prometheus.configs') as unknown as Map_[];
  const name = source[0].source as string;
  const content = asMap(asMap(compose.configs, 'configs')[name], name).content as string;
  const prom = asMap(parseYaml(content), 'prometheus.yml');
  const job = (prom.scrape_configs as Map_[])[0];
  assert.equal(job.metrics_path, '/metrics');
  const targets = asList(asMap((job.static_configs as Map_[])[0], 'static_configs').targets, 'targets');
  assert.deepEqual(targets.sort(), agents.map(([n]) => `${n}:${agentConfig(n).httpPort}`).sort());
});
