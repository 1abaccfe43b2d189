# syntax=docker/dockerfile:1
# staging-refresh: build with dev dependencies, run with production ones only.
# PG_MAJORS: the PostgreSQL client majors installed side by side. A run restores with the staging
# server's own major (pg_restore 17 begins every restore with a setting 16 and older lack), and
# needs one at least as new as the production pg_dump: list the majors your servers run.
ARG NODE_VERSION=24
ARG PG_MAJORS="15 16 17 18"

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
ARG PG_MAJORS
# PostgreSQL client tools from the PostgreSQL project's Debian repository (any supported major),
# git for migrations.git sources, tini as PID 1 so SIGTERM reaches node and children are reaped.
RUN test -n "${PG_MAJORS}" \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg git tini \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends $(for major in ${PG_MAJORS}; do echo "postgresql-client-${major}"; done) \
 && apt-get purge -y curl gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
# No PG_BIN: the run chooses among /usr/lib/postgresql/*/bin per staging server (PG_BIN pins one).
ENV NODE_ENV=production
# glibc raises its mmap threshold after each large free, up to 32 MiB, and from then serves the
# masked blocks (MBs each) from its heap, whose pages it keeps: a run's peak RSS grew with the
# dump (204 / 224 / 257 MiB at 0.5M / 2M / 8M orders) while its live buffers did not. A fixed
# 128 KiB threshold gives such blocks back as they are freed: 185 / 210 / 220 MiB (`npm run bench`).
ENV MALLOC_MMAP_THRESHOLD_=131072
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
