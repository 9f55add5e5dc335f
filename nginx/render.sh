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
#   PDASH_HOSTS     the names it answers for, comma-separated (127.0.0.1,localhost); any other
#                   Host gets 421. A name may start with `*.` or `.`, as in server_name.
#   TRUSTED_PROXIES the proxies in front of it (CIDRs, comma-separated; none by default) whose
#                   X-Forwarded-For names the client (set_real_ip_from)
#   AUTH_RATE       sign-ups and logins a second per client address (5), after a burst of
#   AUTH_BURST      (20); more get 429
#   NGINX_TEMPLATE  the template (nginx.conf beside this script)
set -eu

: "${LISTEN_PORT:=8080}" "${LISTEN_HOST:=}" "${NGINX_USER:=}" "${BFF_UPSTREAMS:=}"
: "${PDASH_HOSTS:=127.0.0.1,localhost}" "${TRUSTED_PROXIES:=}" "${AUTH_RATE:=5}" "${AUTH_BURST:=20}"
: "${DASHBOARD_ROOT:?DASHBOARD_ROOT is not set}" "${RUNTIME_DIR:?RUNTIME_DIR is not set}"
: "${NGINX_TEMPLATE:=${0%/*}/nginx.conf}"

case $LISTEN_PORT in '' | *[!0-9]*) echo "LISTEN_PORT must be a port number, not \"$LISTEN_PORT\"" >&2; exit 1 ;; esac
TAB=$(printf '\t'); NL='
'
# Every value is checked before it is written into the configuration: a `;`, a brace, a quote or
# a space would add directives of its own.
case $LISTEN_HOST in *[!0-9A-Za-z.:-]*) echo "LISTEN_HOST: \"$LISTEN_HOST\" is not an address" >&2; exit 1 ;; esac
case $NGINX_USER in *[!a-z0-9_-]*) echo "NGINX_USER: \"$NGINX_USER\" is not a user name" >&2; exit 1 ;; esac
for path in "$DASHBOARD_ROOT" "$RUNTIME_DIR"; do
  case $path in /*) ;; *) echo "DASHBOARD_ROOT and RUNTIME_DIR must be absolute paths, not \"$path\"" >&2; exit 1 ;; esac
  case $path in
    *';'* | *'{'* | *'}'* | *'"'* | *"'"* | *'$'* | *'#'* | *'\'* | *' '* | *"$TAB"* | *"$NL"*)
      echo "\"$path\": a folder for Nginx may not hold spaces, quotes or any of ; { } \$ # \\" >&2; exit 1 ;;
  esac
done
case $AUTH_RATE in '' | 0 | *[!0-9]*) echo "AUTH_RATE must be a whole number of requests a second, not \"$AUTH_RATE\"" >&2; exit 1 ;; esac
case $AUTH_BURST in '' | *[!0-9]*) echo "AUTH_BURST must be a whole number, not \"$AUTH_BURST\"" >&2; exit 1 ;; esac

BFF_SERVERS=""
for upstream in $BFF_UPSTREAMS; do
  case $upstream in *[!A-Za-z0-9.:_-]*) echo "BFF_UPSTREAMS: \"$upstream\" is not host:port" >&2; exit 1 ;; esac
  BFF_SERVERS="$BFF_SERVERS${BFF_SERVERS:+
}    server $upstream max_fails=1 fail_timeout=2s;"
done
[ -n "$BFF_SERVERS" ] || { echo "BFF_UPSTREAMS names no BFF replica" >&2; exit 1; }
LISTEN="${LISTEN_HOST:+$LISTEN_HOST:}$LISTEN_PORT"

# Each name and proxy is checked before it is written into the configuration: a `;` or a space
# would add directives of its own.
KNOWN_HOSTS=""
old_ifs=$IFS; IFS=,
set -f # `*.example.com` is a name here, not a file pattern
for name in $PDASH_HOSTS; do
  case $name in
    '' | *[!A-Za-z0-9.*_-]* | default | hostnames | include | volatile) echo "PDASH_HOSTS: \"$name\" is not a host name" >&2; exit 1 ;;
  esac
  KNOWN_HOSTS="$KNOWN_HOSTS${KNOWN_HOSTS:+
}    $name 1;"
done
REAL_IP=""
for proxy in $TRUSTED_PROXIES; do
  case $proxy in '' | *[!0-9A-Fa-f.:/]*) echo "TRUSTED_PROXIES: \"$proxy\" is not an address or CIDR" >&2; exit 1 ;; esac
  REAL_IP="$REAL_IP  set_real_ip_from $proxy;
"
done
IFS=$old_ifs
set +f
[ -n "$KNOWN_HOSTS" ] || { echo "PDASH_HOSTS names no host" >&2; exit 1; }
[ -z "$REAL_IP" ] || REAL_IP="${REAL_IP}  real_ip_header X-Forwarded-For;
  real_ip_recursive on;"
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
    fill "$filled" KNOWN_HOSTS "$KNOWN_HOSTS"
    fill "$filled" REAL_IP "$REAL_IP"
    fill "$filled" AUTH_RATE "$AUTH_RATE"
    fill "$filled" AUTH_BURST "$AUTH_BURST"
    case $filled in *'${'[A-Z]*'}'*) echo "$NGINX_TEMPLATE: a placeholder this renderer does not know: $filled" >&2; exit 1 ;; esac
    printf '%s\n' "$filled"
  done < "$NGINX_TEMPLATE"
} > "$RUNTIME_DIR/nginx.conf"
