# Gatehouse image. Build: docker build -t gatehouse .   Run: see compose.yaml and docs/operations.md.
# The build stage bundles the server and the CLI (npm run build: dist/); the runtime stage holds the
# production dependencies only and runs the bundle on the base image's Node 24, without npm.
#
# npm install, not npm ci: the lockfile lacks @node-rs/bcrypt's packages for other platforms (see
# .ci/run), which npm ci refuses. npm install keeps the lockfile's versions and adds the binary for
# the platform being built.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    KEYS_DIR=/run/gatehouse/keys
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one (the one there is, @scarf/scarf's, only
# reports installs).
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at run time from beside the sources, should the bundle not carry its own copies in dist/.
COPY db/migrations ./db/migrations
COPY server/mail/templates ./server/mail/templates
# Keys are never baked in: ENCRYPTION_KEY, or a KEYS_DIR mounted here (production refuses to make one).
RUN mkdir -p /run/gatehouse/keys && chown node:node /run/gatehouse/keys
USER node
EXPOSE 3000
# Liveness; compose.yaml checks readiness (/readyz) instead.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM (docker stop) drains: readiness 503, requests in flight finish, database closes.
STOPSIGNAL SIGTERM
# The start script's flags: stack traces through the source maps, V8's young generation capped.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=16", "dist/main.js"]
