#!/bin/sh
# Renders nginx/nginx.conf (the template scripts/lib/nginx.ts renders for `npm start`) for a
# container, then runs nginx in the foreground. Arguments go on to nginx (`-t` tests the result).
#   LISTEN_PORT      the port to listen on, on every interface (8080)
#   BFF_UPSTREAMS    host:port of each BFF replica, space-separated ("bff-1:3000 bff-2:3000")
#   DASHBOARD_ROOT   the dashboard build (/usr/share/pdash)
#   RUNTIME_DIR      pid, temp files, the rendered config; must be writable (/tmp/nginx)
#   NGINX_TEMPLATE   the template (/etc/pdash/nginx.conf); NGINX_BIN, nginx itself (nginx)
set -eu

: "${LISTEN_PORT:=8080}" "${BFF_UPSTREAMS:=bff:3000}" "${DASHBOARD_ROOT:=/usr/share/pdash}"
: "${RUNTIME_DIR:=/tmp/nginx}" "${NGINX_TEMPLATE:=/etc/pdash/nginx.conf}" "${NGINX_BIN:=nginx}"

for dir in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$RUNTIME_DIR/$dir"; done
# The access log goes to the container's output, like the error log (stderr).
ln -sf /dev/stdout "$RUNTIME_DIR/access.log"

servers=""
for upstream in $BFF_UPSTREAMS; do
  servers="$servers${servers:+
}    server $upstream max_fails=1 fail_timeout=2s;"
done
[ -n "$servers" ] || { echo "BFF_UPSTREAMS names no BFF replica" >&2; exit 1; }

# No user directive: the container already runs as an unprivileged user. The template listens on
# loopback (right for `npm start`); in a container Nginx must be reachable from outside it.
LISTEN_PORT="$LISTEN_PORT" BFF_SERVERS="$servers" DASHBOARD_ROOT="$DASHBOARD_ROOT" RUNTIME_DIR="$RUNTIME_DIR" USER_DIRECTIVE="" \
  awk '
    function fill(line, name,   at, key) {
      key = "${" name "}"
      while ((at = index(line, key)) > 0) line = substr(line, 1, at - 1) ENVIRON[name] substr(line, at + length(key))
      return line
    }
    {
      line = $0
      line = fill(line, "LISTEN_PORT"); line = fill(line, "BFF_SERVERS"); line = fill(line, "DASHBOARD_ROOT")
      line = fill(line, "RUNTIME_DIR"); line = fill(line, "USER_DIRECTIVE")
      sub(/listen 127\.0\.0\.1:/, "listen ", line)
      print line
    }
  ' "$NGINX_TEMPLATE" > "$RUNTIME_DIR/nginx.conf"

exec "$NGINX_BIN" -p "$RUNTIME_DIR" -c "$RUNTIME_DIR/nginx.conf" -e stderr "$@"
