# syntax=docker/dockerfile:1.7
# One recipe for every Lotty process. The SERVICE build argument picks what the container runs:
#   experiment | decision | metrics | guardrail | notification | embedded | cli
#   docker build --build-arg SERVICE=decision -t lotty/decision:0.1.0 .
# There is no build step: TypeScript runs through tsx at start-up, so the image carries sources.
ARG NODE_IMAGE=node:20-bookworm-slim

# The sources, plus the package manifests alone in /manifests: the dependency stages copy only
# those, so their npm ci layers are rebuilt when a package.json or the lockfile changes, not on
# every source edit.
FROM ${NODE_IMAGE} AS source
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && find . -name package.json -not -path "*/node_modules/*" -exec cp --parents {} /manifests/ \; \
 && cp package-lock.json /manifests/

# tsx is a devDependency (tests and scripts use it too), so `npm ci --omit=dev` drops it, and
# shipping the whole dev tree would add several hundred MB (buf binaries, typescript, vitest).
# So the full tree is installed here only to lift tsx and its dependency closure out of it:
# esbuild and its platform binary in @esbuild/ (test/deploy checks this list against the
# lockfile). Scripts are skipped: esbuild finds its binary in @esbuild/<platform> without them.
FROM ${NODE_IMAGE} AS dev-deps
WORKDIR /app
COPY --from=source /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --ignore-scripts

# Production dependencies of the runtime workspaces (bench's load-test clients stay out).
# Scripts are skipped because the root postinstall's file is not in this manifests-only stage (it
# runs just below) and the only production dependency with a script (protobufjs) merely checks
# its version.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=source /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace=libs --workspace=services --workspace=apps
COPY --from=dev-deps /app/node_modules/tsx ./node_modules/tsx
COPY --from=dev-deps /app/node_modules/esbuild ./node_modules/esbuild
COPY --from=dev-deps /app/node_modules/@esbuild ./node_modules/@esbuild
# The root postinstall: an empty embedded-Postgres cluster (~4 MB) that the embedded image
# unpacks on first start instead of running initdb.
COPY --from=source /src/scripts/pglite-template.mjs ./scripts/
RUN node scripts/pglite-template.mjs

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
WORKDIR /app
# LOTTY_HOST: listen on every interface, not the loopback default. LOTTY_DATA_DIR: where the
# embedded image keeps its PGlite data (mount a volume there).
ENV NODE_ENV=production \
    LOTTY_SERVICE=${SERVICE} \
    LOTTY_HOST=0.0.0.0 \
    LOTTY_DATA_DIR=/data
# Dependencies first (a stable layer), then the sources. Everything stays owned by root, so the
# process cannot rewrite its own code.
COPY --from=prod-deps /app/ ./
COPY --from=source /src/package.json /src/tsconfig.base.json /src/tsconfig.json ./
COPY --from=source /src/libs/ ./libs/
COPY --from=source /src/services/ ./services/
COPY --from=source /src/apps/ ./apps/
COPY --from=source /src/deploy/docker/ ./deploy/docker/
# Fails the build on an unknown SERVICE or a missing entry file, not at first start.
RUN sh deploy/docker/entrypoint.sh --check \
 && mkdir -p /data && chown 1000:1000 /data
# The node image's unprivileged "node" user, numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# slim has no curl: node's fetch asks GET /healthz (503 while draining). The cli image has no
# server; its check always passes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
# sh execs node, so node is PID 1 and receives SIGTERM itself (the services drain on it).
ENTRYPOINT ["sh", "deploy/docker/entrypoint.sh"]
