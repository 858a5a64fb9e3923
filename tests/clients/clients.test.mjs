// `c2c install <client>` checked by the real clients (pinned in package-lock.json, installed by
// scripts/install-deps.sh), each in a temporary HOME with no network use: the client's own
// parser reads the entry, and where its CLI starts MCP servers (claude, gemini, opencode) it
// reports c2c connected. Then a second install changes nothing and uninstall leaves every other
// entry (and comment) in place. Run by ctest (label clients) with C2C_BIN set, or:
//   C2C_BIN=build/src/c2c/cli/c2c node --test tests/clients/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = process.env.C2C_BIN;
if (!BIN) throw new Error('C2C_BIN must name the c2c binary under test');
const HERE = dirname(fileURLToPath(import.meta.url));
const tool = (name) => join(HERE, 'node_modules', '.bin', name);
const SANITIZER_ENV = ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'];

// A fresh HOME with a project directory, and a wrapper around `c2c mcp` that records what the
// client sent and what the server answered (to check the negotiated protocol revision).
function sandbox() {
  const home = mkdtempSync(join(tmpdir(), 'c2c-clients-'));
  const project = join(home, 'proj');
  mkdirSync(project);
  const wrapper = join(home, 'c2c-recorded');
  writeFileSync(wrapper, `#!/bin/sh\ntee -a "${home}/mcp-in.log" | "${BIN}" "$@" | tee -a "${home}/mcp-out.log"\n`);
  chmodSync(wrapper, 0o755);
  return { home, project, wrapper, broker: join(home, 'broker') };
}

function env(box, extra = {}) {
  const e = { PATH: process.env.PATH, HOME: box.home, TERM: 'dumb', NO_COLOR: '1', ...extra };
  for (const k of SANITIZER_ENV) if (process.env[k]) e[k] = process.env[k];
  return e;
}

function run(cmd, args, box, extra = {}) {
  const r = spawnSync(cmd, args, { cwd: box.project, env: env(box, extra), encoding: 'utf8', timeout: 90000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? ''), stdout: r.stdout ?? '' };
}

function c2c(box, args, extra) {
  const r = run(BIN, args, box, extra);
  assert.equal(r.code, 0, `c2c ${args.join(' ')} failed:\n${r.out}`);
  return r.out;
}

const install = (box, client, extra = [], envExtra) =>
  c2c(box, ['install', client, '--command', box.wrapper, '--alias', `${client}-1`, '--rooms', 'lounge',
    '--broker-root', box.broker, ...extra], envExtra);

// Lines of the recorded MCP traffic, parsed.
function traffic(box, file) {
  const p = join(box.home, file);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

test('claude: user scope is Connected, the asked revision is answered, uninstall keeps the rest', () => {
  const box = sandbox();
  const file = join(box.home, '.claude.json');
  writeFileSync(file, JSON.stringify({ numStartups: 1, mcpServers: { other: { type: 'stdio', command: 'true' } } }, null, 2));
  install(box, 'claude', ['--scope', 'user']);
  const listed = run(tool('claude'), ['mcp', 'list'], box);
  assert.match(listed.out, /^c2c: .*c2c-recorded mcp - ✔ Connected$/m, listed.out);

  // Claude Code probes with server/discover first; the decline makes it fall back to initialize.
  const sent = traffic(box, 'mcp-in.log');
  const got = traffic(box, 'mcp-out.log');
  const discover = sent.find((m) => m.method === 'server/discover');
  if (discover) {
    const answer = got.find((m) => m.id === discover.id);
    assert.equal(answer.error.code, -32601, JSON.stringify(answer));
  }
  const init = sent.find((m) => m.method === 'initialize');
  assert.ok(init, `no initialize in ${JSON.stringify(sent)}`);
  const initAnswer = got.find((m) => m.id === init.id);
  assert.equal(initAnswer.result.protocolVersion, init.params.protocolVersion);
  assert.equal(init.params.protocolVersion, '2025-11-25');

  const before = readFileSync(file, 'utf8');
  assert.match(install(box, 'claude', ['--scope', 'user']), /already installed/);
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.match(run(tool('claude'), ['mcp', 'list'], box).out, /^c2c: .* - ✔ Connected$/m);

  c2c(box, ['uninstall', 'claude', '--scope', 'user']);
  const after = run(tool('claude'), ['mcp', 'list'], box).out;
  assert.doesNotMatch(after, /^c2c:/m, after);
  assert.match(after, /^other: /m, after);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).numStartups, 1);
  rmSync(box.home, { recursive: true, force: true });
});

