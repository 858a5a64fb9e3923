// Drives real `c2c mcp` processes with the official MCP TypeScript SDK client: two agents on
// one broker directory register, send, poll, use rooms, and a channel-capable third agent
// receives a push notification. Every client lists the tools first, so the SDK validates each
// tool result's structuredContent against that tool's outputSchema. Run by ctest (label mcp) with C2C_BIN set, or:
//   C2C_BIN=build/src/c2c/cli/c2c node --test tests/mcp/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const BIN = process.env.C2C_BIN;
if (!BIN) throw new Error('C2C_BIN must name the c2c binary under test');

const TOOLS = ['register', 'whoami', 'list', 'send', 'send_all', 'poll_inbox',
  'wait_for_message', 'delivery_status', 'peek_inbox', 'history', 'join_room', 'leave_room',
  'send_room', 'list_rooms', 'my_rooms', 'room_history', 'sweep'];

let root;
const clients = [];

// A transport that records every message both ways (to see the negotiated revision).
class Recording {
  constructor(inner) {
    this.inner = inner;
    this.sent = [];
    this.received = [];
  }
  get stderr() { return this.inner.stderr; }
  async start() {
    this.inner.onmessage = (m) => { this.received.push(m); this.onmessage?.(m); };
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (e) => this.onerror?.(e);
    return this.inner.start();
  }
  send(m, o) { this.sent.push(m); return this.inner.send(m, o); }
  close() { return this.inner.close(); }
}

function serverEnv(sessionId, alias) {
  const env = {
    C2C_MCP_BROKER_ROOT: root,
    C2C_MCP_SESSION_ID: sessionId,
    C2C_MCP_AUTO_REGISTER_ALIAS: alias,
  };
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[k]) env[k] = process.env[k];
  }
  return env;
}

// Starts `c2c mcp` for one agent and connects the SDK client to it.
async function connect(sessionId, alias, { channel = false } = {}) {
  const env = serverEnv(sessionId, alias);
  const transport = new Recording(
    new StdioClientTransport({ command: BIN, args: ['mcp'], env, stderr: 'pipe' }));
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client(
    { name: 'c2c-sdk-test', version: '1.0.0' },
    { capabilities: channel ? { experimental: { 'claude/channel': {} } } : {} });
  await client.connect(transport);
  clients.push(client);
  client.stderrText = () => stderr;
  client.recorded = transport;
  await client.listTools();  // caches the output validators for callTool
  return client;
}

// Calls a tool and returns its text, failing the test on isError. The SDK has already checked
// structuredContent against the tool's outputSchema; the text block must carry the same data.
async function call(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.content.length, 1);
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.isError, false, `${name} failed: ${r.content[0].text}`);
  assert.ok(r.structuredContent, `${name}: no structuredContent`);
  const text = r.content[0].text;
  if (text.startsWith('[')) {
    assert.deepEqual(Object.values(r.structuredContent), [JSON.parse(text)], name);
  } else if (text.startsWith('{') && name !== 'whoami') {
    assert.deepEqual(r.structuredContent, JSON.parse(text), name);
  }
  return text;
}
const callJson = async (client, name, args) => JSON.parse(await call(client, name, args));

// Resolves with the first value `register` delivers, or rejects after `ms` (a deadline, not a sleep).
function within(ms, what, register) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((value) => { clearTimeout(timer); resolve(value); });
  });
}

let alice, bob;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'c2c-mcp-sdk-'));
  alice = await connect('ses-alice', 'alice');
  bob = await connect('ses-bob', 'bob');
});

after(async () => {
  for (const c of clients) await c.close();
  rmSync(root, { recursive: true, force: true });
});

test('initialize: the SDK asks for 2025-11-25 and the server answers it', () => {
  const init = alice.recorded.sent.find((m) => m.method === 'initialize');
  assert.equal(init.params.protocolVersion, '2025-11-25');
  const answer = alice.recorded.received.find((m) => m.id === init.id);
  assert.equal(answer.result.protocolVersion, '2025-11-25');
});

