#!/usr/bin/env bash
# The relay quickstart (docs/quickstart.md) as a script: Steps 1-5 (including the nohup connector line in a fresh
# HOME), the operator's rooms commands exactly as written, the two-machine localhost test with
# seeded registries, token files, an empty relay.json, and environment variables.
# Runs the binary in $C2C_BIN against a relay on a free port; exits non-zero on the first
# deviation from what the quickstart shows.
set -euo pipefail

C2C="${C2C_BIN:?set C2C_BIN to the c2c binary}"
work="$(mktemp -d "${TMPDIR:-/tmp}/c2c-quickstart.XXXXXX")"
relay_pid=""
nohup_pid=""
cleanup() {
  if [ -n "$nohup_pid" ]; then kill "$nohup_pid" 2>/dev/null || true; wait "$nohup_pid" 2>/dev/null || true; fi
  if [ -n "$relay_pid" ]; then kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home"
mkdir -p "$HOME"
cd "$work"
unset C2C_RELAY_URL C2C_RELAY_TOKEN C2C_RELAY_CONFIG C2C_RELAY_NODE_ID C2C_RELAY_IDENTITY_PATH \
  C2C_MCP_BROKER_ROOT C2C_MCP_SESSION_ID C2C_MCP_AUTO_REGISTER_ALIAS XDG_CONFIG_HOME || true

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect FILE PATTERN  (fixed string)
  grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "expected '$2'"; }
}

# Step 1: the relay (port 0 instead of 7331, read back from its first line).
TOKEN=$(head -c 16 /dev/urandom | xxd -p)
"$C2C" relay serve --listen 127.0.0.1:0 --token "$TOKEN" --gc-interval 300 >"$work/relay.out" 2>"$work/relay.err" &
relay_pid=$!
for _ in $(seq 1 200); do
  grep -q "^c2c relay serving on " "$work/relay.out" 2>/dev/null && break
  sleep 0.05
done
URL=$(sed -n 's/^c2c relay serving on //p' "$work/relay.out" | head -n1)
[ -n "$URL" ] || fail "relay did not start: $(cat "$work/relay.err")"
expect "$work/relay.out" "auth: Bearer token required"
expect "$work/relay.out" "gc: running every 300s"
echo "relay at $URL"

# Token file (the "Token file" section).
mkdir -p "$HOME/.config/c2c"
echo "$TOKEN" >"$HOME/.config/c2c/relay.token"
chmod 600 "$HOME/.config/c2c/relay.token"

# Step 2: save URL and token.
"$C2C" relay setup --url "$URL" --token-file "$HOME/.config/c2c/relay.token" >"$work/setup.out"
expect "$work/setup.out" "relay config saved to $HOME/.config/c2c/relay.json"
[ "$(stat -c %a "$HOME/.config/c2c/relay.json")" = 600 ] || fail "relay.json is not 0600"

# Step 3 in a fresh HOME: `c2c install self` (the prerequisite) and `c2c relay setup` create
# ~/.local/share/c2c, so the quickstart's nohup line can append its log there.
fresh="$work/fresh-home"
mkdir -p "$fresh"
HOME="$fresh" "$C2C" install self --prefix "$work/bin" >/dev/null
[ "$(stat -c %a "$fresh/.local/share/c2c")" = 700 ] || fail "install self did not create ~/.local/share/c2c 0700"
[ "$(stat -c %a "$fresh/.config/c2c")" = 700 ] || fail "install self did not create ~/.config/c2c 0700"
rm -rf "$fresh" && mkdir -p "$fresh"
HOME="$fresh" "$C2C" relay setup --url "$URL" --token-file "$HOME/.config/c2c/relay.token" >/dev/null
mkdir -p "$work/broker-nohup"
(
  export HOME="$fresh" C2C_MCP_BROKER_ROOT="$work/broker-nohup"
  cd "$work"
  nohup "$C2C" relay connect --interval 15 >> ~/.local/share/c2c/relay-connector.log 2>&1 &
  echo $! >"$work/nohup.pid"
)
nohup_pid=$(cat "$work/nohup.pid")
log="$fresh/.local/share/c2c/relay-connector.log"
for _ in $(seq 1 400); do
  grep -q "sync: " "$log" 2>/dev/null && break
  kill -0 "$nohup_pid" 2>/dev/null || break
  sleep 0.05
done
expect "$log" "[relay-connector] starting — relay=$URL"
expect "$log" "[relay-connector] sync: "
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z \[relay-connector\] starting' "$log" \
  || { cat "$log" >&2; fail "connector log lines carry no ISO timestamp"; }
kill "$nohup_pid"; wait "$nohup_pid" 2>/dev/null || true; nohup_pid=""

# Two-machine localhost test, with the quickstart's registry format.
mkdir -p "$work/broker-a" "$work/broker-b"
echo '[{"session_id":"ses-a","alias":"relay-peer-a","pid":1,"pid_start_time":1}]' >"$work/broker-a/registry.json"
echo '[{"session_id":"ses-b","alias":"relay-peer-b","pid":1,"pid_start_time":1}]' >"$work/broker-b/registry.json"

connect() {  # connect MACHINE  (uses the saved config + the token file)
  "$C2C" relay connect --token-file "$HOME/.config/c2c/relay.token" \
    --node-id "machine-$1" --broker-root "$work/broker-$1" --once --verbose
}
connect a >"$work/a1.out" 2>"$work/a1.err" || fail "connect a: $(cat "$work/a1.err")"
expect "$work/a1.out" "[relay-connector] starting — relay=$URL node=machine-a"
expect "$work/a1.out" "[relay-connector] sync: registered=1 heartbeated=0 fwd=0 failed=0 dlqed=0 inbound=0"
connect b >"$work/b1.out" 2>&1 || fail "connect b"
expect "$work/b1.out" "registered=1"

