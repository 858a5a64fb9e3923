#!/usr/bin/env bash
# One-shot end-to-end onboarding smoke against a temporary HOME and broker root:
#   install -> identity -> setup -> register -> connector -> loopback DM -> rooms list
# Prints PASS/FAIL per step and exits non-zero if a required step fails. Relay-side steps are
# required when the relay answers /health, and downgrade to warnings when it cannot be reached
# (so the script also checks a fresh install with no relay around).
#
#   ./scripts/onboarding-smoke-test.sh [relay-url]
#
# relay-url: the argument, else $C2C_RELAY_URL, else http://localhost:7331.
# A prod-mode relay also needs the admin token in $C2C_RELAY_TOKEN (only for `relay status`
# peer counts; everything else is signed with the temporary identity).
# $C2C_BIN selects the binary under test (default: `c2c` on PATH).
set -uo pipefail

relay_url="${1:-${C2C_RELAY_URL:-http://localhost:7331}}"
relay_token="${C2C_RELAY_TOKEN:-}"

if [ -n "${C2C_BIN:-}" ]; then
  PATH="$(cd "$(dirname "$C2C_BIN")" && pwd):$PATH"
  export PATH
fi

if [ -t 1 ]; then
  green=$'\e[32m' red=$'\e[31m' yellow=$'\e[33m' reset=$'\e[0m'
else
  green="" red="" yellow="" reset=""
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/c2c-onboarding.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home"
export C2C_MCP_BROKER_ROOT="$work/broker"
mkdir -p "$HOME" "$C2C_MCP_BROKER_ROOT"
unset C2C_MCP_SESSION_ID CLAUDE_SESSION_ID C2C_MCP_AUTO_REGISTER_ALIAS C2C_INSTANCE_NAME \
  C2C_RELAY_URL C2C_RELAY_TOKEN C2C_RELAY_CONFIG C2C_RELAY_NODE_ID C2C_RELAY_IDENTITY_PATH \
  XDG_CONFIG_HOME XDG_STATE_HOME
cd "$work" || exit 1

alias_name="smoke-onboard-$$-$(date +%s)"
session_id="smoke-session-$$"
node_id="smoke-node-$$"
pass=0
fail=0
warn=0
failed_steps=()

# step KIND LABEL COMMAND...   KIND: required | relay (required when the relay is reachable)
relay_reachable=0
step() {
  local kind="$1" label="$2"
  shift 2
  local out
  if out="$("$@" 2>&1)"; then
    echo "${green}PASS${reset} $label"
    pass=$((pass + 1))
    return 0
  fi
  if [ "$kind" = relay ] && [ "$relay_reachable" = 0 ]; then
    echo "${yellow}⚠ WARN${reset} $label (relay not reachable at $relay_url)"
    warn=$((warn + 1))
    return 1
  fi
  echo "${red}FAIL${reset} $label"
  printf '%s\n' "$out" | sed 's/^/      /' | tail -n 8
  fail=$((fail + 1))
  failed_steps+=("$label")
  return 1
}

echo "=== c2c onboarding smoke (relay: $relay_url) ==="

# 1. install
step required "1a c2c on PATH" command -v c2c
step required "1b c2c --version" c2c --version

# 2. local broker registration
step required "2  local register ($alias_name)" \
  c2c register --alias "$alias_name" --session-id "$session_id" --pid 0

# 3. identity
step required "3a relay identity init" c2c relay identity init --alias-hint "$alias_name"
step required "3b identity at ~/.config/c2c/identity.json" test -f "$HOME/.config/c2c/identity.json"
step required "3c relay identity show" c2c relay identity show

# 4. setup (the token goes through a 0600 file, never the command line)
setup_args=(relay setup --url "$relay_url" --node-id "$node_id")
if [ -n "$relay_token" ]; then
  umask 077
  printf '%s\n' "$relay_token" >"$work/relay.token"
  setup_args+=(--token-file "$work/relay.token")
fi
step required "4  relay setup" c2c "${setup_args[@]}"

# Is there a relay to talk to?
if c2c relay status >/dev/null 2>&1; then
  relay_reachable=1
else
  echo "${yellow}⚠${reset} relay not reachable at $relay_url: relay steps below only warn"
fi

# 5-8. relay side
step relay "5  relay status" c2c relay status
step relay "6  relay register --alias $alias_name" c2c relay register --alias "$alias_name"
step relay "7  relay connect --once" c2c relay connect --once
loopback() {
  c2c send "$alias_name@$node_id" "smoke ping $(date -u +%Y-%m-%dT%H:%M:%SZ)" --from "$alias_name" &&
    c2c relay connect --once && c2c relay connect --once &&
    c2c peek-inbox --session-id "$session_id" | grep -q "smoke ping"
}
step relay "8  loopback DM $alias_name@$node_id" loopback
step relay "9  relay rooms list" c2c relay rooms list

total=$((pass + fail))
if [ "$fail" -eq 0 ]; then
  extra=""
  [ "$warn" -gt 0 ] && extra=", $warn warning(s)"
  echo "=== Onboarding smoke: $pass/$total PASS$extra ==="
  exit 0
fi
echo "=== Onboarding smoke: $fail FAIL, $pass PASS ==="
for s in "${failed_steps[@]}"; do echo "  - FAIL: $s"; done
exit 1
