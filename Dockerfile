# Gatehouse image. Build: docker build -t gatehouse .   Run: see compose.yaml and README.md.
# Install is exactly .ci/run's (npm install, not npm ci: see the comment there); the runtime is
# the Node 24 pinned by the `node` npm package, run directly (no npm at run time: npm wants a
# writable home, and the root filesystem may be read-only).

FROM node:24-bookworm-slim AS install
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    KEYS_DIR=/run/gatehouse/keys
COPY --from=install /app/node_modules ./node_modules
COPY package.json ./
COPY db ./db
COPY server ./server
# Keys are never baked in: mount them at KEYS_DIR (production refuses to generate them).
RUN mkdir -p /run/gatehouse/keys && chown node:node /run/gatehouse/keys
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node_modules/.bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM (docker stop) drains: readiness 503, requests in flight finish, database closes.
STOPSIGNAL SIGTERM
CMD ["node_modules/.bin/node", "server/main.ts"]
