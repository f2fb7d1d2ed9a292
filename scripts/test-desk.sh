#!/usr/bin/env bash
# The verifier service's browser and interoperability tests: installs Debian's chromium and
# the pinned npm packages (verifier-service/tests/desk/package-lock.json), then runs the
# desk page end to end in headless Chromium and the npm wallet library interop test.
# Usage: scripts/test-desk.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what is missing: asking for Debian's npm where Node.js came from elsewhere (NodeSource's
# nodejs bundles npm) makes apt refuse the whole install.
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "missing packages: ${need_apt[*]} (run as root to install)" >&2; exit 1
  fi
fi
(cd verifier-service/tests/desk && npm ci --no-audit --no-fund --loglevel=error)

echo "== desk page in headless Chromium"
cargo test -p giayto-verifier --locked --test desk_chromium -- --ignored
echo "== an independent OpenID4VP wallet library (npm @openid4vc/openid4vp) answers the verifier"
cargo test -p giayto-verifier --locked --test interop_npm -- --ignored
echo "== cross-device: the desk page in Chromium asks, the giayto wallet (CLI) answers"
cargo test -p giayto-e2e --locked --test desk_cross_device -- --ignored
