# credential-rotator: the worker image.
# Build:  docker build -t credential-rotator .
# Run:    docker run --rm -e ROTATOR_CONFIG=/config/inventory.yaml -e REDIS_URL=… -v ./inventory.yaml:/config/inventory.yaml:ro credential-rotator
# No secret is baked in: credentials come from the AWS SDK's chain (an IAM role on EKS) and the
# environment at run time.

# --- build: compile TypeScript to JavaScript -------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY jobs jobs
RUN npx tsc -p tsconfig.build.json

# --- runtime: production dependencies and the compiled code only, as a non-root user -----------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ROTATOR_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: TypeScript comes in as an optional peer of a dependency and is not needed at run time.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist dist
COPY bin bin
COPY examples examples
# The image's own unprivileged user (uid 1000); the chart also runs it with a read-only root filesystem.
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/rotator.mjs"]
CMD ["worker"]
