# credential-rotator: the worker image.
# Build:  docker build -t credential-rotator .
#         docker build --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest> …   (pin the base by digest)
#         docker build --build-arg DASHBOARD_PACKAGES=include …   (with the BullMQ dashboard's packages)
# Run:    docker run --rm --read-only --tmpfs /tmp -e ROTATOR_CONFIG=/config/inventory.yaml -e REDIS_URL=… -v ./inventory.yaml:/config/inventory.yaml:ro credential-rotator
# No secret is baked in: credentials come from the AWS SDK's chain (an IAM role on EKS) and the
# environment at run time.

# The base of every stage. A tag moves; a digest does not: production builds pass
# NODE_IMAGE=node:24-bookworm-slim@sha256:… so that a rebuild runs the same Node and Debian.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile TypeScript to JavaScript -------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY jobs jobs
RUN npx tsc -p tsconfig.build.json

# --- deps: production dependencies only ------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
# omit (default): without the optional packages, the BullMQ dashboard's among them (68 packages a
# worker never loads while the dashboard is off; docs/decisions.md). include: with them.
ARG DASHBOARD_PACKAGES=omit
WORKDIR /app
COPY package.json package-lock.json ./
RUN case "$DASHBOARD_PACKAGES" in \
      omit) npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts ;; \
      include) npm ci --omit=dev --no-audit --no-fund --ignore-scripts ;; \
      *) echo "DASHBOARD_PACKAGES must be omit or include" >&2; exit 1 ;; \
    esac

# --- runtime: Node, the production dependencies and the compiled code, as a non-root user -------
FROM ${NODE_IMAGE} AS runtime
# No package manager at run time: nothing in a running worker installs packages, and npm, npx,
# corepack and yarn would only be more code to patch and to exploit.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production \
    ROTATOR_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
COPY examples examples
# The image's own unprivileged user (uid 1000); the chart also runs it with a read-only root filesystem.
USER node
EXPOSE 8080
# A young generation of 2 MB per semi-space instead of V8's default of up to 16 MB: start-up (the
# inventory read) allocates fast enough to grow it to the maximum, and the pages stay resident for
# the life of the process. Measured with 1,000 credentials: idle RSS 163 MB → 116 MB (README, Performance).
ENTRYPOINT ["node", "--max-semi-space-size=2", "bin/rotator.mjs"]
CMD ["worker"]
