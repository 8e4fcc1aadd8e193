#!/usr/bin/env bash
# Dockerfile Cache Lens - private Docker engine for tests.
#
# A private dockerd 26.1 (Debian 13 "trixie" docker.io) + buildx 0.13 + the
# Debian 12 containerd/runc, with its own data-root, exec-root, socket and
# DOCKER_CONFIG, plus stand-in base images (busybox + fake toolchains) tagged
# under the names real Dockerfiles use. See scripts/README-engine.md.
#
# Profiles (optional PROFILE argument, or DCL_ENGINE_PROFILE): none (the default: Docker 26.1,
# classic store, the shared "main" instance), 26 (the same Docker on its own instance), 26-containerd, 28 (Debian "forky": Docker 28.5 + buildx
# 0.29 + compose 2.40 + containerd 2.1, with the host's runc), 28-containerd. Each has its own
# data-root, exec-root and socket; they run side by side.
#
# usage: scripts/engine.sh install [PROFILE...]|start [PROFILE]|stop [PROFILE]|restart [PROFILE]
#                          |env [tcp|PROFILE]|status|images [--force]
#                          |retag NAME [VARIANT|base]|tcp PORT|stop-tcp|profiles|help
set -euo pipefail

# ----------------------------------------------------------------------------
# Configuration (extend freely)
# ----------------------------------------------------------------------------

# Every name below is tagged onto the same stand-in base image. `scratch` is
# built into BuildKit and needs nothing.
BASE_IMAGE_NAMES=(
  node:20-alpine node:20 node:18-alpine node:lts
  python:3.12-slim python:3.11-slim python:3.10-alpine python:3
  golang:1.22 golang:1.21-alpine golang:1.22-alpine
  rust:1.77
  maven:3-eclipse-temurin-17 eclipse-temurin:17-jre gradle:8-jdk17
  ruby:3.3 php:8.2-apache composer:2
  mcr.microsoft.com/dotnet/sdk:8.0 mcr.microsoft.com/dotnet/aspnet:8.0
  nginx:alpine nginx:latest
  alpine:3.19 alpine debian:bookworm-slim ubuntu:22.04 busybox
)

# Names linked to the stand-in multi-call script inside the images
# (scripts/base-images/standin.sh decides what each one does).
STANDIN_TOOLS=(
  npm npx yarn pnpm node nodejs
  pip pip3 python python3 poetry uv
  apt-get apt apk
  go cargo rustup
  mvn gradle java
  bundle bundler gem ruby
  composer php
  dotnet
  useradd groupadd adduser addgroup
  curl
)

# Debian 12 packages installed on the host with plain apt-get.
HOST_PACKAGES=(containerd runc tini busybox-static pigz xz-utils iproute2 socat)
# Debian 13 packages downloaded (not installed) and unpacked into the prefix.
TRIXIE_PACKAGES=(docker.io docker-cli docker-buildx)
TRIXIE_SUITE=${DCL_TRIXIE_SUITE:-trixie}
# Profile 28: Debian "forky" packages unpacked into their own prefix. Its containerd 2.1 is the one
# dockerd starts (first on PATH); forky's runc needs glibc 2.38, so the host's Debian 12 runc runs.
FORKY_PACKAGES=(docker.io docker-cli docker-buildx docker-compose containerd)
FORKY_SUITE=${DCL_FORKY_SUITE:-forky}
# The matrix CI installs (`install` without a profile).
CI_PROFILES=(26 28)

BASE_TAG=dcl-base:latest          # private tag every BASE_IMAGE_NAMES entry points at
VARIANT_REPO=dcl-variant          # retag NAME VARIANT loads dcl-variant:VARIANT
IMAGE_CREATED=2024-01-01T00:00:00Z  # fixed, so image IDs are reproducible

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BASE_IMAGES_DIR=$SCRIPT_DIR/base-images

ENGINE_HOME=${DCL_ENGINE_HOME:-$HOME/.cache/dockerfile-cache-lens/engine}
START_TIMEOUT=${DCL_START_TIMEOUT:-60}
# 1 (default): dockerd runs in its own network namespace (only loopback + its
# docker0 bridge), so build containers get the normal bridge network but can
# reach nothing outside. 0: host namespace with --bridge=none (then RUN steps
# need `--network=host` or `--network=none`).
ENGINE_NETNS=${DCL_ENGINE_NETNS:-1}
STOP_TIMEOUT=${DCL_STOP_TIMEOUT:-30}

# Unix sockets are limited to ~107 bytes; containerd's lives at
# <exec-root>/containerd/containerd.sock.ttrpc. Keep them short.
if [ "${#ENGINE_HOME}" -le 55 ]; then
  RUN_BASE=$ENGINE_HOME/run
