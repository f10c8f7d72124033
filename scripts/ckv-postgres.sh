#!/bin/sh
# Start (or stop) a throwaway PostgreSQL cluster on loopback for the service tests.
#
#   scripts/ckv-postgres.sh start DIR PORT   -> prints the connection URL on stdout
#   scripts/ckv-postgres.sh stop DIR
#
# Installs the Debian package postgresql if no server binaries are found (needs
# apt-get and root). The cluster runs as an unprivileged user (the `postgres`
# account the package creates, else `nobody`), listens on 127.0.0.1 only, and
# trusts local connections: it is for tests, never for data you keep.
set -eu
action=${1:?usage: ckv-postgres.sh start DIR PORT | stop DIR}
dir=${2:?data directory}
port=${3:-54329}

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && bindir=$candidate
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
    bindir=$(dirname "$(command -v initdb)")
fi
if [ -z "$bindir" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing postgresql (apt-get)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
        for candidate in /usr/lib/postgresql/*/bin; do
            [ -x "$candidate/initdb" ] && bindir=$candidate
        done
    fi
fi
if [ -z "$bindir" ]; then
    echo "no PostgreSQL server binaries, and they cannot be installed here" >&2
    exit 3
fi

user=$(id -un)
run() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
    run() { su -s /bin/sh "$user" -c "$*"; }
fi

case "$action" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$user" "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        run "$bindir/initdb -D '$dir' -A trust -U ckv --no-sync -E UTF8" >/dev/null
    fi
    if ! run "$bindir/pg_ctl -D '$dir' status" >/dev/null 2>&1; then
        run "$bindir/pg_ctl -D '$dir' -l '$dir/server.log' -w -t 60 start \
            -o \"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=200\"" >/dev/null
    fi
    echo "postgresql://ckv@127.0.0.1:$port/postgres"
    ;;
stop)
    run "$bindir/pg_ctl -D '$dir' -m fast -w stop" >/dev/null 2>&1 || true
    ;;
*)
    echo "unknown action $action" >&2
    exit 2
    ;;
esac
