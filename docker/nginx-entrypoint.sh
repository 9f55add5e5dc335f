#!/bin/sh
# The Nginx image's entrypoint: renders nginx/nginx.conf with nginx/render.sh (the same renderer
# `npm start` uses; its variables are described there), then runs Nginx in the foreground.
# Arguments go on to nginx (`-t` tests the result).
#   NGINX_RENDER  the renderer (/etc/pdash/render.sh); NGINX_BIN, nginx itself (nginx)
set -eu

export LISTEN_PORT="${LISTEN_PORT:-8080}" BFF_UPSTREAMS="${BFF_UPSTREAMS:-bff:3000}"
export DASHBOARD_ROOT="${DASHBOARD_ROOT:-/usr/share/pdash}" RUNTIME_DIR="${RUNTIME_DIR:-/tmp/nginx}"
# Every interface (the container's network is its boundary); no user directive: the container
# already runs as an unprivileged user.
export LISTEN_HOST="" NGINX_USER=""
sh "${NGINX_RENDER:-/etc/pdash/render.sh}"
# The access log goes to the container's output, like the error log (stderr).
ln -sf /dev/stdout "$RUNTIME_DIR/access.log"

exec "${NGINX_BIN:-nginx}" -p "$RUNTIME_DIR" -c "$RUNTIME_DIR/nginx.conf" -e stderr "$@"
