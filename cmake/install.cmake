# Install rules and the packages made from them (included by CMakeLists.txt).
#
#   cmake --install build --prefix P      bin/radius, lib/libradius.a, include/radius/,
#                                         lib/cmake/Radius/, lib/pkgconfig/radius.pc,
#                                         share/radius/models/, share/doc/radius/
#   cd build && cpack -G DEB              radius_<version>_amd64.deb (prefix /usr)
#
# A program using the package:
#   find_package(Radius 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE Radius::radius)
#   #include <radius/radius.h>
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RADIUS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Radius)

install(TARGETS radius EXPORT RadiusTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS radius_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers keep the tree's layout under include/radius/: <radius/net/fit.h>. They
# include each other as "net/fit.h", so the package puts include/radius on the
# include path too (radius/radius.h says what is public).
foreach(folder ${radius_library_folders})
  install(DIRECTORY ${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/radius/${folder}
          FILES_MATCHING PATTERN "*.h" PATTERN "playground" EXCLUDE)
endforeach()
install(FILES radius/radius.h radius/build_info.h ${PROJECT_BINARY_DIR}/generated/radius/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/radius)

# The model specs (the radius program finds them beside its bin/ folder) and the docs.
install(DIRECTORY models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/radius/models)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# ---- the CMake package: RadiusConfig.cmake, RadiusConfigVersion.cmake, RadiusTargets.cmake
install(EXPORT RadiusTargets NAMESPACE Radius:: DESTINATION ${RADIUS_CMAKE_DIR})
configure_package_config_file(cmake/RadiusConfig.cmake.in ${PROJECT_BINARY_DIR}/RadiusConfig.cmake
                              INSTALL_DESTINATION ${RADIUS_CMAKE_DIR})
# 0.x: a new minor version may change the API, so only the same minor version matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/RadiusConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/RadiusConfig.cmake ${PROJECT_BINARY_DIR}/RadiusConfigVersion.cmake
        DESTINATION ${RADIUS_CMAKE_DIR})

# ---- pkg-config: radius.pc
file(RELATIVE_PATH RADIUS_PC_UP /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
set(RADIUS_PC_CFLAGS "")
set(RADIUS_PC_LIBS "")
if(RADIUS_NATIVE)
  set(RADIUS_PC_CFLAGS "-march=native")
endif()
if(RADIUS_CUDA)
  set(RADIUS_PC_CFLAGS "${RADIUS_PC_CFLAGS} -DRADIUS_WITH_CUDA=1 -I${CUDAToolkit_INCLUDE_DIRS}")
  set(RADIUS_PC_LIBS "-L${CUDAToolkit_LIBRARY_DIR} -lcudart")
endif()
# DCMTK's libraries by name: Debian's dcmtk.pc requires sndfile.pc, which its -dev package
# does not pull in, so "Requires: dcmtk" would break pkg-config for every user.
if(RADIUS_DICOM)
  set(RADIUS_PC_LIBS "${RADIUS_PC_LIBS} -ldcmjpls -ldcmjpeg -ldcmimgle -ldcmdata -loflog -lofstd")
endif()
configure_file(cmake/radius.pc.in ${PROJECT_BINARY_DIR}/radius.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/radius.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- the Debian package (CPack): cpack -G DEB in the build folder
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME radius)
set(CPACK_PACKAGE_VENDOR "Radius")
set(CPACK_PACKAGE_CONTACT "Radius developers <radius@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "small CNN framework (CPU and CUDA) and a bone-fracture X-ray classifier")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # radius_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# The program's shared libraries, and the -dev packages that find_package(Radius)
# needs for the headers the public ones include.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libpng16-16 | libpng16-16t64, libjpeg62-turbo, libcsv3, libgomp1, libstdc++6, libeigen3-dev, nlohmann-json3-dev, libpng-dev, libjpeg62-turbo-dev, libcsv-dev")
if(RADIUS_MPI)  # the program links Open MPI (data-parallel training); the library does not
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libopenmpi3 | libopenmpi3t64")
endif()
if(RADIUS_DICOM)  # the library links DCMTK: its runtime, and its -dev package for find_dependency
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libdcmtk17, libdcmtk-dev")
endif()
set(radius_deb_notes "")
if(RADIUS_NATIVE)
  string(APPEND radius_deb_notes " Built with -march=native: it runs on CPUs like the build machine's only (configure with -DRADIUS_NATIVE=OFF for a portable package).")
endif()
if(RADIUS_CUDA)
  string(APPEND radius_deb_notes " The CUDA backend needs the CUDA ${CMAKE_CUDA_COMPILER_VERSION} runtime (libcudart), from NVIDIA's CUDA toolkit.")
endif()
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "The radius program (train, evaluate, predict, explain), the Radius C++ library with its headers, CMake package and pkg-config file, and the model specs.${radius_deb_notes}")
include(CPack)
