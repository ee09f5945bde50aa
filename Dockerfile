# syntax=docker/dockerfile:1
# The Earshot server image: Node 24 LTS, built for linux/arm64 (Fargate Graviton) or whatever --platform asks for.
#   docker buildx build --platform linux/arm64 -t earshot .
# Runs as a non-root user on a read-only root file system: the only writable place it needs is /tmp
# (ECS: readonlyRootFilesystem plus a task volume mounted at /tmp).
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Compile TypeScript on the build machine's own architecture (JavaScript output is the same for every target).
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
# Every workspace's manifest, so `npm ci` sees the same tree as package-lock.json; sources come after (layer cache).
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/flite/package.json packages/flite/
COPY server/package.json server/
COPY testing/elevenlabs-standin/package.json testing/elevenlabs-standin/
COPY bench/package.json bench/
COPY infra/package.json infra/
COPY web/package.json web/
# The repo pins its Node as the `node` dev dependency (for machines whose system Node is older); the image already
# has that Node, and --ignore-scripts leaves the package without its binary, so it is removed.
RUN npm ci --ignore-scripts --no-audit --no-fund \
      --include-workspace-root -w packages/protocol -w packages/flite -w server -w web \
    && rm -rf node_modules/node node_modules/.bin/node
COPY packages/protocol packages/protocol
COPY packages/flite packages/flite
COPY server server
COPY web web
# The server, then the console it serves at / (web/dist).
RUN npx tsc -b server && node server/scripts/bundle.mjs && npm run build -w web

# 2. Production dependencies, installed on the target architecture so any native module matches it.
FROM --platform=$TARGETPLATFORM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/packages/protocol/package.json packages/protocol/
COPY --from=build /app/packages/flite/package.json packages/flite/
COPY --from=build /app/server/package.json server/
COPY --from=build /app/testing/elevenlabs-standin/package.json testing/elevenlabs-standin/
COPY --from=build /app/bench/package.json bench/
COPY --from=build /app/infra/package.json infra/
COPY --from=build /app/web/package.json web/
RUN npm ci --omit=dev --no-audit --no-fund -w packages/protocol -w packages/flite -w server \
    && npm cache clean --force

# 3. Runtime: compiled output and production node_modules only.
FROM --platform=$TARGETPLATFORM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    EARSHOT_DATA_DIR=/tmp/earshot
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/packages/protocol/package.json packages/protocol/
COPY --from=build --chown=root:root /app/packages/protocol/dist packages/protocol/dist
COPY --from=build --chown=root:root /app/packages/flite/package.json packages/flite/
COPY --from=build --chown=root:root /app/packages/flite/dist packages/flite/dist
COPY --from=build --chown=root:root /app/server/package.json server/
COPY --from=build --chown=root:root /app/server/dist server/dist
COPY --from=build --chown=root:root /app/web/dist web/dist
# The image's files stay root-owned and read-only to the process; it runs as the node image's unprivileged user.
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM directly, so speech can drain within the task's stop timeout.
CMD ["node", "server/dist/bundle/main.js", "serve"]
