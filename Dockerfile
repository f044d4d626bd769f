# syntax=docker/dockerfile:1
# The operator image: `nimop run` on Node.js 20, as user 65532, with no shell or package manager.
#
#   docker build -t ghcr.io/nim-operator/nim-operator:$(node -p "require('./package.json').version") .
#
# Build arguments pin the base images; override them to use a mirror in an air-gapped registry.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# 1. Compile the TypeScript to dist/ (dev dependencies needed: typescript).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only. --ignore-scripts: the "prepare" script would try to build again.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. The runtime: distroless Node.js (no shell), non-root.
FROM ${RUNTIME_IMAGE}
WORKDIR /opt/nim-operator
ENV NODE_ENV=production
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json package-lock.json ./
COPY bin ./bin
# The CRDs of this version, for an upgrade job or `kubectl cp`: /opt/nim-operator/deploy/crds.
COPY deploy/crds ./deploy/crds
USER 65532:65532
EXPOSE 8080 8081 9443
ENTRYPOINT ["/nodejs/bin/node", "bin/nimop.js", "run"]
