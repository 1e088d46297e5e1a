#!/usr/bin/env bash
# Prints the directory of a pinned Node.js runtime (its bin/node and include/node headers), installing it
# first under .runtimes/ (ignored by git) when it is missing. The official binaries come from the npm
# registry's node-linux-<arch> packages, so this works wherever npm does, with nothing else to download.
#
#   scripts/node-runtime.sh 24        -> /path/to/repo/.runtimes/node-v24.x.y
#
# Usage in a shell: PATH="$(scripts/node-runtime.sh 24)/bin:$PATH" npm test
set -euo pipefail
cd "$(dirname "$0")/.."

# The exact versions CI tests; README's "Supported runtimes" names the same ones.
declare -A PINNED=([24]=24.22.3)

major="${1:?usage: scripts/node-runtime.sh <major>}"
version="${PINNED[$major]:-}"
if [ -z "$version" ]; then
  echo "no pinned Node.js $major; known: ${!PINNED[*]}" >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no node-linux package for $(uname -m)" >&2; exit 2 ;;
esac

dir="$PWD/.runtimes/node-v$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "installing Node.js $version into $dir" >&2
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir"
