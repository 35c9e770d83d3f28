#!/usr/bin/env bash
# Installs Radius's Debian dependencies (if missing) and builds it.
#   bash scripts/bootstrap.sh [BUILD_DIR] [extra cmake args...]
# Everything comes from Debian packages; nothing is downloaded at configure time.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${1:-build}
shift || true

packages=(build-essential cmake ninja-build pkg-config
          libeigen3-dev doctest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
          libpng-dev libjpeg62-turbo-dev libcsv-dev
          libdcmtk-dev dcmtk  # DICOM input (optional to the build; dcmtk's tools make test files by hand)
          libonnx-dev libprotobuf-dev protobuf-compiler  # ONNX export (optional to the build)
          libopenmpi-dev openmpi-bin)  # data-parallel training (-DRADIUS_MPI=ON; optional to the build)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# nvcc lives outside PATH on a default CUDA install; CMake turns RADIUS_CUDA on when it finds it.
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"

jobs=$(nproc)
echo "== configuring $build_dir"
cmake -S . -B "$build_dir" -G Ninja "$@" >"$build_dir.configure.log" 2>&1 || { cat "$build_dir.configure.log"; exit 1; }
grep -E "^-- Radius" "$build_dir.configure.log" || true
echo "== building $build_dir ($jobs jobs)"
cmake --build "$build_dir" -j "$jobs"