# Step 4: verify connectivity.
"$C2C" relay status --node-id myhostname-a1b2c3d4 >"$work/status.out"
expect "$work/status.out" "relay: $URL"
expect "$work/status.out" "status: OK"
expect "$work/status.out" "node_id: myhostname-a1b2c3d4"
expect "$work/status.out" "peers: 2 alive / 2 total"
"$C2C" relay list >"$work/list.out"
expect "$work/list.out" "relay-peer-a"
expect "$work/list.out" "node=machine-b"
"$C2C" relay list --json | grep -q '"ok": true' || fail "list --json"

# Step 5: send across machines (A -> B), then sync both connectors.
C2C_MCP_BROKER_ROOT="$work/broker-a" "$C2C" send relay-peer-b@machine-b "hello from A" --from relay-peer-a >/dev/null
connect a >"$work/a2.out" 2>&1 || fail "connect a (forward)"
expect "$work/a2.out" "fwd=1"
connect b >"$work/b2.out" 2>&1 || fail "connect b (pull)"
expect "$work/b2.out" "inbound=1"
C2C_MCP_BROKER_ROOT="$work/broker-b" "$C2C" peek-inbox --session-id ses-b >"$work/peek.out"
expect "$work/peek.out" "hello from A"
[ "$(grep -c "hello from A" "$work/peek.out")" = 1 ] || fail "message delivered more than once"

# Relay rooms, exactly as the quickstart writes them: join registers my-alias with this machine's
# identity, send without --alias acts as it (and says so).
"$C2C" relay rooms list >/dev/null
"$C2C" relay rooms join swarm-lounge --alias my-alias >"$work/seed-join.out" 2>"$work/seed-join.err" \
  || fail "rooms join: $(cat "$work/seed-join.err")"
expect "$work/seed-join.out" "joined room swarm-lounge as my-alias"
"$C2C" relay rooms send swarm-lounge "hello from the operator" >"$work/seed-send.out" 2>"$work/seed-send.err" \
  || fail "rooms send: $(cat "$work/seed-send.err")"
expect "$work/seed-send.out" "sent to room swarm-lounge"
expect "$work/seed-send.err" "acting as my-alias"
"$C2C" relay rooms history swarm-lounge >"$work/seed-hist.out"
expect "$work/seed-hist.out" "my-alias: hello from the operator"
"$C2C" relay rooms history swarm-lounge --limit 20 >/dev/null
"$C2C" relay rooms leave swarm-lounge --alias my-alias >"$work/seed-leave.out"
expect "$work/seed-leave.out" "left room swarm-lounge"

# Rooms (operator commands, positional room ids).
"$C2C" relay rooms join swarm-lounge --alias relay-peer-a >"$work/join.out"
expect "$work/join.out" "joined room swarm-lounge as relay-peer-a"
"$C2C" relay rooms join swarm-lounge --alias relay-peer-b >/dev/null
"$C2C" relay rooms send swarm-lounge "hello from the operator" --alias relay-peer-a >"$work/rsend.out"
expect "$work/rsend.out" "sent to room swarm-lounge: 1 delivered"
"$C2C" relay rooms list >"$work/rooms.out"
expect "$work/rooms.out" "swarm-lounge"
"$C2C" relay rooms history swarm-lounge --limit 20 >"$work/hist.out"
expect "$work/hist.out" "relay-peer-a: hello from the operator"
connect b >/dev/null 2>&1
C2C_MCP_BROKER_ROOT="$work/broker-b" "$C2C" peek-inbox --session-id ses-b >"$work/peek2.out"
expect "$work/peek2.out" "hello from the operator"
"$C2C" relay rooms leave swarm-lounge --alias relay-peer-a >"$work/leave.out"
expect "$work/leave.out" "left room swarm-lounge"

# An empty relay.json is an empty config: explicit URLs work, setup repairs it.
: >"$HOME/.config/c2c/relay.json"
"$C2C" relay status --relay-url "$URL" >"$work/empty.out" 2>"$work/empty.err" || fail "status with an empty relay.json: $(cat "$work/empty.err")"
expect "$work/empty.out" "status: OK"
"$C2C" relay setup --url "$URL" --token-file "$HOME/.config/c2c/relay.token" >/dev/null 2>"$work/empty-setup.err" \
  || fail "setup over an empty relay.json: $(cat "$work/empty-setup.err")"
"$C2C" relay status >"$work/repaired.out" || fail "status after setup repaired relay.json"
expect "$work/repaired.out" "status: OK"

# Environment variables instead of flags and config.
rm "$HOME/.config/c2c/relay.json"
export C2C_RELAY_URL="$URL" C2C_RELAY_TOKEN="$TOKEN"
"$C2C" relay status >"$work/status2.out"
expect "$work/status2.out" "status: OK"
"$C2C" relay gc --once >"$work/gc.out"
expect "$work/gc.out" "relay gc: expired_leases=0 pruned_inboxes=0"
"$C2C" relay gc --once --json | grep -q '"ok": true' || fail "gc --json"

# Troubleshooting: relay UNREACHABLE.
if "$C2C" relay status --relay-url http://127.0.0.1:1 >/dev/null 2>"$work/unreach.err"; then
  fail "status against a dead relay succeeded"
fi
expect "$work/unreach.err" "relay UNREACHABLE"

echo "quickstart: all steps behave as documented"
