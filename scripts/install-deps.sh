#!/usr/bin/env bash
# Installs everything meshlog needs to build, test and benchmark, from Debian's packages only.
# Idempotent and fast when everything is present: `apt-get update` runs only when a package is missing.
set -euo pipefail

BUILD_PKGS=(
  cmake ninja-build g++ clang clang-14 libclang-rt-14-dev pkg-config
  libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libabsl-dev
  libboost-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
)
TEST_PKGS=(
  curl jq socat rsyslog logrotate nginx-light haproxy wrk procps iproute2
  python3 python3-grpcio python3-protobuf
  liburing-dev
)

want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}")
missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Debian's nginx/rsyslog packages try to start their services; the tests start their own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
