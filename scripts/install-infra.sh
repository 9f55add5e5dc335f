#!/usr/bin/env bash
# Installs what pdash needs beside npm packages, skipping whatever is already there:
# redis-server, nginx, chromium and docker-compose from Debian, and FerretDB 1.24.2 (a
# MongoDB-compatible server with an embedded SQLite backend) built from its Go module with one
# upstream bug fixed and our filter/sort/limit/count pushdown added (below). Safe to run again. docker-compose (1.29) is only there to check docker-compose.yml in the tests:
# `docker-compose config` needs no Docker engine.
set -euo pipefail

FERRETDB_VERSION=v1.24.2
TOOLS_DIR="${PDASH_TOOLS_DIR:-$HOME/.local/share/pdash}"
# The build's name says which of our fixes it carries: a new fix gets a new name, so every
# machine rebuilds. Keep in step with FERRETDB_BUILD in scripts/lib/infra.ts.
FERRETDB_BUILD="$FERRETDB_VERSION-pdash4"
FERRETDB_BIN="$TOOLS_DIR/bin/ferretdb-$FERRETDB_BUILD"

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v docker-compose >/dev/null || need_apt+=(docker-compose)
# patch(1) applies our FerretDB changes (scripts/ferretdb/pushdown.patch).
command -v patch >/dev/null || need_apt+=(patch)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing from Debian: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi
# Debian starts the services it installs; pdash runs its own instances on its own ports.
for svc in redis-server nginx; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
  if command -v service >/dev/null; then service "$svc" stop >/dev/null 2>&1 || true; fi
done

if [ ! -x "$FERRETDB_BIN" ]; then
  command -v go >/dev/null || { echo "Go is needed to build FerretDB (https://go.dev/dl/)" >&2; exit 1; }
  echo "building FerretDB $FERRETDB_BUILD (a minute or two, once)"
  # `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds, but the binary panics at
  # start: the module ships without build/version/version.txt, which FerretDB's release tooling
  # writes. So: fetch that same module, add the file as FerretDB's docs say, and build it.
  src_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  build_dir=$(mktemp -d)
  trap 'rm -rf "$build_dir"' EXIT
  cp -r "$src_dir/." "$build_dir/"
  chmod -R u+w "$build_dir"
  echo "$FERRETDB_VERSION" > "$build_dir/build/version/version.txt"
  # The fix: FerretDB 1.24's SQLite backend looks a document up by `_id` with the SQL expression
  # `_ferretdb_sjson->'$._id'`, but its unique `_id` index is on `_ferretdb_sjson->"_id"`. SQLite
  # only uses an index on an expression for that same expression, so every find, update and delete
  # by `_id` scanned the whole table (17 ms for the last of 5,000 documents instead of 0.7 ms; the
  # same symptom was reported for the PostgreSQL backend: FerretDB issue #4646). Both expressions mean the same
  # path; the lookups now say it the way the index does.
  metadata_go="$build_dir/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$metadata_go"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$metadata_go" || { echo "FerretDB source changed: the _id lookup fix did not apply" >&2; exit 1; }
  # Lists that scale (issue 13, pdash2): scripts/ferretdb/pushdown.patch lets the SQLite backend
  # run in SQL, through the indexes, the part of a filter it can say exactly (equality to an
  # ObjectId, string or date, $lt/$lte/$gt/$gte on ObjectIds and dates, $exists, $and, $or), and,
  # when that is the whole filter, the sort and the limit of a find and the count of
  # countDocuments. Which conditions it pushes down is decided by a census of each field's value
  # types (no arrays; sorts only on ObjectIds or dates), so results are those FerretDB computes in
  # Go; the handler still filters and sorts what SQLite returns. See the patch's pushdown.go.
  # pdash4: an index named `<field>_search` also keeps a trigram table (SQLite FTS5) of the field's
  # case-folded values, in step through triggers, and a case-insensitive `$regex` that is a plain
  # string finds its documents through it (substring search without a scan: metadata/search.go);
  # write transactions begin IMMEDIATE (the triggers read first: concurrent writers hit SQLITE_BUSY).
  patch_file="$(cd "$(dirname "$0")" && pwd)/ferretdb/pushdown.patch"
  (cd "$build_dir" && patch -p1 --forward --batch --quiet < "$patch_file") || { echo "FerretDB source changed: scripts/ferretdb/pushdown.patch did not apply" >&2; exit 1; }
  mkdir -p "$TOOLS_DIR/bin"
  (cd "$build_dir" && GOFLAGS=-buildvcs=false go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
fi
# Its first line only, without a pipe: under pipefail, `… --version | head -1` failed whenever head
# exited before FerretDB finished writing (SIGPIPE; 6 of 100 runs). scripts/infra-version.test.ts
bash "$(dirname "$0")/ferretdb-version.sh" "$FERRETDB_BIN"
echo "infra ready"
