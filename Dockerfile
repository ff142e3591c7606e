# The dealctl image: the CLI the scheduled ECS Fargate tasks run (`dealctl nightly`, …).
# Stage 1 compiles the TypeScript with the dev dependencies; stage 2 holds only the production
# dependencies (npm ci --omit=dev: no CDK, vitest or tsc), the compiled dist/ and the files read at
# run time next to the code (SQL, the PySpark runner, migration scripts, sample feeds), and runs as
# the unprivileged `node` user.
#   docker build -t dealctl . && docker run --rm dealctl --help

ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Sources as well as dist/: dist links its run-time data files to them (scripts/build.mjs), and
# bin/dealctl.mjs falls back to the sources (through tsx) if the build stamp does not match.
COPY --from=build /app/bin ./bin
COPY --from=build /app/cli ./cli
COPY --from=build /app/core ./core
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/jobs ./jobs
COPY --from=build /app/pipelines ./pipelines
COPY --from=build /app/migration ./migration
COPY --from=build /app/streaming ./streaming
COPY --from=build /app/ingest ./ingest
COPY --from=build /app/catalog ./catalog
COPY --from=build /app/notebooks ./notebooks
COPY --from=build /app/samples ./samples
COPY --from=build /app/tsconfig.json /app/tsconfig.build.json ./
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/.dealfinder && chown node:node /app/.dealfinder
USER node
ENTRYPOINT ["node", "bin/dealctl.mjs"]
CMD ["--help"]
