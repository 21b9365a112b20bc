#!/usr/bin/env bash
# Proto checks run by `npm run check`: lint, generated code up to date, no breaking change against main.
set -euo pipefail
cd "$(dirname "$0")/.."
# Absolute, resolved once here: the generate step below runs from a temporary directory, where a
# path relative to the proto folder (or to $PWD there) would point outside the clone.
bin="$(cd ../node_modules/.bin && pwd)"
buf="$bin/buf"
[ -x "$buf" ] || { echo "proto: $buf is missing; run npm install at the repository root" >&2; exit 1; }
$buf lint
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cp -r buf.yaml buf.gen.yaml steward "$tmp/"
(cd "$tmp" && sed "s#local: ../node_modules/.bin/#local: $bin/#" buf.gen.yaml > gen.yaml && "$buf" generate --template gen.yaml)
if ! diff -r "$tmp/src/gen" src/gen >/dev/null; then
  diff -r "$tmp/src/gen" src/gen | head -20 >&2
  echo "proto: src/gen is stale; run 'npm run proto:gen' and commit the result" >&2
  exit 1
fi
# Breaking-change check against the main branch's protos, when main has them.
if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto/buf.yaml 2>/dev/null; then
  $buf breaking --against "../.git#branch=main,subdir=proto"
else
  echo "proto: main has no protos yet; breaking-change check skipped"
fi
echo "proto: lint, generated code and compatibility OK"
