# syntax=docker/dockerfile:1
#
# One image with every executable of the central system:
#
#   docker build -t ocpp-central-system .
#   docker run ocpp-central-system                      # ocpp-gateway (the default command)
#   docker run ocpp-central-system ocpp-worker run      # the worker
#   docker run ocpp-central-system ocpp-worker migrate  # apply the migrations in /app/sql, then exit
#
# Settings are environment variables (README.md; compose/.env.example lists them all).
# compose/docker-compose.yml builds and runs this image; docs/DEPLOYMENT.md explains it.

# The build and runtime stages must share the Ubuntu release: the binaries carry the
# Swift runtime and Foundation (--static-swift-stdlib) but link glibc dynamically.
ARG SWIFT_VERSION=6.3
ARG UBUNTU_RELEASE=noble

# ---------------------------------------------------------------------------------
FROM swift:${SWIFT_VERSION}-${UBUNTU_RELEASE} AS build

# The executables to build and ship (SwiftPM products). The charge-point simulator,
# once Sources/Simulator exists, is one more word here: "ocpp-gateway ocpp-worker ocpp-sim".
ARG PRODUCTS="ocpp-gateway ocpp-worker"

WORKDIR /src
# .dockerignore lets only Package.swift, Sources, Tests (SwiftPM loads every target of
# the manifest), sql and compose/healthcheck through. No Package.resolved: the build
# resolves the versions Package.swift allows, as a fresh clone does.
COPY . .

# .build lives in a BuildKit cache mount: package checkouts and compiled modules
# survive from one image build to the next, so a source change rebuilds only what it
# touches. Files in a cache mount are not part of the image, hence everything the
# runtime needs is copied to /staging in the same step. `sharing=locked`: two builds
# of this Dockerfile at once take turns instead of writing the same .build together.
RUN --mount=type=cache,id=ocpp-central-system-build,target=/src/.build,sharing=locked \
    set -eu; \
    for product in $PRODUCTS; do \
        swift build -c release --static-swift-stdlib --product "$product"; \
    done; \
    bin=$(swift build -c release --static-swift-stdlib --show-bin-path); \
    mkdir -p /staging/bin; \
    for product in $PRODUCTS; do cp "$bin/$product" /staging/bin/; done; \
    # The worker's SwiftPM resource bundle (the admin API's openapi.json) must sit next
    # to the binary: Bundle.module looks for it there and the worker stops without it.
    test -d "$bin/ocpp-central-system_Worker.resources" \
        || { echo "missing $bin/ocpp-central-system_Worker.resources" >&2; exit 1; }; \
    cp -R "$bin"/*.resources /staging/bin/; \
    # Symbolicated crash backtraces of statically linked binaries need the backtracer
    # shipped with them (SWIFT_BACKTRACE below points at it).
    cp /usr/libexec/swift/linux/swift-backtrace-static /staging/bin/

# ---------------------------------------------------------------------------------
FROM ubuntu:${UBUNTU_RELEASE} AS runtime

# The binaries need only glibc, libstdc++ and libgcc_s (ldd), which the base image has.
# ca-certificates: DATABASE_URL with sslmode=verify-full checks the server's
# certificate against the system's trust store. Not pinned to a version (hadolint
# DL3008): Ubuntu's archive keeps only the current one, and a pin would break the build.
# hadolint ignore=DL3008
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update -q \
    && apt-get install -y -q --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric id, so that orchestrators that check "runs as non-root"
# (Kubernetes runAsNonRoot) can verify it without reading /etc/passwd.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin ocpp

WORKDIR /app
# Owned by root and read-only for the service user: the processes write no files.
COPY --from=build /staging/bin /app/bin
COPY --chmod=0755 compose/healthcheck /app/bin/ocpp-healthcheck
# The migrations, the same sql/ folder the tests apply; `ocpp-worker migrate` (and
# `run` unless OCPP_MIGRATE=false) reads them from OCPP_MIGRATIONS_DIR.
COPY sql /app/sql

ENV PATH=/app/bin:$PATH \
    OCPP_MIGRATIONS_DIR=/app/sql \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/bin/swift-backtrace-static

USER 10001:10001

# 3000: gateway (stations' WebSockets, /healthz, /readyz, /metrics)
# 9100: worker's /healthz, /readyz, /metrics; 8180: admin API (OCPP_ADMIN_TOKEN)
EXPOSE 3000 9100 8180

# Probes /healthz of the gateway or the worker, whichever this container runs;
# healthy at once for one-shot commands (migrate, seed). See compose/healthcheck.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/bin/ocpp-healthcheck"]

# No ENTRYPOINT: the command names the executable, which runs as process 1 and
# handles SIGTERM itself (graceful shutdown: GATEWAY.md, WORKER.md).
CMD ["ocpp-gateway"]
