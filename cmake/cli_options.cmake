# The command line's option vocabulary as a library (CMakeLists.txt, cmake/fuzz.cmake):
# the shared flags and their range checks, the training options table with config.json's
# writer and checked reader, and where the model specs are.
set(radius_cli_options_sources
  ${PROJECT_SOURCE_DIR}/apps/common_flags.cpp
  ${PROJECT_SOURCE_DIR}/apps/training_options.cpp
  ${PROJECT_SOURCE_DIR}/apps/models_dir.cpp)
add_library(radius_cli_options STATIC ${radius_cli_options_sources})
target_compile_definitions(radius_cli_options PRIVATE RADIUS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_include_directories(radius_cli_options PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(radius_cli_options PUBLIC CLI11::CLI11 nlohmann_json::nlohmann_json PRIVATE radius_flags)
