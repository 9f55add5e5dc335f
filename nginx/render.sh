#!/bin/sh
# The one renderer of nginx/nginx.conf: fills its ${PLACEHOLDERS} and writes "$RUNTIME_DIR/nginx.conf".
# `npm start` and the tests run it through scripts/lib/nginx.ts; the image through
# docker/nginx-entrypoint.sh. POSIX sh with no awk, sed or grep (only mkdir), so that dash, bash
# and the image's BusyBox ash run it alike.
#   LISTEN_PORT     the port to listen on (8080)
#   LISTEN_HOST     the address to listen on; empty: every interface
#   BFF_UPSTREAMS   host:port of each BFF replica, space-separated
#   DASHBOARD_ROOT  the dashboard build
#   RUNTIME_DIR     pid, temp folders, access log and the rendered config (made when missing)
#   NGINX_USER      the user Nginx's workers run as; empty: no `user` directive (they stay whoever
#                   starts Nginx, which only matters to root)
#   NGINX_TEMPLATE  the template (nginx.conf beside this script)
set -eu

: "${LISTEN_PORT:=8080}" "${LISTEN_HOST:=}" "${NGINX_USER:=}" "${BFF_UPSTREAMS:=}"
: "${DASHBOARD_ROOT:?DASHBOARD_ROOT is not set}" "${RUNTIME_DIR:?RUNTIME_DIR is not set}"
: "${NGINX_TEMPLATE:=${0%/*}/nginx.conf}"

case $LISTEN_PORT in '' | *[!0-9]*) echo "LISTEN_PORT must be a port number, not \"$LISTEN_PORT\"" >&2; exit 1 ;; esac

BFF_SERVERS=""
for upstream in $BFF_UPSTREAMS; do
  BFF_SERVERS="$BFF_SERVERS${BFF_SERVERS:+
}    server $upstream max_fails=1 fail_timeout=2s;"
done
[ -n "$BFF_SERVERS" ] || { echo "BFF_UPSTREAMS names no BFF replica" >&2; exit 1; }
LISTEN="${LISTEN_HOST:+$LISTEN_HOST:}$LISTEN_PORT"
USER_DIRECTIVE="${NGINX_USER:+user $NGINX_USER;}"

# filled=$1 with every ${$2} replaced by $3
fill() {
  rest=$1 filled=""
  while :; do
    case $rest in
      *"\${$2}"*)
        filled="$filled${rest%%"\${$2}"*}$3"
        rest=${rest#*"\${$2}"}
        ;;
      *) filled="$filled$rest"; return ;;
    esac
  done
}

for dir in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$RUNTIME_DIR/$dir"; done
{
  while IFS= read -r line || [ -n "$line" ]; do
    fill "$line" USER_DIRECTIVE "$USER_DIRECTIVE"
    fill "$filled" LISTEN "$LISTEN"
    fill "$filled" BFF_SERVERS "$BFF_SERVERS"
    fill "$filled" DASHBOARD_ROOT "$DASHBOARD_ROOT"
    fill "$filled" RUNTIME_DIR "$RUNTIME_DIR"
    case $filled in *'${'[A-Z]*'}'*) echo "$NGINX_TEMPLATE: a placeholder this renderer does not know: $filled" >&2; exit 1 ;; esac
    printf '%s\n' "$filled"
  done < "$NGINX_TEMPLATE"
} > "$RUNTIME_DIR/nginx.conf"
