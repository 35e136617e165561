# escalade: multi-stage release build, small non-root runtime image, configured by environment.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so they stay cached while only the code changes.
# Every workspace member's manifest is needed to read the workspace; only the service is built
# (the generated client in clients/rust is for integrators, bench/ for measuring).
COPY Cargo.toml Cargo.lock ./
COPY migration/Cargo.toml migration/Cargo.toml
COPY clients/rust/Cargo.toml clients/rust/Cargo.toml
COPY bench/Cargo.toml bench/Cargo.toml
RUN mkdir -p src migration/src clients/rust/src bench/src/bin \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs migration/src/lib.rs clients/rust/src/lib.rs \
    && for bin in baseline seed scale; do echo 'fn main() {}' > bench/src/bin/$bin.rs; done \
    && cargo build --release --locked --package escalade \
    && rm -rf src migration/src
COPY src src
COPY migration/src migration/src
# The business calendar's shipped years and the SLA policy are embedded in the binary, and so
# is the console's build, served at /console/ (console/dist, built by `npm run console:build`).
COPY calendar calendar
COPY sla sla
COPY console/dist console/dist
# Make cargo see the real sources as newer than the placeholder build.
RUN touch src/main.rs src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --package escalade --bin escalade

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install --yes --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/escalade --create-home escalade
COPY --from=build /src/target/release/escalade /usr/local/bin/escalade
USER escalade
# Without a database URL, escalade keeps SQLite (and the secret key and attachments beside it) in
# its working directory: the volume. `-e DATABASE_URL=postgres://…` (or ESCALADE_DATABASE_URL)
# chooses PostgreSQL, which also needs ESCALADE_ATTACHMENT_STORE (s3://… for several instances);
# nothing here shadows any of them.
WORKDIR /var/lib/escalade
# In-flight requests get 8 s after SIGTERM, inside `docker stop`'s 10 s before SIGKILL; give
# `docker run --stop-timeout` more when raising it.
ENV ESCALADE_BIND=0.0.0.0:8080 \
    ESCALADE_LOG_FORMAT=json \
    ESCALADE_SHUTDOWN_TIMEOUT_SECS=8
EXPOSE 8080
VOLUME ["/var/lib/escalade"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["escalade", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["escalade"]
CMD ["serve"]