else
  RUN_BASE=/tmp/dcl-engine-$(printf '%s' "$ENGINE_HOME" | sha256sum | cut -c1-10)
fi

log() { echo "engine: $*" >&2; }
die() { echo "engine: error: $*" >&2; exit 1; }

# ----------------------------------------------------------------------------
# Profiles: which Docker (prefix, packages, DOCKER_CONFIG) and which image store (instance)
# ----------------------------------------------------------------------------
profile() { # profile [NAME] -> sets P_* and the paths of that Docker; none: the shared main instance
  local name=${1:-${DCL_ENGINE_PROFILE:-}}
  case "$name" in
    "") P_NAME=""; P_VER=26; P_STORE=classic ;;
    26|26-classic) P_NAME=26; P_VER=26; P_STORE=classic ;;
    26-containerd) P_NAME=26-containerd; P_VER=26; P_STORE=containerd ;;
    28|28-classic) P_NAME=28; P_VER=28; P_STORE=classic ;;
    28-containerd) P_NAME=28-containerd; P_VER=28; P_STORE=containerd ;;
    *) die "unknown profile '$name' (26, 26-containerd, 28, 28-containerd)" ;;
  esac
  if [ "$P_VER" = 26 ]; then
    PREFIX=$ENGINE_HOME/prefix
    APT_DIR=$ENGINE_HOME/apt
    DEB_DIR=$ENGINE_HOME/debs
    DOCKER_CONFIG_DIR=$ENGINE_HOME/docker-config
    P_SUITE=$TRIXIE_SUITE
    P_PACKAGES=("${TRIXIE_PACKAGES[@]}")
    P_PLUGINS=(docker-buildx)
    # no profile: the historical, shared "main" instance (same paths as before profiles existed);
    # profile 26 is the same Docker on an instance of its own (a suite may prune its cache)
    if [ -z "$P_NAME" ]; then P_INST=main; else P_INST=26-$P_STORE; fi
  else
    PREFIX=$ENGINE_HOME/prefix-$P_VER
    APT_DIR=$ENGINE_HOME/apt-$P_VER
    DEB_DIR=$ENGINE_HOME/debs-$P_VER
    DOCKER_CONFIG_DIR=$ENGINE_HOME/docker-config-$P_VER
    P_SUITE=$FORKY_SUITE
    P_PACKAGES=("${FORKY_PACKAGES[@]}")
    P_PLUGINS=(docker-buildx docker-compose)
    P_INST=$P_VER-$P_STORE
  fi
  STAMP=$PREFIX/.dcl-installed
  DOCKER_BIN=$PREFIX/usr/bin/docker
  DOCKERD_BIN=$PREFIX/usr/sbin/dockerd
}
profile "${DCL_ENGINE_PROFILE:-}"

# ----------------------------------------------------------------------------
# Instances: "main" (unix socket), one per other profile, and "tcp" (tcp://127.0.0.1:PORT)
# ----------------------------------------------------------------------------
inst() { # inst NAME [PORT] -> sets I_* variables
  I_NAME=$1
  I_SOCK=$RUN_BASE/$1/docker.sock
  I_DIR=$ENGINE_HOME/$1
  I_DATA=$I_DIR/data
  I_EXEC=$RUN_BASE/$1/exec
  I_PID=$I_DIR/dockerd.pid
  I_LOG=$I_DIR/dockerd.log
  I_CONF=$I_DIR/daemon.json
  if [ "$1" = tcp ]; then
    local port=${2:-}
    [ -z "$port" ] && [ -f "$I_DIR/port" ] && port=$(cat "$I_DIR/port")
    I_PORT=$port
    I_HOST=tcp://127.0.0.1:${port:-0}
  else
    I_PORT=
    I_HOST=unix://$I_SOCK
  fi
  I_FWD_PID=$I_DIR/socat.pid
}

pdocker() { # private CLI against instance I_HOST, private config
  DOCKER_CONFIG=$DOCKER_CONFIG_DIR DOCKER_HOST=$I_HOST DOCKER_CONTEXT='' DOCKER_BUILDKIT=1 "$DOCKER_BIN" "$@"
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -f "$I_PID" ] && cat "$I_PID" 2>/dev/null || true; }
answering() { pdocker version >/dev/null 2>&1; }

