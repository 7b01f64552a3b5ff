#!/usr/bin/env bash
# Installs what Handoff needs on a fresh Debian machine with Rust, and
# nothing twice: Debian packages for librdkafka's bundled build, PostgreSQL
# (the views' shared store, started and given a `handoff` role the tests
# use to create their own databases), and the Python venv (.venv) with the
# stock Confluent client the interop tests use and the API's conformance
# tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium and chromium-driver: the console's browser tests.
debian_packages=(cmake g++ pkg-config libcurl4-openssl-dev libssl-dev python3-venv postgresql chromium chromium-driver)
# Node.js and npm install the console's front-end packages; a machine that
# already has them (any source) keeps its own.
command -v npm >/dev/null 2>&1 || debian_packages+=(nodejs npm)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL: start the cluster Debian created, and a login role for the
# tests (local only; the password is no secret: the cluster listens on
# localhost and holds throwaway test databases).
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1, $2}')
if [ -z "$cluster" ]; then
  echo "setup: no PostgreSQL cluster; creating one"
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  $SUDO pg_createcluster "$version" main >/dev/null
  cluster="$version main"
fi
if ! pg_lsclusters --no-header | awk '{print $4}' | grep -q online; then
  echo "setup: starting PostgreSQL $cluster"
  $SUDO pg_ctlcluster $cluster start
fi
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
if ! as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='handoff'\"" | grep -q 1; then
  echo "setup: creating the PostgreSQL role handoff"
  as_postgres "psql -qc \"CREATE ROLE handoff LOGIN CREATEDB PASSWORD 'handoff'\""
fi

# The stock Python client of the interop tests. Debian's python3-confluent-kafka
# links librdkafka 2.0.2, which cannot talk to the local broker; PyPI's wheel
# carries a current one.
# aiosmtpd is the real SMTP receiver of the notification tests; duckdb
# opens the exports the way an analyst would; schemathesis checks the live
# API against its OpenAPI document, and openapi-python-client generates the
# client an agency system's developer would.
python_packages=("confluent-kafka==2.16.0" fastavro pyyaml requests authlib cachetools httpx attrs aiosmtpd duckdb "schemathesis==4.32.5" "openapi-python-client==0.29.1")
if ! .venv/bin/python -c "import confluent_kafka, fastavro, yaml, aiosmtpd, duckdb, schemathesis, openapi_python_client; assert confluent_kafka.__version__ == '2.16.0'" 2>/dev/null; then
  echo "setup: creating the Python venv in .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q "${python_packages[@]}"
fi
# The console's front-end packages (the U.S. Web Design System, built into
# the binary, and axe-core for the browser tests), exactly as locked.
web=crates/console/web
if ! cmp -s "$web/package-lock.json" "$web/node_modules/.handoff-installed-lock" 2>/dev/null; then
  echo "setup: installing the console's npm packages in $web"
  npm ci --prefix "$web" --no-audit --no-fund --loglevel=error >/dev/null
  cp "$web/package-lock.json" "$web/node_modules/.handoff-installed-lock"
fi
echo "setup: ready"
