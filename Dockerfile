# One image for Holvi's services (api, worker, migrate, tools) and the Expenzy simulator;
# docker-compose.yml chooses the command of each service, the default is the Holvi API.
#   build     all dependencies; `npm run build`: tsc to dist/, the workflow bundle prebuilt
#   deps      production dependencies only (npm ci --omit=dev)
#   runtime   dist/ + those, NODE_ENV=production, the unprivileged `node` user, tini as PID 1
# Node 24 LTS, pinned to a patch release; bump NODE_IMAGE (and tini with Debian) deliberately.
# @temporalio/core-bridge ships prebuilt binaries for linux glibc x64/arm64, which this Debian
# (bookworm) image is.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY src ./src
COPY expenzy ./expenzy
COPY tools ./tools
COPY migrations ./migrations
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# @temporalio/core-bridge ships its native library for every platform and its Rust sources
# (about 120 MiB): keep this architecture's library only.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
  && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 \
    ! -name "$(uname -m)-unknown-linux-gnu" -exec rm -rf {} + \
  && rm -rf node_modules/@temporalio/core-bridge/sdk-core node_modules/@temporalio/core-bridge/src

FROM ${NODE_IMAGE} AS runtime
# tini reaps zombies and passes SIGTERM on to node, so that a stopping worker drains its
# activities (WORKER_SHUTDOWN_GRACE) and the API sends the signals it acknowledged.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service user: the services write nothing here.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY docker/healthcheck.js ./docker/healthcheck.js
# 1000 is the image's `node` user (numeric, so that a runtime can check it is not root).
USER 1000:1000
EXPOSE 5001 5002 5003
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/api/server.js"]