# ----------------------------------------------------------------------------
# install
# ----------------------------------------------------------------------------
need_root() {
  [ "$(id -u)" = 0 ] || die "the private engine runs a rootful dockerd: run as root (or with sudo)"
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The mirror URL the machine's own apt sources use for Debian (not security).
debian_mirror() {
  if [ -n "${DCL_DEBIAN_MIRROR:-}" ]; then echo "$DCL_DEBIAN_MIRROR"; return; fi
  local pairs f
  pairs=$(
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk '$1=="deb" { i=2; if ($i ~ /^\[/) { while (i<=NF && $i !~ /\]$/) i++; i++ } print $i, $(i+1) }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk '
        function flush(  nu, ns, a, b, u, s) {
          if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no") {
            nu = split(uris, a, /[ \t]+/); ns = split(suites, b, /[ \t]+/)
            for (u = 1; u <= nu; u++) for (s = 1; s <= ns; s++) if (a[u] != "" && b[s] != "") print a[u], b[s]
          }
          types = uris = suites = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val) }
        key == "types" { types = val } key == "uris" { uris = val }
        key == "suites" { suites = val } key == "enabled" { enabled = val }
        END { flush() }' "$f"
    done
  )
  local uri
  uri=$(echo "$pairs" | awk '$2 ~ /^(bookworm|stable)$/ && $1 !~ /security/ { print $1; exit }')
  [ -z "$uri" ] && uri=$(echo "$pairs" | awk '$2 ~ /^(bookworm|bullseye|trixie|stable|testing)(-updates)?$/ && $1 !~ /security/ && $1 ~ /^https?:/ { print $1; exit }')
  echo "${uri:-http://deb.debian.org/debian}"
}

private_apt() { # apt-get with a private configuration (never touches /etc/apt)
  apt-get \
    -o Dir::State::Lists="$APT_DIR/lists" \
    -o Dir::Etc::sourcelist="$APT_DIR/sources.list" \
    -o Dir::Etc::sourceparts="$APT_DIR/empty" \
    -o Dir::Etc::preferences="$APT_DIR/empty/none" \
    -o Dir::Etc::preferencesparts="$APT_DIR/empty" \
    -o Dir::Cache="$APT_DIR/cache" \
    -o Dir::Cache::archives="$APT_DIR/cache/archives" \
    -o Dir::Cache::pkgcache="" -o Dir::Cache::srcpkgcache="" \
    -o APT::Sandbox::User=root \
    -o Acquire::Languages=none \
    "$@"
}

install_host_packages() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    log "host packages already installed: ${HOST_PACKAGES[*]}"
    return
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$ENGINE_HOME/apt-install.log" 2>&1; then
    log "install failed; running apt-get update and retrying"
    apt-get update >>"$ENGINE_HOME/apt-install.log" 2>&1 || true
    apt-get install -y --no-install-recommends "${missing[@]}" >>"$ENGINE_HOME/apt-install.log" 2>&1 \
      || { tail -20 "$ENGINE_HOME/apt-install.log" >&2; die "apt-get install ${missing[*]} failed"; }
  fi
}

