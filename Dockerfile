# syntax=docker/dockerfile:1
# graph-meetings as a container image (README, "Container image"). Two stages: the build stage installs every
# dependency (the compiler and the type definitions are dev dependencies) and compiles; the runtime stage holds
# Node, the production dependencies and the compiled JavaScript, nothing else (no sources, source maps, tests
# or build tools). scripts/container-test.sh builds and runs this file unchanged.

FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 is compiled when no prebuilt binary can be downloaded; node-gyp then needs these, and the
# Node headers that the node image ships in /usr/local/include/node (so it never downloads them).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# The dependencies first, from the lockfile, so that this layer is reused while only the sources change.
# Scripts are skipped (a `prepare` that builds would run before the sources are here), then the one native
# dependency is built. Behind a TLS-intercepting proxy, pass its CA as a build secret:
#   docker build --secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt .
# (a secret is mounted for this step only and never stored in a layer).
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi \
 && npm ci --ignore-scripts \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
# No source maps in the image (they would point at sources it does not hold), and no TypeScript sources, tests
# or source maps of the dependencies either: only what runs.
RUN npx tsc -p tsconfig.build.json --sourceMap false \
 && find dist -name '*.map' -delete \
 && npm prune --omit=dev --ignore-scripts \
 && find node_modules \( -name '*.map' -o -name '*.test.*' -o -name '*.ts' ! -name '*.d.ts' -o -name '*.mts' ! -name '*.d.mts' \
      -o -name '*.cts' ! -name '*.d.cts' \) -type f -delete \
 && find node_modules -type d \( -name test -o -name tests -o -name __tests__ \) -prune -exec rm -rf {} + \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src node_modules/better-sqlite3/build/Release/obj* \
      node_modules/better-sqlite3/build/Release/.deps node_modules/better-sqlite3/build/Release/test_extension.node

FROM node:22-bookworm-slim
LABEL org.opencontainers.image.title="graph-meetings" \
      org.opencontainers.image.description="Microsoft Graph onlineMeetings API and emulated Entra ID" \
      org.opencontainers.image.licenses="MIT"
# The same variables as the README's configuration table; these are the container's defaults: every interface,
# port 8443, state in the /data volume. PUBLIC_URL is the origin clients use (default https://127.0.0.1:8443,
# which suits `-p 8443:8443`); set it to the name clients reach the container by (e.g. https://graph-meetings:8443
# in a compose network) so that join links use it and the local server certificate covers it.
# MALLOC_MMAP_THRESHOLD_: glibc serves allocations of 8 MiB and more with their own mappings, returned to the
# system when freed. Each password hash (scrypt) takes 16 MiB; under glibc's default, moving threshold such a buffer
# stays in the hashing thread's arena after the first one, up to 16 MiB per thread-pool thread for good (README
# "Idle memory", issue #20).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8443 \
    DATA_DIR=/data \
    MALLOC_MMAP_THRESHOLD_=8388608
WORKDIR /app
# Root owns the application (the service cannot rewrite itself); the non-root `node` user of the base image
# owns only /data.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY scripts/healthcheck.mjs ./healthcheck.mjs
# `graph-meetings` on the PATH: the admin CLI, e.g. `docker exec <container> graph-meetings tenant list`.
RUN ln -s /app/bin/graph-meetings.js /usr/local/bin/graph-meetings \
 && mkdir -p /data && chown node:node /data
USER node
# The embedded SQLite database, the local CA (/data/tls/ca.pem, for clients to trust) and the server
# certificate. With DATABASE_URL only the TLS files live here.
VOLUME ["/data"]
EXPOSE 8443
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# The package's own start command (README "Using it from tests"): the same configuration as `npm start`.
CMD ["graph-meetings", "start"]
