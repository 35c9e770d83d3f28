#!/usr/bin/env python3
"""Finds cuDNN and cuBLAS (header + shared library) for the GPU check's baselines.

They may be in the CUDA toolkit, in the system's include/lib folders, or only
inside the pip wheels that PyTorch installed, and the wheels change layout
between releases (nvidia/cudnn/{include,lib}, nvidia/cublas/{include,lib},
nvidia/cu13/{include,lib}, ...). So nothing is assumed about the layout: every
candidate root is searched (a few levels deep) for the files themselves:
cudnn.h + libcudnn.so*, cublas_v2.h + libcublas.so*. A header and a library from
the same root are preferred (one package, one version); each root is tried in
order: $CUDNN_ROOT / $CUBLAS_ROOT, the CUDA toolkit, the system folders, every
site-packages' nvidia/ and torch/lib, then .gpu-deps/cudnn (headers copied by
scripts/gpu_deps.sh).

Prints shell assignments for scripts/gpu_check.sh to eval, preceded by a report
in '# ' comment lines that says what was found where (or what is missing):
  CUDNN_INCLUDE_DIR, CUDNN_LIBRARY, CUBLAS_INCLUDE_DIR, CUBLAS_LIBRARY,
  CUBLAS_IN_TOOLKIT (1 when the toolkit has it: CMake then finds it itself),
  BASELINE_LIB_DIRS (colon-separated folders of the libraries found, for LD_LIBRARY_PATH)

  python3 scripts/gpu_find_libs.py [--root DIR ...]   # --root: search only these (tests)
"""
import argparse
import glob
import os
import re
import shlex
import site
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_DEPTH = 5  # wheel layouts put the files 2-3 levels below nvidia/

# package -> (header, library file name pattern: the library itself, not its sub-libraries)
PACKAGES = {
    "cudnn": ("cudnn.h", re.compile(r"^libcudnn\.so(\.\d+)*$")),
    "cublas": ("cublas_v2.h", re.compile(r"^libcublas\.so(\.\d+)*$")),
}


def site_dirs():
    dirs = []
    try:
        dirs += site.getsitepackages()
    except AttributeError:  # some virtualenvs
        pass
    try:
        dirs.append(site.getusersitepackages())
    except AttributeError:
        pass
    dirs += [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    return dirs


def toolkit_dirs():
    """The CUDA toolkit's roots: /usr/local/cuda, $CUDA_HOME, and nvcc's."""
    roots = [os.environ.get("CUDA_HOME", ""), os.environ.get("CUDA_PATH", ""), "/usr/local/cuda"]
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if os.path.isfile(os.path.join(d, "nvcc")):
            roots.append(os.path.dirname(d))
    out = []
    for r in roots:
        if not r:
            continue
        out.append(r)
        out += sorted(glob.glob(os.path.join(r, "targets", "*")))  # targets/x86_64-linux/{include,lib}
    return out


def default_roots(package):
    """(root, label) in the order they are tried."""
    roots = []
    env = os.environ.get(package.upper() + "_ROOT")
    if env:
        roots.append((env, f"${package.upper()}_ROOT"))
    roots += [(r, "CUDA toolkit") for r in toolkit_dirs()]
    roots += [("/usr/include", "system"), ("/usr/lib/x86_64-linux-gnu", "system"), ("/usr/lib64", "system")]
    for sp in site_dirs():
        roots.append((os.path.join(sp, "nvidia"), "pip wheel"))
        roots.append((os.path.join(sp, "torch", "lib"), "pip wheel (torch)"))
    roots.append((os.path.join(ROOT, ".gpu-deps", "cudnn"), "copied by gpu_deps.sh"))
    seen, unique = set(), []
    for r, label in roots:
        key = os.path.realpath(r)
        if key not in seen and os.path.isdir(r):
            seen.add(key)
            unique.append((r, label))
    return unique


def search(root, header, lib_pattern):
    """(headers, libraries) under root, at most MAX_DEPTH levels down, in a stable order."""
    headers, libs = [], []
    base_depth = root.rstrip(os.sep).count(os.sep)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        if dirpath.count(os.sep) - base_depth >= MAX_DEPTH:
            dirnames[:] = []
        for f in sorted(filenames):
            if f == header:
                headers.append(os.path.join(dirpath, f))
            elif lib_pattern.match(f):
                libs.append(os.path.join(dirpath, f))
    return headers, libs


def pick_library(libs):
    """The one to link: the unversioned .so when there is one, else the shortest (the SONAME)."""
    return min(libs, key=lambda p: (len(os.path.basename(p)), p)) if libs else None


def find(package, roots):
    """{'header', 'library', 'header_from', 'library_from'} (values None when absent)."""
    header, pattern = PACKAGES[package]
    found = [(r, label, *search(r, header, pattern)) for r, label in roots]
    for r, label, hs, ls in found:  # a root with both: one package, one version
        if hs and ls:
            return {"header": hs[0], "library": pick_library(ls), "header_from": f"{label} {r}",
                    "library_from": f"{label} {r}"}
    result = {"header": None, "library": None, "header_from": None, "library_from": None}
    for r, label, hs, ls in found:
        if hs and not result["header"]:
            result["header"], result["header_from"] = hs[0], f"{label} {r}"
        if ls and not result["library"]:
            result["library"], result["library_from"] = pick_library(ls), f"{label} {r}"
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", action="append", help="search only this folder (repeatable; tests)")
    args = ap.parse_args()
    report, assign, lib_dirs = [], {}, []
    toolkit = [os.path.realpath(r) for r in toolkit_dirs()]
    for package, name in (("cudnn", "cuDNN"), ("cublas", "cuBLAS")):
        roots = [(r, "given") for r in args.root] if args.root else default_roots(package)
        f = find(package, roots)
        header, library = f["header"], f["library"]
        if header and library:
            report.append(f"{name}: found: header {header} ({f['header_from']}), library {library} ({f['library_from']})")
        elif header or library:
            missing = "library" if header else "header"
            report.append(f"{name}: INCOMPLETE: {header or library} found but no {missing}; baseline absent")
        else:
            looked = ", ".join(r for r, _ in roots) or "nowhere (no candidate folder exists)"
            report.append(f"{name}: not found (looked in {looked}); baseline absent, our kernels still run")
        if header and library:
            up = package.upper()
            assign[f"{up}_INCLUDE_DIR"] = os.path.dirname(header)
            assign[f"{up}_LIBRARY"] = library
            lib_dirs.append(os.path.dirname(library))
            if package == "cublas":
                in_toolkit = any(os.path.realpath(library).startswith(t + os.sep) for t in toolkit)
                assign["CUBLAS_IN_TOOLKIT"] = "1" if in_toolkit and not args.root else "0"
    assign["BASELINE_LIB_DIRS"] = ":".join(dict.fromkeys(lib_dirs))
    for line in report:
        print("# " + line)
    for k, v in assign.items():
        print(f"{k}={shlex.quote(v)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
