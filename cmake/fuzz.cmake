# The libFuzzer build (RADIUS_FUZZ=ON), included by CMakeLists.txt in place of the
# normal targets: only the library sources the input surfaces need, instrumented
# for coverage (fuzzer-no-link) and checked by ASan + UBSan, and one executable per
# tests/fuzz/fuzz_*.cpp. No tests, benchmarks, CUDA or CLI: the build stays small.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "RADIUS_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++ "
                      "(Debian: clang and libclang-rt-dev)")
endif()
if(RADIUS_CUDA)
  message(FATAL_ERROR "RADIUS_FUZZ is a CPU-only build: add -DRADIUS_CUDA=OFF")
endif()

set(radius_fuzz_flags -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1 -g1)

# The library's own source list (radius_folder_sources and radius_version_sources,
# CMakeLists.txt's globs for the `radius` target), so a new .cpp can never be missing here: twice a new file used by Sequential broke only this
# build, and only in CI. Linking drops what no target reaches.
# The Eigen-heavy layer math no target runs (the parser only builds layers, the loaders
# only copy weights) is compiled plainly: no instrumentation, no optimization.
set(radius_fuzz_plain_sources layers/conv2d.cpp layers/dense.cpp layers/gemm.cpp layers/gemm_kernels.cpp)
add_library(radius_fuzz_plain STATIC ${radius_fuzz_plain_sources})
target_include_directories(radius_fuzz_plain PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_options(radius_fuzz_plain PRIVATE -O0 -g0)
target_link_libraries(radius_fuzz_plain PUBLIC Eigen3::Eigen OpenMP::OpenMP_CXX)

set(radius_fuzz_sources ${radius_folder_sources} ${radius_version_sources})
list(TRANSFORM radius_fuzz_plain_sources PREPEND ${PROJECT_SOURCE_DIR}/)
list(REMOVE_ITEM radius_fuzz_sources ${radius_fuzz_plain_sources})
add_library(radius_fuzz_core STATIC ${radius_fuzz_sources})
target_include_directories(radius_fuzz_core PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated
                           PRIVATE ${CSV_INCLUDE_DIR})
target_compile_options(radius_fuzz_core PUBLIC ${radius_fuzz_flags})
target_link_libraries(radius_fuzz_core
  PUBLIC Eigen3::Eigen OpenMP::OpenMP_CXX nlohmann_json::nlohmann_json radius_fuzz_plain
  PRIVATE PNG::PNG JPEG::JPEG ${CSV_LIBRARY})
if(RADIUS_DICOM)  # DCMTK itself is not instrumented; our decoder around it is (fuzz_dicom)
  target_link_libraries(radius_fuzz_core PRIVATE ${radius_dcmtk_targets})
  target_compile_definitions(radius_fuzz_core PRIVATE RADIUS_WITH_DICOM=1)
endif()

# The command line's config.json reader (fuzz_config), instrumented like the library.
include(cmake/cli_options.cmake)
target_compile_options(radius_cli_options PRIVATE ${radius_fuzz_flags})

file(GLOB radius_fuzz_targets CONFIGURE_DEPENDS tests/fuzz/fuzz_*.cpp)
foreach(src ${radius_fuzz_targets})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE radius_fuzz_core radius_cli_options)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
endforeach()
message(STATUS "Radius: fuzz build (libFuzzer + ASan + UBSan)")

# The seed-corpus writer (not a fuzzer): build-fuzz/make_seeds tests/fuzz/corpus
add_executable(make_seeds tests/fuzz/make_seeds.cpp)
target_link_libraries(make_seeds PRIVATE radius_fuzz_core radius_cli_options PNG::PNG JPEG::JPEG)
target_link_options(make_seeds PRIVATE -fsanitize=address,undefined)
target_compile_definitions(make_seeds PRIVATE RADIUS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
