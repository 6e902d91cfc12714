#!/usr/bin/env bash
# Builds and installs two third-party PostgreSQL extensions into Debian's PostgreSQL 15, so the tests can emulate a
# managed provider's non-superuser admin (test/support/providers.ts):
#   - aiven_extras (Apache-2.0, github.com/aiven/aiven-extras @ 0d6b29f): SECURITY DEFINER functions that let a
#     non-superuser create publications and subscriptions; preinstalled on Aiven for PostgreSQL.
#   - pgextwlist (PostgreSQL licence, github.com/dimitri/pgextwlist @ 31686ff): lets a non-superuser CREATE
#     EXTENSION for names in `extwlist.extensions` (the mechanism behind "allow-listed extensions").
# Sources: the tarballs next to this script (licences inside them, copies in ./licenses; see ./README.md). Needs
# root (or sudo) to write PostgreSQL's directories; installs make, a C compiler and postgresql-server-dev-15 through
# apt when they are missing. Called by .ci/run.
#
# Usage: install-pg-extensions.sh [--check]   (--check: exit 0 when both are installed, 1 otherwise; builds nothing)
#
# A cluster emulating Aiven is started with (test/support/providers.ts does it):
#   shared_preload_libraries = 'pgextwlist'
#   extwlist.extensions = 'aiven_extras,dblink,...'
#   extwlist.custom_path = '/usr/share/postgresql/15/extwlist'   (installed from ./extwlist; its
#       aiven_extras/after-create.sql grants the database owner USAGE on schema aiven_extras, as the provider's
#       admin user has it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
libdir=$("$PG_CONFIG" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
sharedir=$("$PG_CONFIG" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
installed() { [ -f "$libdir/aiven_extras.so" ] && [ -f "$sharedir/extension/aiven_extras.control" ] && [ -f "$libdir/pgextwlist.so" ] \
  && [ -f "$sharedir/extwlist/aiven_extras/after-create.sql" ]; }
if [ "${1:-}" = --check ]; then installed && exit 0 || exit 1; fi
if installed; then echo "aiven_extras and pgextwlist already installed in $libdir"; exit 0; fi

need=()
[ -f /usr/include/postgresql/15/server/postgres.h ] || need+=(postgresql-server-dev-15)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc libc6-dev)   # PGXS builds with CC = gcc (and clang-14 for the bitcode, a dependency of the -dev package)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing ${need[*]} (to build the extensions)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for tarball in "$here"/aiven-extras-*.tar.gz "$here"/pgextwlist-*.tar.gz; do
  tar -xzf "$tarball" -C "$work"
done
# aiven_extras' Makefile derives a version from `git describe`; outside a checkout that is harmless noise.
(cd "$work/aiven-extras" && make -s PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 && as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null)
(cd "$work/pgextwlist" && make -s PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 && as_root make -s install PG_CONFIG="$PG_CONFIG" >/dev/null)
# The custom scripts must be readable by the server's OS user: copy them next to the extensions.
as_root mkdir -p "$sharedir/extwlist" && as_root cp -r "$here/extwlist/." "$sharedir/extwlist/" && as_root chmod -R a+rX "$sharedir/extwlist"
installed && echo "installed aiven_extras and pgextwlist into $libdir" || { echo "install failed" >&2; exit 1; }
