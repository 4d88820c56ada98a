# The CUSE front end of azblobd (docs/CUSE.md): a library of its own so that
# azblobd, the standalone azblob-cuse and the unit tests share it.
find_package(PkgConfig REQUIRED)
pkg_check_modules(FUSE3 REQUIRED IMPORTED_TARGET fuse3)
find_package(Threads REQUIRED)

set(AZCUSE_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(azcuse_abi STATIC ${AZCUSE_DIR}/cuse_abi.c)
target_include_directories(azcuse_abi PUBLIC ${AZCUSE_DIR})
target_link_libraries(azcuse_abi PUBLIC azblob_static)

add_library(azcuse STATIC ${AZCUSE_DIR}/cuse_fe.c ${AZCUSE_DIR}/cuse_owner.c)
target_compile_definitions(azcuse PRIVATE _GNU_SOURCE)
target_link_libraries(azcuse PUBLIC azcuse_abi azblob_static PkgConfig::FUSE3 Threads::Threads)

add_executable(azblob-cuse ${AZCUSE_DIR}/azblob_cuse_main.c)
target_link_libraries(azblob-cuse PRIVATE azcuse azblobd_core azblobsim azblob_static uvmbus_static)
install(TARGETS azblob-cuse RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