test('server/discover (2026-07-28 probe) is declined, then initialize works on the same process', async () => {
  const transport = new StdioClientTransport(
    { command: BIN, args: ['mcp'], env: serverEnv('ses-probe', ''), stderr: 'pipe' });
  const answers = new Map();
  const waiters = new Map();
  transport.onmessage = (m) => {
    answers.set(m.id, m);
    waiters.get(m.id)?.(m);
  };
  const ask = (msg) => within(10000, msg.method, (resolve) => {
    waiters.set(msg.id, resolve);
    transport.send(msg);
  });
  await transport.start();
  try {
    const probe = await ask({ jsonrpc: '2.0', id: 'discover-1', method: 'server/discover', params: {
      _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {} } } });
    // Any error but a stateless one (-32022 UnsupportedProtocolVersion) means: fall back.
    assert.equal(probe.error.code, -32601);
    assert.notEqual(probe.error.code, -32022);
    assert.match(probe.error.message, /2025-11-25/);
    const init = await ask({ jsonrpc: '2.0', id: 2, method: 'initialize', params: {
      protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } });
    assert.equal(init.result.protocolVersion, '2025-11-25');
    assert.equal(init.result.serverInfo.name, 'c2c');
  } finally {
    await transport.close();
  }
});

test('every tool has a title, annotations and an object outputSchema', async () => {
  const { tools } = await bob.listTools();
  for (const t of tools) {
    assert.ok(t.title, t.name);
    assert.equal(t.outputSchema?.type, 'object', t.name);
    for (const h of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
      assert.equal(typeof t.annotations[h], 'boolean', `${t.name}.${h}`);
    }
  }
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  assert.equal(byName.peek_inbox.annotations.readOnlyHint, true);
  assert.equal(byName.sweep.annotations.destructiveHint, true);
  assert.equal(byName.send.annotations.idempotentHint, false);
});

test('initialize: server info, capabilities, instructions', () => {
  assert.equal(alice.getServerVersion().name, 'c2c');
  assert.match(alice.getServerVersion().version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(alice.getServerCapabilities().experimental, { 'claude/channel': {} });
  assert.ok(alice.getServerCapabilities().tools);
  assert.match(alice.getInstructions(), /poll_inbox/);
});

test('tools/list has every tool with an object schema', async () => {
  const { tools } = await alice.listTools();
  assert.deepEqual(tools.map((t) => t.name), TOOLS);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.ok(t.description.length > 20, t.name);
  }
  const send = tools.find((t) => t.name === 'send');
  assert.deepEqual(send.inputSchema.required, ['to_alias', 'content']);
});

test('both agents are auto-registered and listed alive', async () => {
  assert.equal(await call(alice, 'whoami'), 'alice');
  assert.equal(await call(bob, 'whoami'), 'bob');
  const list = await callJson(alice, 'list', { alive_only: true });
  assert.deepEqual(list.map((r) => r.alias).sort(), ['alice', 'bob']);
  for (const r of list) assert.equal(r.alive, true);
});

test('send, then poll drains exactly once', async () => {
  const receipt = await callJson(alice, 'send', { to_alias: 'bob', content: 'hello bob' });
  assert.equal(receipt.queued, true);
  assert.equal(receipt.from_alias, 'alice');
  assert.equal(receipt.to_alias, 'bob');
  assert.equal(typeof receipt.ts, 'number');

  assert.equal((await callJson(bob, 'peek_inbox')).length, 1);
  const inbox = await callJson(bob, 'poll_inbox');
  assert.equal(inbox.length, 1);
  assert.deepEqual([inbox[0].from_alias, inbox[0].to_alias, inbox[0].content],
    ['alice', 'bob', 'hello bob']);
  assert.deepEqual(await callJson(bob, 'poll_inbox'), []);
  const history = await callJson(bob, 'history', { limit: 5 });
  assert.equal(history[0].content, 'hello bob');
});

test('wait_for_message: ping answered while it waits; the message arrives; the sender sees read',
  async () => {
    const waiting = callJson(bob, 'wait_for_message', { timeout_s: 20 });
    // The server keeps answering while the wait is pending.
    assert.deepEqual(await bob.ping(), {});
    const receipt = await callJson(alice, 'send', { to_alias: 'bob', content: 'are you there?' });
    const got = await waiting;
    assert.equal(got.length, 1);
    assert.equal(got[0].content, 'are you there?');
    const status = await callJson(alice, 'delivery_status', { message_id: receipt.message_id });
    assert.equal(status.state, 'read');
    assert.equal(status.recipients[0].recipient, 'bob');
    // Nothing waiting: the timeout gives [].
    assert.deepEqual(await callJson(bob, 'wait_for_message', { timeout_s: 0.2 }), []);
  });

