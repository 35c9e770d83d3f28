#!/usr/bin/env bash
# Copies the build dependencies a GPU machine may lack (it has no package
# registry) into the ignored folder .gpu-deps/, laid out like /usr so that the
# Debian CMake package files inside stay valid when relocated:
#   .gpu-deps/include/        Eigen, doctest, CLI11, nlohmann-json, Google Benchmark,
#                             libpng, libjpeg, zlib, libcsv headers
#   .gpu-deps/lib/x86_64-linux-gnu/   static libpng/libjpeg/libz/libcsv, libbenchmark.so
#   .gpu-deps/share/..., lib/cmake/... the packages' CMake config files
# CMake then finds everything with -DCMAKE_PREFIX_PATH=$PWD/.gpu-deps.
# Run it here (where the Debian -dev packages are installed), then
# bring .gpu-deps along with the checkout. See kernels/README.md.
#
#   bash scripts/gpu_deps.sh            # (re)creates .gpu-deps
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.gpu-deps
multiarch=x86_64-linux-gnu
rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib/$multiarch" "$dest/share" "$dest/lib/cmake" "$dest/lib/$multiarch/cmake"

need() { [ -e "$1" ] || { echo "gpu_deps: missing $1 (install the Debian -dev packages: scripts/bootstrap.sh)" >&2; exit 1; }; }
copy() { need "$1"; cp -rL "$1" "$2"; }  # -L: Debian links headers (png.h -> libpng16/png.h)

# Header-only libraries and their CMake packages.
copy /usr/include/eigen3 "$dest/include/"
mkdir -p "$dest/share/eigen3" && copy /usr/share/eigen3/cmake "$dest/share/eigen3/"
copy /usr/include/doctest "$dest/include/"
copy /usr/lib/cmake/doctest "$dest/lib/cmake/"
copy /usr/include/CLI "$dest/include/"
mkdir -p "$dest/share/cmake" && copy /usr/share/cmake/CLI11 "$dest/share/cmake/"
copy /usr/include/nlohmann "$dest/include/"
copy /usr/share/cmake/nlohmann_json "$dest/share/cmake/"

# Google Benchmark: headers, the shared library (with its SONAME link), CMake package.
copy /usr/include/benchmark "$dest/include/"
for f in /usr/lib/$multiarch/libbenchmark.so* /usr/lib/$multiarch/libbenchmark_main.a; do copy "$f" "$dest/lib/$multiarch/"; done
copy /usr/lib/$multiarch/cmake/benchmark "$dest/lib/$multiarch/cmake/"

# Image libraries, static (no shared-library version skew on the other machine).
for h in png.h pngconf.h pnglibconf.h jpeglib.h jerror.h jmorecfg.h zlib.h zconf.h csv.h; do copy "/usr/include/$h" "$dest/include/"; done
copy /usr/include/$multiarch/jconfig.h "$dest/include/"
for a in libpng16.a libjpeg.a libz.a libcsv.a; do copy "/usr/lib/$multiarch/$a" "$dest/lib/$multiarch/"; done
ln -sf libpng16.a "$dest/lib/$multiarch/libpng.a"

# cuDNN headers, in case the GPU machine has cuDNN only inside PyTorch's wheel
# (the wheel ships them too; these are a fallback). Small: a few hundred KB.
if ls /usr/local/cuda/include/cudnn*.h >/dev/null 2>&1; then
  mkdir -p "$dest/cudnn/include" && cp -a /usr/local/cuda/include/cudnn*.h "$dest/cudnn/include/"
fi

echo "gpu_deps: $(du -sh "$dest" | cut -f1) in $dest"
