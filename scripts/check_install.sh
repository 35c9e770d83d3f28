#!/usr/bin/env bash
# Radius as a library, checked from outside the tree (CI runs this after the tests):
#  1. cmake --install into a temporary prefix; radius --version from there;
#  2. examples/ built out of tree against it with find_package(Radius), and run:
#     train_folder on a small synthetic set, predict_folder on that run, custom_layer;
#  3. pkg-config: one example built from `pkg-config --cflags --libs radius` alone;
#  4. cpack -G DEB: radius_<version>_<arch>.deb, unpacked with dpkg -x, its contents checked.
#   bash scripts/check_install.sh [BUILD_DIR]      (BUILD_DIR: a built release tree, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
"$prefix/bin/radius" --version
"$prefix/bin/radius" summary | head -3  # the installed specs are found from bin/

echo "== examples against the installed package (find_package(Radius))"
cmake -S examples -B "$work/examples" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >"$work/examples.log" 2>&1 ||
  { cat "$work/examples.log"; exit 1; }
grep "Radius" "$work/examples.log" || true
cmake --build "$work/examples" -j "$(nproc)"
"$prefix/bin/radius" synth --out "$work/data" --count 80 --min-side 64 --max-side 96 --model-side 64 --seed 3 >/dev/null
"$work/examples/train_folder" "$work/data/train" "$work/run" 2 | tail -3
"$work/examples/predict_folder" "$work/run" "$work/data/test" | tail -8
"$work/examples/custom_layer" | tail -1

echo "== pkg-config"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pkg-config --modversion radius
# shellcheck disable=SC2046  # the flags are words
g++ -std=c++20 -O1 examples/custom_layer.cpp -o "$work/custom_layer_pc" $(pkg-config --cflags --libs radius)
"$work/custom_layer_pc" | tail -1

echo "== Debian package (cpack -G DEB)"
(cd "$build" && cpack -G DEB -B "$work/deb" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/deb/radius_*.deb)
echo "$(basename "$deb")"
dpkg-deb --field "$deb" Package Version Architecture Depends
dpkg -x "$deb" "$work/root"
for f in usr/bin/radius usr/include/radius/radius.h usr/include/radius/version.h usr/include/radius/net/fit.h \
         usr/share/radius/models/paper.spec usr/share/doc/radius/README.md usr/share/doc/radius/examples/train_folder.cpp; do
  [ -f "$work/root/$f" ] || { echo "the package lacks $f"; exit 1; }
done
for f in libradius.a cmake/Radius/RadiusConfig.cmake cmake/Radius/RadiusConfigVersion.cmake \
         cmake/Radius/RadiusTargets.cmake pkgconfig/radius.pc; do
  [ -n "$(find "$work/root/usr" -path "*/lib*/$f")" ] || { echo "the package lacks lib/$f"; exit 1; }
done
"$work/root/usr/bin/radius" --version | head -1
echo "== install check passed"
