#!/usr/bin/env bash
# Runs every check CI runs: installs what a fresh Debian machine lacks, then fmt, clippy and
# every test. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# A C compiler and linker: ring and libsqlite3-sys compile C, and rustc links with cc.
command -v cc >/dev/null || need_apt+=(build-essential)
# pkg-config and OpenSSL's headers: the server's JOSE library (josekit) builds openssl-sys.
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
# zbarimg: the independent QR decoder that reads giayto's PNGs in cli/tests.
command -v zbarimg >/dev/null || need_apt+=(zbar-tools)
# npm: the independent OpenID4VP verifier of the wallet's interoperability test.
command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing packages: ${need_apt[*]} (run as root to install)" >&2; exit 1
  fi
fi

# PostgreSQL for the server's tests (a missing PostgreSQL fails the run; it is never skipped):
# start the machine's cluster (installing it when absent), create the test role, export its URL.
if [ -z "${GIAYTO_TEST_POSTGRES_URL:-}" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "set GIAYTO_TEST_POSTGRES_URL (a role that may CREATE DATABASE), or run as root to start PostgreSQL" >&2; exit 1
  fi
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  fi
  pg_version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$pg_version main" || pg_createcluster "$pg_version" main
  pg_lsclusters -h | awk '$1=="'"$pg_version"'" && $2=="main" {print $4}' | grep -qx online || pg_ctlcluster "$pg_version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'giayto_test'\"" | grep -qx 1 \
    || su postgres -c "psql -qc \"CREATE ROLE giayto_test LOGIN CREATEDB PASSWORD 'giayto_test'\""
  export GIAYTO_TEST_POSTGRES_URL="postgres://giayto_test:giayto_test@127.0.0.1:5432/postgres"
fi

# rustfmt and clippy are rustup components, absent from a minimal toolchain.
if command -v rustup >/dev/null; then
  for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
  done
fi
# The README's walkthrough (run as written by tests/tests/readme.rs) uses curl and jq.
command -v curl >/dev/null && command -v jq >/dev/null || {
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl jq
  else
    echo "missing: curl and jq (run as root to install)" >&2; exit 1
  fi
}
# The independent OpenID4VP verifier the wallet's interoperability test answers
# (cli/tests/wallet_respond.rs), pinned by its package-lock.json.
echo "== npm ci (tests/interop/openid4vp)"
(cd tests/interop/openid4vp && npm ci --silent --no-audit --no-fund)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== feature unification (the server alone reuses a workspace build)"
scripts/feature-unification.sh
echo "== cargo test"
cargo test --workspace --locked
echo "== bindings (Kotlin, Python, Swift freshness)"; scripts/test-bindings.sh
echo "== verifier desk page (Chromium)"; scripts/test-desk.sh
