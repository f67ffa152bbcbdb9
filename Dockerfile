# S3 Provisioner image (README "Docker"). The release binary on a slim Debian base, run as the
# non-root user s3user from /app, where the seed guide mounts configs/ templates/ policies/
# reports/ and ~/.aws at /home/s3user/.aws.
#
#   docker build --build-arg VERSION=1.0.0-rc.1 -t s3-provisioner:1.0.0-rc.1 .
#   docker run --rm s3-provisioner:1.0.0-rc.1 --help

# ---- build: a pinned Rust toolchain (Cargo.toml rust-version), same Debian release as the runtime ----
FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src

# Dependencies first, compiled against placeholder sources: this layer is reused until Cargo.toml or
# Cargo.lock change, so editing the code does not rebuild the AWS SDK.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources. COPY keeps their modification times, which may be older than the placeholder
# build: touch them so cargo rebuilds the crate instead of shipping the placeholder binary.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked

# ---- runtime ----
FROM debian:bookworm-slim

# Keep VERSION equal to Cargo.toml's version (tests/it/dockerfile.rs checks it); release builds pass it.
ARG VERSION=1.0.0-rc.1
# The uid/gid of s3user. 1000 is the usual first user on a Linux host, so the seed guide's bind
# mounts work as written: a 0600 ~/.aws/credentials stays readable and reports/ stays writable.
ARG S3USER_UID=1000

LABEL org.opencontainers.image.title="s3-provisioner" \
      org.opencontainers.image.description="Turns one YAML file per site into a secure, ML-ready S3 bucket deployed through AWS CloudFormation" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.vendor="Axon Tech Labs" \
      org.opencontainers.image.licenses="LicenseRef-Proprietary"

WORKDIR /app

# CA certificates for TLS to AWS (pinned to the bookworm package; bump with the base image).
# s3user owns its home and the four working folders, so the image also runs without mounts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311+deb12u1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid "${S3USER_UID}" s3user \
    && useradd --uid "${S3USER_UID}" --gid s3user --create-home --home-dir /home/s3user \
       --shell /usr/sbin/nologin s3user \
    && mkdir configs templates policies reports \
    && chown s3user:s3user configs templates policies reports

COPY --from=build /src/target/release/s3-provisioner /usr/local/bin/s3-provisioner

# Numeric, so runtimes that enforce "non-root" (Kubernetes runAsNonRoot) can verify it; it is s3user.
USER ${S3USER_UID}:${S3USER_UID}
ENTRYPOINT ["s3-provisioner"]
CMD ["--help"]
