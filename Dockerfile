# The quorum-backup image: quorum-backup-agent (the sidecar),
# quorum-backup-gate (static; an init container copies it into the node
# containers) and quorum-backup (the controller), on Debian 12.
#
#   docker build -t quorum-backup:0.1.0 .
#
# conf/kubernetes/ uses it for the init container, the sidecar, the CronJob
# and the restore Job.

# ---- build: the -dev packages of scripts/install-deps.sh, autotools ----
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      autoconf automake libtool pkg-config make gcc libc6-dev \
      libarchive-dev libzstd-dev libxxhash-dev zlib1g-dev libmicrohttpd-dev \
      libinih-dev check libcurl4-openssl-dev libjansson-dev libssl-dev \
      libsodium-dev libxml2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./autogen.sh \
 && ./configure --prefix=/usr/local \
 && make -j"$(nproc)" \
 && make install-strip DESTDIR=/out \
 && for b in quorum-backup-agent quorum-backup-gate quorum-backup; do \
      test -x "/out/usr/local/bin/$b" || { echo "missing $b" >&2; exit 1; }; \
    done \
 && if readelf -d /out/usr/local/bin/quorum-backup-gate | grep -q NEEDED; then \
      echo "quorum-backup-gate is not static" >&2; exit 1; \
    fi

# ---- runtime: Debian 12 slim with the run-time libraries only ----
FROM debian:12-slim
# One package per pkg-config module of configure.ac (check is for the
# tests only): libarchive, libzstd, libxxhash, zlib, libmicrohttpd, inih,
# libcurl, jansson, libcrypto (libssl3), libsodium (libsodium23), libxml2.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libarchive13 libzstd1 libxxhash0 zlib1g libmicrohttpd12 libinih1 \
      libcurl4 libjansson4 libssl3 libsodium23 libxml2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The image's own user, for the controller (CronJob, Job). The member pods
# run the agent as UID 0 like the node containers, with no capabilities:
# see conf/kubernetes/README.md.
RUN groupadd --system --gid 10001 quorum-backup \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin quorum-backup
COPY --from=build /out/usr/local/ /usr/local/
RUN quorum-backup-agent --version \
 && quorum-backup --version \
 && quorum-backup-gate --version
USER 10001:10001
EXPOSE 8181
CMD ["quorum-backup-agent", "serve"]