install_profile_docker() {
  if [ -f "$STAMP" ] && [ -x "$DOCKERD_BIN" ] && [ -x "$DOCKER_BIN" ] \
     && [ -x "$PREFIX/usr/libexec/docker/cli-plugins/docker-buildx" ]; then
    log "$P_SUITE docker already unpacked in $PREFIX ($(tr '\n' ' ' < "$STAMP"))"
    return
  fi
  local mirror keyring opts=""
  mirror=$(debian_mirror)
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] && opts="[signed-by=$keyring] "
  rm -rf "$APT_DIR" "$DEB_DIR"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/empty" "$DEB_DIR"
  echo "deb ${opts}${mirror} ${P_SUITE} main" > "$APT_DIR/sources.list"
  log "private apt: $(cat "$APT_DIR/sources.list")"
  private_apt update >"$APT_DIR/update.log" 2>&1 || { cat "$APT_DIR/update.log" >&2; die "private apt-get update ($P_SUITE) failed"; }
  log "apt-get download ${P_PACKAGES[*]} (from $P_SUITE)"
  (cd "$DEB_DIR" && private_apt download "${P_PACKAGES[@]}") >"$APT_DIR/download.log" 2>&1 \
    || { cat "$APT_DIR/download.log" >&2; die "apt-get download failed"; }
  rm -rf "${PREFIX:?}"
  mkdir -p "$PREFIX"
  local deb
  for deb in "$DEB_DIR"/*.deb; do
    log "unpack $(basename "$deb")"
    dpkg -x "$deb" "$PREFIX"
  done
  # the deb's docker-init is a relative link to tini-static (Debian 12's tini)
  ln -sfn /usr/bin/tini-static "$PREFIX/usr/bin/docker-init"
  rm -rf "${PREFIX:?}/etc" "${PREFIX:?}/usr/lib/systemd" "${PREFIX:?}/usr/lib/udev"
  # never a runc from the suite (forky's needs a newer glibc): the host's Debian 12 runc runs
  rm -f "${PREFIX:?}/usr/sbin/runc" "${PREFIX:?}/usr/bin/runc"
  for deb in "$DEB_DIR"/*.deb; do basename "$deb"; done > "$STAMP"
  rm -rf "$APT_DIR/cache"   # keep lists (small) for inspection; drop pkgcache
}

setup_docker_config() {
  mkdir -p "$DOCKER_CONFIG_DIR/cli-plugins"
  local plugin
  for plugin in "${P_PLUGINS[@]}"; do
    [ -e "$PREFIX/usr/libexec/docker/cli-plugins/$plugin" ] || die "$plugin missing from $PREFIX (packages ${P_PACKAGES[*]})"
    ln -sfn "$PREFIX/usr/libexec/docker/cli-plugins/$plugin" "$DOCKER_CONFIG_DIR/cli-plugins/$plugin"
  done
  [ -f "$DOCKER_CONFIG_DIR/config.json" ] || echo '{}' > "$DOCKER_CONFIG_DIR/config.json"
}

installed() {
  [ -f "$STAMP" ] && [ -x "$DOCKERD_BIN" ] && [ -x "$DOCKER_BIN" ] || return 1
  local p
  for p in "${P_PLUGINS[@]}"; do [ -e "$DOCKER_CONFIG_DIR/cli-plugins/$p" ] || return 1; done
  for p in "${HOST_PACKAGES[@]}"; do pkg_installed "$p" || return 1; done
}

install_profile() { # the current profile's Docker (host packages already there)
  local t0=$SECONDS
  install_profile_docker
  setup_docker_config
  log "profile $P_VER dockerd: $("$DOCKERD_BIN" --version)"
  log "profile $P_VER docker:  $("$DOCKER_BIN" --version)"
  log "profile $P_VER buildx:  $(DOCKER_CONFIG=$DOCKER_CONFIG_DIR "$DOCKER_BIN" buildx version 2>/dev/null || echo '?')"
  if [ -x "$PREFIX/usr/bin/containerd" ]; then log "profile $P_VER containerd: $("$PREFIX/usr/bin/containerd" --version)"; fi
  log "profile $P_VER installed in $((SECONDS - t0))s"
}

cmd_install() { # cmd_install [PROFILE...]: none = every profile CI uses
  need_root
  local t0=$SECONDS p
  mkdir -p "$ENGINE_HOME"
  install_host_packages
  if [ $# -eq 0 ]; then set -- "${CI_PROFILES[@]}"; fi
  for p in "$@"; do profile "$p"; install_profile; done
  log "install done in $((SECONDS - t0))s (ENGINE_HOME=$ENGINE_HOME)"
}

# ----------------------------------------------------------------------------
# base images
# ----------------------------------------------------------------------------
go_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;; aarch64|arm64) echo arm64 ;; armv7l) echo arm ;;
    ppc64le) echo ppc64le ;; s390x) echo s390x ;; riscv64) echo riscv64 ;; *) uname -m ;;
  esac
}

busybox_path() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then echo "$b"; return; fi
  done
  die "a static busybox is needed (apt-get install busybox-static)"
}

build_rootfs() { # build_rootfs DIR VARIANT
  local root=$1 variant=$2 bb p t
  bb=$(busybox_path)
  rm -rf "$root"; mkdir -p "$root"
  (
    cd "$root"
    umask 022
    mkdir -p bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin etc root home \
             proc sys dev run var/lib var/cache var/log var/tmp tmp
    chmod 1777 tmp var/tmp
    chmod 700 root
    cp "$bb" bin/busybox; chmod 755 bin/busybox
    "$bb" --list-full | while read -r p; do
      [ -e "$p" ] || [ -L "$p" ] || ln -s /bin/busybox "$p"
    done
    cp -R "$BASE_IMAGES_DIR/rootfs/." .
    chmod 644 etc/passwd etc/group etc/os-release etc/nsswitch.conf
    chmod 640 etc/shadow
    printf '%s\n' "$variant" > etc/dcl-variant
    cp "$BASE_IMAGES_DIR/standin.sh" usr/local/bin/dcl-standin
    chmod 755 usr/local/bin/dcl-standin
    for t in "${STANDIN_TOOLS[@]}"; do ln -sfn dcl-standin "usr/local/bin/$t"; done
    ln -sfn /usr/local/bin/dcl-standin bin/bash
    mkdir -p home/node && chown 1000:1000 home/node
  )
}

# Hash of everything that goes into the stand-in image; stored as a label so
# `start` notices when scripts/base-images changed and reloads.
inputs_hash() {
  {
    (cd "$BASE_IMAGES_DIR" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    sha256sum < "$(busybox_path)"
    echo "${STANDIN_TOOLS[*]} $IMAGE_CREATED $(go_arch)"
  } | sha256sum | cut -c1-16
}

# Builds a docker-save style archive by hand (deterministic image ID) and
# `docker load`s it as REF.
load_image() { # load_image REF VARIANT
  local ref=$1 variant=$2 work layer_sha cfg cfg_sha
  work=$(mktemp -d "${TMPDIR:-/tmp}/dcl-image.XXXXXX")
  build_rootfs "$work/rootfs" "$variant"
  mkdir -p "$work/img"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
      -C "$work/rootfs" -cf "$work/layer.tar" .
  layer_sha=$(sha256sum "$work/layer.tar" | cut -c1-64)
  mkdir -p "$work/img/$layer_sha"
  mv "$work/layer.tar" "$work/img/$layer_sha/layer.tar"
  cfg=$(printf '{"architecture":"%s","os":"linux","created":"%s","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"Labels":{"org.dcl.standin":"1","org.dcl.inputs":"%s","org.dcl.variant":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"scripts/engine.sh (busybox + stand-in toolchains, variant %s)"}]}' \
        "$(go_arch)" "$IMAGE_CREATED" "$(inputs_hash)" "$variant" "$layer_sha" "$IMAGE_CREATED" "$variant")
  printf '%s' "$cfg" > "$work/img/config.json"
  cfg_sha=$(sha256sum "$work/img/config.json" | cut -c1-64)
  mv "$work/img/config.json" "$work/img/$cfg_sha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg_sha" "$ref" "$layer_sha" > "$work/img/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/img" -cf "$work/image.tar" .
  "${DOCKER_CMD[@]}" load -q -i "$work/image.tar" >&2
  rm -rf "$work"
  echo "sha256:$cfg_sha"
}

have_image() { "${DOCKER_CMD[@]}" image inspect "$1" >/dev/null 2>&1; }

image_id() { "${DOCKER_CMD[@]}" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

ensure_images() { # ensure_images [--force]
  local force=${1:-} n made=0 old_id="" want have
  want=$(inputs_hash)
  if have_image "$BASE_TAG"; then
    old_id=$(image_id "$BASE_TAG")
    have=$("${DOCKER_CMD[@]}" image inspect -f '{{index .Config.Labels "org.dcl.inputs"}}' "$BASE_TAG" 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
      log "scripts/base-images changed (image inputs $have -> $want): reloading"
      force=--refresh
    fi
  fi
  if [ -n "$force" ] || [ -z "$old_id" ]; then
    log "loading stand-in base image $BASE_TAG"
    load_image "$BASE_TAG" base >/dev/null
  fi
  local new_id; new_id=$(image_id "$BASE_TAG")
  for n in "${BASE_IMAGE_NAMES[@]}"; do
    # --force: every name; otherwise missing names and names still on the old base
    # (names moved by `retag` to a variant are left alone)
    if [ "$force" = --force ] || ! have_image "$n" \
       || { [ -n "$old_id" ] && [ "$old_id" != "$new_id" ] && [ "$(image_id "$n")" = "$old_id" ]; }; then
      "${DOCKER_CMD[@]}" tag "$BASE_TAG" "$n"; made=$((made + 1))
    fi
  done
  # drop the previous base image if nothing refers to it any more (fails harmlessly otherwise)
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    "${DOCKER_CMD[@]}" rmi "$old_id" >/dev/null 2>&1 || true
  fi
  log "base images: $made tag(s) created, ${#BASE_IMAGE_NAMES[@]} names -> $("${DOCKER_CMD[@]}" image inspect -f '{{.Id}}' "$BASE_TAG" | cut -c1-19)"
}

# ----------------------------------------------------------------------------
# daemon lifecycle
# ----------------------------------------------------------------------------
write_daemon_json() {
  local snap=false
  # the main instance keeps its switch; the other profiles' store is in their name
  if [ "$I_NAME" = main ] || [ "$I_NAME" = tcp ]; then
    [ "${DCL_CONTAINERD_SNAPSHOTTER:-0}" = 1 ] && snap=true
  elif [ "$P_STORE" = containerd ]; then
    snap=true
  fi
  mkdir -p "$I_DIR"
  printf '{\n  "features": {"buildkit": true, "containerd-snapshotter": %s}\n}\n' "$snap" > "$I_CONF"
}

start_instance() {
  if answering; then
    log "$I_NAME dockerd already running ($I_HOST, pid $(pid_of))"
    return
  fi
  local pid; pid=$(pid_of)
  if alive "$pid"; then
    log "$I_NAME dockerd pid $pid exists but does not answer yet; waiting"
  else
    rm -f "$I_PID" "$I_SOCK"
    mkdir -p "$I_DATA" "$I_EXEC" "$(dirname "$I_SOCK")"
    write_daemon_json
    local args=(
      --config-file "$I_CONF"
      --data-root "$I_DATA"
      --exec-root "$I_EXEC"
      --pidfile "$I_PID"
      --iptables=false --ip6tables=false --ip-masq=false
      --userland-proxy=false
      --init-path /usr/bin/tini-static
      --cgroup-parent "dcl-engine-$I_NAME"
    )
    if [ "$ENGINE_NETNS" = 1 ]; then
      args+=(-H "unix://$I_SOCK")
    else
      args+=(--bridge=none --ip-forward=false -H "$I_HOST")
      [ "$I_NAME" = tcp ] && args+=(--tls=false)
    fi
    [ -n "${DCL_STORAGE_DRIVER:-}" ] && args+=(--storage-driver "$DCL_STORAGE_DRIVER")
    echo "=== $(date -u +%FT%TZ) starting (netns=$ENGINE_NETNS): dockerd ${args[*]}" >>"$I_LOG"
    if [ "$ENGINE_NETNS" = 1 ]; then
      # own network namespace: bring lo up, then exec dockerd (same pid)
      PATH=$PREFIX/usr/sbin:$PREFIX/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        setsid unshare --net -- /bin/sh -c 'ip link set lo up && exec "$0" "$@"' \
        "$DOCKERD_BIN" "${args[@]}" </dev/null >>"$I_LOG" 2>&1 &
    else
      PATH=$PREFIX/usr/sbin:$PREFIX/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        setsid "$DOCKERD_BIN" "${args[@]}" </dev/null >>"$I_LOG" 2>&1 &
    fi
    pid=$!
    log "started $I_NAME dockerd pid $pid on $I_HOST (log $I_LOG)"
  fi
  start_forwarder
  local t0=$SECONDS
  while ! answering; do
    if ! alive "$pid"; then
      tail -25 "$I_LOG" >&2
      die "$I_NAME dockerd exited during start-up (see $I_LOG)"
    fi
    if [ $((SECONDS - t0)) -ge "$START_TIMEOUT" ]; then
      tail -25 "$I_LOG" >&2
      die "$I_NAME dockerd did not answer within ${START_TIMEOUT}s (see $I_LOG)"
    fi
    sleep 0.25
  done
  log "$I_NAME dockerd answers after $((SECONDS - t0))s: server $(pdocker version -f '{{.Server.Version}}'), storage $(pdocker info -f '{{.Driver}}')"
}

stop_instance() {
  local pid; pid=$(pid_of)
  if ! alive "$pid"; then
    log "$I_NAME dockerd not running"
    rm -f "$I_PID"
  else
    log "stopping $I_NAME dockerd pid $pid"
    kill -TERM "$pid"
    local t0=$SECONDS
    while alive "$pid"; do
      if [ $((SECONDS - t0)) -ge "$STOP_TIMEOUT" ]; then
        log "dockerd pid $pid still alive after ${STOP_TIMEOUT}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
        break
      fi
      sleep 0.2
    done
    log "$I_NAME dockerd stopped after $((SECONDS - t0))s"
  fi
  stop_forwarder
  # the containerd that dockerd started for itself (normally gone with it)
  local cpid=""
  [ -f "$I_EXEC/containerd/containerd.pid" ] && cpid=$(cat "$I_EXEC/containerd/containerd.pid" 2>/dev/null || true)
  if alive "$cpid" && grep -q containerd "/proc/$cpid/comm" 2>/dev/null; then
    log "stopping leftover containerd pid $cpid"
    kill -TERM "$cpid" 2>/dev/null || true
    local _; for _ in $(seq 50); do alive "$cpid" || break; sleep 0.2; done
  fi
  rm -f "$I_PID"
  cleanup_cgroups
}

# With cgroup v1 + cgroupfs, `docker run` containers go to <daemon's cgroup>/dcl-engine-NAME/<id>
# (relative parent) but BuildKit RUN steps always use the absolute /dcl-engine-NAME/buildkit/<id>.
# Remove the (then empty) directories once the daemon is gone.
cleanup_cgroups() {
  local d
  [ -d /sys/fs/cgroup ] || return 0
  while IFS= read -r d; do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done < <(find /sys/fs/cgroup -maxdepth 5 -type d -name "dcl-engine-$I_NAME" 2>/dev/null)
}

# tcp instance in its own netns: socat forwards 127.0.0.1:PORT -> unix socket
start_forwarder() {
  [ -n "$I_PORT" ] && [ "$ENGINE_NETNS" = 1 ] || return 0
  local fpid=""; [ -f "$I_FWD_PID" ] && fpid=$(cat "$I_FWD_PID")
  alive "$fpid" && return 0
  setsid socat "TCP-LISTEN:$I_PORT,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$I_SOCK" \
    </dev/null >>"$I_DIR/socat.log" 2>&1 &
  echo $! > "$I_FWD_PID"
  sleep 0.3
  alive "$(cat "$I_FWD_PID")" || { tail -5 "$I_DIR/socat.log" >&2; die "cannot listen on 127.0.0.1:$I_PORT"; }
  log "forwarding tcp://127.0.0.1:$I_PORT -> unix://$I_SOCK (socat pid $(cat "$I_FWD_PID"))"
}

stop_forwarder() {
  local fpid=""; [ -f "$I_FWD_PID" ] && fpid=$(cat "$I_FWD_PID")
  if alive "$fpid" && grep -q socat "/proc/$fpid/comm" 2>/dev/null; then
    kill -TERM "$fpid" 2>/dev/null || true
    log "stopped socat forwarder pid $fpid"
  fi
  rm -f "$I_FWD_PID"
}

# ----------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------
use_existing() { [ "${DCL_USE_EXISTING_DOCKER:-0}" = 1 ]; }

cmd_start() { # cmd_start [PROFILE]: with a profile, prints its environment on stdout
  local explicit=${1:-}
  if use_existing && [ -z "$explicit" ]; then
    command -v docker >/dev/null || die "DCL_USE_EXISTING_DOCKER=1 but no docker CLI on PATH"
    docker version >/dev/null 2>&1 || die "DCL_USE_EXISTING_DOCKER=1 but 'docker version' fails (DOCKER_HOST=${DOCKER_HOST:-unset})"
    log "using the existing engine (${DOCKER_HOST:-default context}); only creating base images"
    DOCKER_CMD=(docker)
    ensure_images
    return
  fi
  need_root
  profile "$explicit"
  if installed; then log "already installed ($PREFIX)"; else cmd_install "$P_VER"; profile "$explicit"; fi
  inst "$P_INST"
  start_instance
  DOCKER_CMD=(pdocker)
  ensure_images
  if [ -n "$explicit" ]; then print_env; fi
}

cmd_stop() {
  if use_existing && [ -z "${1:-}" ]; then log "DCL_USE_EXISTING_DOCKER=1: nothing to stop"; return; fi
  profile "${1:-}"
  inst "$P_INST"
  stop_instance
}

print_env() { # exports for the current profile and instance
  local path_rest
  path_rest=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF -e "$ENGINE_HOME/prefix/usr/bin" -e "$ENGINE_HOME/prefix-28/usr/bin" | paste -sd: -)
  printf 'export DOCKER_HOST=%q\n' "$I_HOST"
  printf 'export DOCKER_CONFIG=%q\n' "$DOCKER_CONFIG_DIR"
  printf 'export DOCKER_BUILDKIT=1\n'
  printf 'unset DOCKER_CONTEXT\n'
  printf 'export PATH=%q\n' "$PREFIX/usr/bin${path_rest:+:$path_rest}"
  # so that `engine.sh retag|images` run with this environment act on this engine
  if [ "$I_NAME" != main ] && [ "$I_NAME" != tcp ]; then printf 'export DCL_ENGINE_PROFILE=%q\n' "$P_NAME"; fi
}

cmd_env() { # cmd_env [tcp|PROFILE]
  local which=${1:-}
  if use_existing && [ -z "$which" ]; then
    echo "# DCL_USE_EXISTING_DOCKER=1: keeping the existing engine and CLI"
    [ -n "${DOCKER_HOST:-}" ] && printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
    return 0
  fi
  if [ "$which" = tcp ]; then profile ""; inst tcp; else profile "$which"; inst "$P_INST"; fi
  print_env
}

cmd_status() {
  echo "ENGINE_HOME=$ENGINE_HOME"
  local n pr
  for pr in main 26 26-containerd 28 28-containerd tcp; do
    if [ "$pr" = tcp ] || [ "$pr" = main ]; then profile ""; else profile "$pr"; fi
    if [ "$pr" = main ] || [ "$pr" = 28 ]; then
      if installed; then echo "profile $P_VER installed: $(tr '\n' ' ' < "$STAMP")"; else echo "profile $P_VER installed: no"; fi
    fi
    n=$P_INST; [ "$pr" = tcp ] && n=tcp
    inst "$n"
    [ "$n" = tcp ] && [ -z "$I_PORT" ] && continue
    local pid; pid=$(pid_of)
    if [ -x "$DOCKER_BIN" ] && answering; then
      echo "$n ($pr): running pid ${pid:-?} DOCKER_HOST=$I_HOST server=$(pdocker version -f '{{.Server.Version}}') storage=$(pdocker info -f '{{.Driver}}') images=$(pdocker images -q | sort -u | wc -l)"
    elif alive "$pid"; then
      echo "$n ($pr): process $pid alive but not answering on $I_HOST"
    else
      echo "$n ($pr): stopped"
    fi
  done
  if use_existing; then echo "DCL_USE_EXISTING_DOCKER=1 (DOCKER_HOST=${DOCKER_HOST:-unset})"; fi
}

docker_for_images() { # the engine of DCL_ENGINE_PROFILE (default: main)
  if use_existing && [ -z "${DCL_ENGINE_PROFILE:-}" ]; then DOCKER_CMD=(docker); else
    profile "${DCL_ENGINE_PROFILE:-}"
    inst "$P_INST"; answering || die "engine not running: scripts/engine.sh start ${DCL_ENGINE_PROFILE:-}"
    DOCKER_CMD=(pdocker)
  fi
}

cmd_images() { docker_for_images; ensure_images "${1:-}"; }

cmd_retag() {
  local name=${1:-} variant=${2:-v2} id
  [ -n "$name" ] || die "usage: engine.sh retag NAME [VARIANT|base]"
  docker_for_images
  if [ "$variant" = base ]; then
    have_image "$BASE_TAG" || ensure_images
    "${DOCKER_CMD[@]}" tag "$BASE_TAG" "$name"
  else
    [[ "$variant" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || die "VARIANT must be a tag-like word"
    load_image "$VARIANT_REPO:$variant" "$variant" >/dev/null
    "${DOCKER_CMD[@]}" tag "$VARIANT_REPO:$variant" "$name"
  fi
  id=$("${DOCKER_CMD[@]}" image inspect -f '{{.Id}}' "$name")
  log "$name -> $id (variant $variant)"
  echo "$id"
}

cmd_tcp() {
  local port=${1:-}
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "usage: engine.sh tcp PORT"
  need_root
  profile ""
  installed || cmd_install 26
  inst tcp
  if [ -n "$I_PORT" ] && [ "$I_PORT" != "$port" ] && alive "$(pid_of)"; then
    die "tcp engine already running on port $I_PORT (engine.sh stop-tcp first)"
  fi
  inst tcp "$port"
  mkdir -p "$I_DIR"; echo "$port" > "$I_DIR/port"
  start_instance
  DOCKER_CMD=(pdocker)
  ensure_images
  echo "export DOCKER_HOST=$I_HOST"
}

cmd_stop_tcp() {
  profile ""
  inst tcp
  stop_instance
}

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<EOF

commands (PROFILE: none = the shared main 26.1 instance, 26, 26-containerd, 28, 28-containerd):
  install [PROFILE..] install host packages, download+unpack the profiles' docker (once);
                      no profile: every profile CI uses (${CI_PROFILES[*]})
  start [PROFILE]     install if needed, start that dockerd, create base images;
                      with PROFILE, print its environment (eval "\$(engine.sh start 28)")
  stop [PROFILE]      stop that dockerd
  restart [PROFILE]   stop + start
  env [tcp|PROFILE]   print exports: eval "\$(scripts/engine.sh env)"
  profiles            list the profiles
  status              show what is installed/running
  images [--force]    (re)create missing base-image tags (--force: reset all)
  retag NAME [V|base] point NAME at a different stand-in image (variant V, default v2),
                      or back at the base image
  tcp PORT            start a second private dockerd on tcp://127.0.0.1:PORT
  stop-tcp            stop it
env: DCL_ENGINE_HOME (default ~/.cache/dockerfile-cache-lens/engine), DCL_ENGINE_PROFILE,
     DCL_USE_EXISTING_DOCKER=1,
     DCL_ENGINE_NETNS=0, DCL_STORAGE_DRIVER, DCL_CONTAINERD_SNAPSHOTTER=1, DCL_START_TIMEOUT,
     DCL_DEBIAN_MIRROR
EOF
}

main() {
  local cmd=${1:-help}; [ $# -gt 0 ] && shift
  case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_stop "$@"; cmd_start "$@" ;;
    profiles) echo "26 26-containerd 28 28-containerd" ;;
    env) cmd_env "$@" ;;
    status) cmd_status ;;
    images) cmd_images "$@" ;;
    retag) cmd_retag "$@" ;;
    tcp) cmd_tcp "$@" ;;
    stop-tcp) cmd_stop_tcp ;;
    help|-h|--help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