test('gemini: Connected in a trusted folder; uninstall keeps the other server', () => {
  const box = sandbox();
  const dir = join(box.home, '.gemini');
  mkdirSync(dir);
  writeFileSync(join(dir, 'trustedFolders.json'), JSON.stringify({ [box.project]: 'TRUST_FOLDER' }));
  const file = join(dir, 'settings.json');
  writeFileSync(file, JSON.stringify({ mcpServers: { other: { command: 'true' } } }, null, 2));
  install(box, 'gemini');
  const gemini = (args) => run(tool('gemini'), args, box, { GEMINI_API_KEY: '' });
  const listed = gemini(['mcp', 'list']);
  assert.match(listed.out, /✓ c2c: .*c2c-recorded mcp \(stdio\) - Connected/, listed.out);
  const before = readFileSync(file, 'utf8');
  assert.match(install(box, 'gemini'), /already installed/);
  assert.equal(readFileSync(file, 'utf8'), before);
  c2c(box, ['uninstall', 'gemini']);
  const after = gemini(['mcp', 'list']).out;
  assert.doesNotMatch(after, /c2c:/, after);
  assert.match(after, /other:/, after);
  rmSync(box.home, { recursive: true, force: true });
});

test('codex: its own parser shows command, args, env and the session variable; comments survive', () => {
  const box = sandbox();
  const codexHome = join(box.home, 'codex-home');
  mkdirSync(codexHome);
  const file = join(codexHome, 'config.toml');
  const original = '# my codex settings\nmodel = "o3" # keep\n\n[mcp_servers.other]\ncommand = "true"\n';
  writeFileSync(file, original);
  const extra = { CODEX_HOME: codexHome };
  install(box, 'codex', [], extra);
  const codex = (args) => run(tool('codex'), args, box, extra);
  const got = codex(['mcp', 'get', 'c2c', '--json']);
  const entry = JSON.parse(got.stdout);
  assert.equal(entry.transport.type, 'stdio');
  assert.equal(entry.transport.command, box.wrapper);
  assert.deepEqual(entry.transport.args, ['mcp']);
  assert.equal(entry.transport.env.C2C_MCP_AUTO_REGISTER_ALIAS, 'codex-1');
  assert.equal(entry.transport.env.C2C_MCP_CLIENT_TYPE, 'codex');
  assert.equal(entry.transport.env.C2C_MCP_BROKER_ROOT, box.broker);
  assert.deepEqual(entry.transport.env_vars, ['CODEX_THREAD_ID']);
  assert.match(codex(['mcp', 'list']).out, /^c2c\s+\S*c2c-recorded\s+mcp\s/m);

  const before = readFileSync(file, 'utf8');
  assert.match(install(box, 'codex', [], extra), /already installed/);
  assert.equal(readFileSync(file, 'utf8'), before);
  c2c(box, ['uninstall', 'codex'], extra);
  assert.equal(readFileSync(file, 'utf8'), original);
  const after = codex(['mcp', 'list']).out;
  assert.doesNotMatch(after, /^c2c\s/m, after);
  assert.match(after, /^other\s/m, after);
  rmSync(box.home, { recursive: true, force: true });
});

test('opencode: its CLI starts the server and lists it connected; uninstall keeps the rest', () => {
  const box = sandbox();
  const dir = join(box.home, '.config', 'opencode');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'opencode.jsonc');
  writeFileSync(file, '{\n  // my theme\n  "theme": "opencode",\n  "mcp": {\n    "other": { "type": "local", "command": ["true"], "enabled": false }\n  }\n}\n');
  install(box, 'opencode');
  const opencode = (args) => run(tool('opencode'), args, box, { XDG_CONFIG_HOME: join(box.home, '.config') });
  const listed = opencode(['mcp', 'list']);
  assert.match(listed.out, /✓ c2c .*connected/, listed.out);
  const before = readFileSync(file, 'utf8');
  assert.match(before, /\/\/ my theme/);
  assert.match(install(box, 'opencode'), /already installed/);
  assert.equal(readFileSync(file, 'utf8'), before);
  c2c(box, ['uninstall', 'opencode']);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /\/\/ my theme/);
  assert.doesNotMatch(text, /c2c/);
  const after = opencode(['mcp', 'list']).out;
  assert.doesNotMatch(after, /c2c/, after);
  assert.match(after, /other/, after);
  rmSync(box.home, { recursive: true, force: true });
});
