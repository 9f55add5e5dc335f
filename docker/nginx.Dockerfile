# syntax=docker/dockerfile:1
# Nginx with the built dashboard, in front of the BFF replicas:
#   docker build -f docker/nginx.Dockerfile -t pdash/nginx .
# Its configuration is nginx/nginx.conf, the same template `npm start` uses, filled in at start
# by docker/nginx-entrypoint.sh from BFF_UPSTREAMS (host:port of each replica, space-separated).

# The dashboard, built with the whole workspace's dev dependencies (vite, the Solid compiler).
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json ./
COPY proto/package.json proto/
COPY contracts/package.json contracts/
COPY backend/package.json backend/
COPY backend/shared/package.json backend/shared/
COPY bff/package.json bff/
COPY dashboard/package.json dashboard/
COPY scripts/package.json scripts/
COPY tests/support/package.json tests/support/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY proto proto
COPY contracts contracts
COPY backend backend
COPY bff bff
COPY dashboard dashboard
RUN npm run build -w @pdash/dashboard

FROM nginx:1.27-alpine AS runtime
ENV LISTEN_PORT=8080 \
    BFF_UPSTREAMS="bff:3000" \
    DASHBOARD_ROOT=/usr/share/pdash \
    RUNTIME_DIR=/tmp/nginx \
    NGINX_TEMPLATE=/etc/pdash/nginx.conf \
    NGINX_RENDER=/etc/pdash/render.sh
COPY nginx/nginx.conf nginx/render.sh /etc/pdash/
COPY --chmod=755 docker/nginx-entrypoint.sh /usr/local/bin/pdash-nginx
COPY --from=build /app/dashboard/dist /usr/share/pdash
USER nginx
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD wget -q -O /dev/null "http://127.0.0.1:${LISTEN_PORT}/" || exit 1
ENTRYPOINT ["/usr/local/bin/pdash-nginx"]
