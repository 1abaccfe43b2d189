# syntax=docker/dockerfile:1
# staging-refresh: build with dev dependencies, run with production ones only.
# PG_MAJOR picks the PostgreSQL client tools; pg_restore must be at least as new as the
# production pg_dump (a newer pg_restore reads older archives).
ARG NODE_VERSION=24
ARG PG_MAJOR=17

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# The WebAssembly kernels are compiled from their .wat sources by the build (scripts/build-wasm.ts).
COPY scripts/build-wasm.ts ./scripts/build-wasm.ts
COPY scripts/lib/wat.ts ./scripts/lib/wat.ts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ARG PG_MAJOR
# PostgreSQL client tools from the PostgreSQL project's Debian repository (any supported major),
# git for migrations.git sources, tini as PID 1 so SIGTERM reaches node and children are reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg git tini \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}" \
 && apt-get purge -y curl gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PG_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config/example.yaml ./config/example.yaml
RUN install -d -o node -g node /var/lib/staging-refresh
USER node
VOLUME ["/var/lib/staging-refresh"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli.js"]
CMD ["run", "--config", "/etc/staging-refresh/config.yaml"]
