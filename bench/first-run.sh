#!/usr/bin/env bash
# The README's first command on a fresh clone, timed as a newcomer meets it: an empty muse cache and
# either no Go (the Temporal CLI from a release archive) or Go with empty module and build caches.
#
#   bash bench/first-run.sh archive   # the archive from a local mirror of this machine's CLI (no Go on PATH)
#   bash bench/first-run.sh go        # no archive reachable: go install, from empty Go caches
#
# The npm cache (~/.npm) is left warm: the figure is muse's first run, not the registry's speed.
set -euo pipefail
mode=${1:?archive or go}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/muse-first-run-XXXX)
chmod 755 "$work" # embedded PostgreSQL runs as the user postgres, who must enter it
git clone -q "$src" "$work/muse"
# The CLI this machine has (from its own cache), for the mirror: found before the empty cache is set.
cli=$(cd "$src" && node -e 'require("tsx/cjs"); require(process.argv[1]).ensureTemporalCli().then(console.log)' "$src/stack/temporal-cli.ts")
export MUSE_CACHE_DIR="$work/cache" TEMPORAL_ADDRESS=127.0.0.1:7391 TEMPORAL_UI_PORT=8391 MUSE_PG_PORT=5491
unset DATABASE_URL TEMPORAL_CLI_PATH
if [ "$mode" = archive ]; then
  # A mirror laid out as Temporal's releases, serving this machine's CLI packed as Temporal packs it.
  ver=$(sed -n "s/^export const TEMPORAL_CLI_VERSION = '\(.*\)';/\1/p" "$src/stack/temporal-cli.ts")
  plat=linux_amd64
  mkdir -p "$work/mirror/v$ver" "$work/pack"
  cp "$cli" "$work/pack/temporal" && echo "MIT" > "$work/pack/LICENSE"
  tar -czf "$work/mirror/v$ver/temporal_cli_${ver}_${plat}.tar.gz" -C "$work/pack" temporal LICENSE
  export MUSE_TEMPORAL_CLI_SHA256=$(sha256sum "$work/mirror/v$ver/temporal_cli_${ver}_${plat}.tar.gz" | cut -d' ' -f1)
  (cd "$work/mirror" && exec python3 -m http.server 8931 --bind 127.0.0.1 >/dev/null 2>&1) &
  mirror_pid=$!
  trap 'kill $mirror_pid 2>/dev/null || true' EXIT
  export MUSE_TEMPORAL_CLI_MIRROR=http://127.0.0.1:8931 MUSE_GO= PATH=$(dirname "$(command -v node)"):/usr/bin:/bin
else
  go=$(command -v go || echo /usr/local/go/bin/go)
  export MUSE_TEMPORAL_CLI_MIRROR=http://127.0.0.1:9 GOMODCACHE="$work/gomod" GOCACHE="$work/gobuild" MUSE_GO=$go
  # No temporal on PATH (a Go user's ~/go/bin may hold one): the CLI must be built.
  export PATH=$(dirname "$(command -v node)"):$(dirname "$go"):/usr/bin:/bin
fi
cd "$work/muse"
start=$(date +%s.%N)
npm ci --no-audit --no-fund >"$work/npm.log" 2>&1
installed=$(date +%s.%N)
npm run demo >"$work/demo.log" 2>&1 || { tail -5 "$work/demo.log"; exit 1; }
done_=$(date +%s.%N)
node bin/muse.js down >/dev/null 2>&1 || true
# The CLI the demo used came from the empty cache: how it got there is in the demo's log.
[ -x "$MUSE_CACHE_DIR/bin/temporal" ] || { echo "no CLI in $MUSE_CACHE_DIR/bin: not a first run"; exit 1; }
want=$([ "$mode" = archive ] && echo "downloading the Temporal CLI" || echo "building the Temporal CLI")
grep -q "$want" "$work/demo.log" || { echo "the demo log does not say \"$want\": not a first run"; exit 1; }
awk -v m="$mode" -v a="$start" -v b="$installed" -v c="$done_" 'BEGIN {
  printf "first run (%s): npm ci %.0f s, npm run demo %.0f s, in all %.0f s\n", m, b - a, c - b, c - a }'
grep -E "Temporal CLI|downloading|building|could not fetch|conversations generated" "$work/demo.log" | head -5 || true
rm -rf "$work"
