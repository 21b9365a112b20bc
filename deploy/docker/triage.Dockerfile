# syntax=docker/dockerfile:1
# Steward triage: Node 24 runs the TypeScript sources directly (type stripping, ADR 0001), so there is no
# build step, only a production install. Build from the repository root:
#   docker build -f deploy/docker/triage.Dockerfile -t steward-triage .
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Every workspace's manifest, so the install matches package-lock.json (scripts/check-deploy.ts checks
# this list against the workspaces); the sources come later and do not bust this layer's cache.
COPY package.json package-lock.json ./
COPY libs/auth/package.json libs/auth/
COPY libs/config/package.json libs/config/
COPY libs/http/package.json libs/http/
COPY libs/messaging/package.json libs/messaging/
COPY libs/store/package.json libs/store/
COPY libs/telemetry/package.json libs/telemetry/
COPY libs/text/package.json libs/text/
COPY libs/testkit/package.json libs/testkit/
COPY proto/package.json proto/
COPY infra/package.json infra/
COPY services/console/package.json services/console/
COPY services/escalation/package.json services/escalation/
COPY services/intake/package.json services/intake/
COPY services/routing/package.json services/routing/
COPY services/triage/package.json services/triage/
COPY test/package.json test/
# `npm install --no-save` rather than `npm ci`, for the reason in scripts/toolchain.sh (npm 11 records only
# the building platform's optional binaries); it still installs exactly the locked versions.
RUN npm install --no-save --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Workspace packages are symlinks in node_modules to libs/, proto/ and services/: Node resolves them to
# their real paths, outside node_modules, where it may strip types.
COPY --from=deps /app/node_modules node_modules
COPY package.json ./
COPY libs libs
COPY proto proto
COPY services/triage services/triage
# The files stay root's and read-only; the process runs as the image's unprivileged `node` user, by
# number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
ENV TRIAGE_HTTP_HOST=0.0.0.0 TRIAGE_HTTP_PORT=8082
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8082/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "services/triage/src/main.ts"]
