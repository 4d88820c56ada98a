# CMake toolchain file: cross-compile for arm64 (aarch64) Linux with
# Debian's gcc-aarch64-linux-gnu against a Debian arm64 root file system
# holding the target's -dev packages (scripts/test.sh's arm64
# configuration makes it with scripts/rootfs.sh --extract; docs/PORTING.md).
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DUVMBUS_SYSROOT=/var/cache/uvmbus-test/sysroot-arm64 ...
# UVMBUS_SYSROOT (or the environment's UVMBUS_SYSROOT) is the tree; the
# default is the one scripts/test.sh makes. Tests run under qemu-aarch64
# (CMAKE_CROSSCOMPILING_EMULATOR) with the tree as its library root.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# Toolchain files are read again for every try_compile, where only the
# environment is passed on: keep the choice there.
if(NOT UVMBUS_SYSROOT)
	if(DEFINED ENV{UVMBUS_SYSROOT})
		set(UVMBUS_SYSROOT "$ENV{UVMBUS_SYSROOT}")
	else()
		set(UVMBUS_SYSROOT /var/cache/uvmbus-test/sysroot-arm64)
	endif()
endif()
set(ENV{UVMBUS_SYSROOT} "${UVMBUS_SYSROOT}")
if(NOT EXISTS "${UVMBUS_SYSROOT}/usr/include/stdio.h")
	message(FATAL_ERROR "no arm64 root file system at ${UVMBUS_SYSROOT}: "
		"make one with scripts/test.sh (CONFIGS=arm64) or scripts/rootfs.sh --extract arm64")
endif()
set(CMAKE_SYSROOT "${UVMBUS_SYSROOT}")

# Programs from this machine, everything else from the tree only.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: the tree's .pc files only, their paths inside the tree.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${UVMBUS_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
	"${UVMBUS_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${UVMBUS_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest runs the test programs under user-mode emulation, the tree as the
# root for the dynamic loader and libraries (-L, and QEMU_LD_PREFIX for
# the programs they execute). UVMBUS_QEMU tells tests/arm64's
# qemu_exec_shim (linked into the tests) to execute an arm64 program
# (Criterion's workers) through qemu-aarch64 again: the host kernel cannot.
find_program(UVMBUS_QEMU_AARCH64 qemu-aarch64)
if(UVMBUS_QEMU_AARCH64)
	set(CMAKE_CROSSCOMPILING_EMULATOR "${UVMBUS_QEMU_AARCH64};-L;${UVMBUS_SYSROOT}"
		"-E;QEMU_LD_PREFIX=${UVMBUS_SYSROOT};-E;UVMBUS_QEMU=${UVMBUS_QEMU_AARCH64}")
endif()
