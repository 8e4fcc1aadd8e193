#!/usr/bin/env bash
# Dockerfile Cache Lens - tools for the end-to-end tests in a real VS Code workbench (test/e2e).
#
# Idempotent, and fast when everything is there already:
#   1. Debian packages: chromium (the browser Playwright drives; Playwright never downloads one),
#      ripgrep, and the headers code-server's native modules build against.
#   2. The ripgrep archive @vscode/ripgrep's postinstall would download (it cannot here): built from
#      Debian's /usr/bin/rg and put in the cache folder the postinstall looks in first.
#   3. `npm ci` in test/e2e: code-server (the VS Code workbench, served to the browser) and
#      playwright-core. They are test tools, never dependencies of the extension.
#
# usage: scripts/e2e-setup.sh [--force]     (--force reinstalls test/e2e/node_modules)
#        scripts/e2e-setup.sh --missing     says what is missing, installs nothing: exit 0 when
#                                           nothing is, 10 when it can be installed, 11 when not
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E=$ROOT/test/e2e
FORCE=0
MISSING_ONLY=0
[ "${1:-}" = "--force" ] && FORCE=1
[ "${1:-}" = "--missing" ] && MISSING_ONLY=1

APT_PACKAGES=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential python3)

# The @vscode/ripgrep version code-server 4.100.3's lib/vscode pins (its npm-shrinkwrap.json), and
# the release its postinstall fetches (lib/postinstall.js: VERSION, target for linux x64).
RIPGREP_PKG_VERSION=1.15.11
RIPGREP_RELEASE=v13.0.0-10
RIPGREP_TARGET=x86_64-unknown-linux-musl

log() { printf '== e2e-setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages ----------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "$MISSING_ONLY" = 1 ]; then
  needs=0
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "missing Debian packages: ${missing[*]}"
    needs=1
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "cannot install them: no apt-get (this is not Debian or Ubuntu); install the equivalents by hand"
      exit 11
    fi
    if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
      echo "cannot install them: not root, and sudo needs a password (run: sudo apt-get install ${missing[*]})"
      exit 11
    fi
  fi
  if [ ! -f "$E2E/node_modules/code-server/out/node/entry.js" ] || [ ! -f "$E2E/node_modules/playwright-core/package.json" ]; then
    echo "missing: code-server and playwright-core in test/e2e (npm ci from the npm registry, about a minute)"
    needs=1
  fi
  [ "$needs" = 0 ] && exit 0
  exit 10
fi
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. ripgrep archive for @vscode/ripgrep's postinstall --------------------------------------------
tmpdir=$(node -p 'require("os").tmpdir()')
rg_cache=$tmpdir/vscode-ripgrep-cache-$RIPGREP_PKG_VERSION
rg_archive=$rg_cache/ripgrep-$RIPGREP_RELEASE-$RIPGREP_TARGET.tar.gz
if [ ! -s "$rg_archive" ]; then
  log "ripgrep archive from /usr/bin/rg -> $rg_archive"
  mkdir -p "$rg_cache"
  staging=$(mktemp -d)
  cp /usr/bin/rg "$staging/rg"
  tar -czf "$rg_archive.tmp" -C "$staging" rg
  mv "$rg_archive.tmp" "$rg_archive"
  rm -rf "$staging"
fi

# 3. code-server + playwright-core in test/e2e -----------------------------------------------------
stamp=$E2E/node_modules/.e2e-setup-stamp
want="$(sha256sum "$E2E/package-lock.json" | cut -c1-64) node-$(node -p 'process.versions.modules')"
cs_bin=$E2E/node_modules/code-server/out/node/entry.js
if [ "$FORCE" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$cs_bin" ] \
  || [ ! -d "$E2E/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin" ]; then
  log "npm ci in test/e2e (code-server builds its native modules: about a minute)"
  # code-server's postinstall insists on unsafe-perm as root, and runs `npm install` in lib/vscode.
  (cd "$E2E" && npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund)
  rg=$E2E/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg
  if [ ! -x "$rg" ]; then
    echo "e2e-setup: $rg is missing: did @vscode/ripgrep's version change? (expected $RIPGREP_PKG_VERSION," \
      "archive $(basename "$rg_archive"))" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
fi

# --config: an empty private one, so that code-server writes no ~/.config/code-server/config.yaml.
cfg=$(mktemp)
cs_version=$("$E2E/node_modules/.bin/code-server" --config "$cfg" --version | head -1)
rm -f "$cfg"
[ -x /usr/bin/chromium ] || { echo "e2e-setup: /usr/bin/chromium is missing" >&2; exit 1; }
log "ready: code-server $cs_version; $(/usr/bin/chromium --version 2>/dev/null)"
