# escalade: multi-stage release build, small non-root runtime image, configured by environment.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so they stay cached while only the code changes.
# Every workspace member's manifest is needed to read the workspace; only the service is built
# (the generated client in clients/rust is for integrators).
COPY Cargo.toml Cargo.lock ./
COPY migration/Cargo.toml migration/Cargo.toml
COPY clients/rust/Cargo.toml clients/rust/Cargo.toml
RUN mkdir -p src migration/src clients/rust/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs migration/src/lib.rs clients/rust/src/lib.rs \
    && cargo build --release --locked --package escalade \
    && rm -rf src migration/src
COPY src src
COPY migration/src migration/src
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
WORKDIR /var/lib/escalade
ENV ESCALADE_BIND=0.0.0.0:8080 \
    ESCALADE_LOG_FORMAT=json \
    ESCALADE_DATABASE_URL=sqlite:///var/lib/escalade/escalade.db
EXPOSE 8080
VOLUME ["/var/lib/escalade"]
ENTRYPOINT ["escalade"]
CMD ["serve"]
