# A small image with the handoff binary, built without the embedded broker
# (containers talk to a Kafka cluster), running as a non-root user.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends cmake g++ libcurl4-openssl-dev libssl-dev pkg-config nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The console's U.S. Web Design System assets are built into the binary.
RUN npm ci --prefix crates/console/web --omit=dev --no-audit --no-fund
RUN cargo build --release -p handoff-cli --no-default-features

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libcurl4 libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data handoff && mkdir -p /data && chown handoff /data
COPY --from=build /src/target/release/handoff /usr/local/bin/handoff
USER handoff
WORKDIR /data
# Every service serves /healthz; give each its port with HANDOFF_HEALTH_URL
# (docker-compose.yml sets its own checks, on /readyz).
ENV HANDOFF_HEALTH_URL=http://127.0.0.1:8080/healthz
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fsS "$HANDOFF_HEALTH_URL" || exit 1
ENTRYPOINT ["handoff"]