test('rooms: join, send_room fan-out, history, list', async () => {
  const joined = await callJson(alice, 'join_room', { room_id: 'lounge' });
  assert.equal(joined.room_id, 'lounge');
  const joinedB = await callJson(bob, 'join_room', { room_id: 'lounge' });
  assert.deepEqual(joinedB.members.map((m) => m.alias), ['alice', 'bob']);
  await callJson(bob, 'poll_inbox'); // join notices

  const sent = await callJson(alice, 'send_room', { room_id: 'lounge', content: 'standup in 5' });
  assert.deepEqual(sent.delivered_to, ['bob']);
  const got = (await callJson(bob, 'poll_inbox')).filter((m) => m.from_alias !== 'c2c-system');
  assert.equal(got.length, 1);
  assert.equal(got[0].to_alias, 'bob#lounge');
  assert.equal(got[0].content, 'standup in 5');

  const hist = await callJson(bob, 'room_history', { room_id: 'lounge', limit: 1 });
  assert.deepEqual(hist.map((h) => [h.from_alias, h.content]), [['alice', 'standup in 5']]);
  const rooms = await callJson(bob, 'list_rooms');
  const lounge = rooms.find((r) => r.room_id === 'lounge');
  assert.equal(lounge.member_count, 2);
  assert.deepEqual((await callJson(bob, 'my_rooms')).map((r) => r.room_id), ['lounge']);

  const left = await callJson(bob, 'leave_room', { room_id: 'lounge' });
  assert.deepEqual(left.members.map((m) => m.alias), ['alice']);
});

test('errors: tool failures are isError results, unknown tools are -32602', async () => {
  const unknown = await alice.callTool({ name: 'send', arguments: { to_alias: 'nobody', content: 'x' } });
  assert.equal(unknown.isError, true);
  assert.match(unknown.content[0].text, /nobody/);
  const missing = await alice.callTool({ name: 'send', arguments: { content: 'x' } });
  assert.equal(missing.isError, true);
  assert.match(missing.content[0].text, /missing required string argument 'to_alias'/);
  await assert.rejects(alice.callTool({ name: 'no_such_tool', arguments: {} }),
    (e) => e instanceof McpError && e.code === -32602);
  assert.deepEqual(await alice.ping(), {});
});

test('push: a channel-capable client receives notifications/claude/channel', async () => {
  const carol = await connect('ses-carol', 'carol', { channel: true });
  const ChannelNotification = z.object({
    method: z.literal('notifications/claude/channel'),
    params: z.object({
      content: z.string(),
      meta: z.object({ from: z.string(), to: z.string(), ts: z.string() }),
    }),
  });
  const pushed = within(10000, 'the channel notification', (resolve) =>
    carol.setNotificationHandler(ChannelNotification, (n) => resolve(n)));

  await callJson(alice, 'send', { to_alias: 'carol', content: 'pushed to carol' });
  let n;
  try {
    n = await pushed;
  } catch (e) {
    throw new Error(`${e.message}\ncarol's server stderr:\n${carol.stderrText()}`);
  }
  assert.equal(n.params.content, 'pushed to carol');
  assert.equal(n.params.meta.from, 'alice');
  assert.equal(n.params.meta.to, 'carol');
  assert.match(n.params.meta.ts, /^\d\d:\d\d$/);
  // Delivered exactly once: not returned again by poll_inbox.
  assert.deepEqual(await callJson(carol, 'poll_inbox'), []);
  const history = await callJson(carol, 'history');
  assert.equal(history[0].content, 'pushed to carol');
});

test('sweep and whoami results validate against their outputSchema', async () => {
  const swept = await callJson(alice, 'sweep');
  assert.ok(Array.isArray(swept.dropped_regs));
  const r = await alice.callTool({ name: 'whoami', arguments: {} });
  assert.deepEqual([r.structuredContent.registered, r.structuredContent.alias], [true, 'alice']);
  assert.equal(r.content[0].text, 'alice');
});
