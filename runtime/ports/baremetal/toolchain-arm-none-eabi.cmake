# CMake toolchain file for bare-metal Arm Cortex-M with the GNU Arm Embedded toolchain
# (arm-none-eabi-gcc). Use:
#   cmake -G Ninja -B build -DCMAKE_TOOLCHAIN_FILE=<runtime>/ports/baremetal/toolchain-arm-none-eabi.cmake \
#         -DMCF_CPU=cortex-m4
#
# Variables (cache; pass with -D):
#   MCF_CPU            cortex-m3 | cortex-m4 | cortex-m7 (picks MCF_CPU_FLAGS; default cortex-m3)
#   MCF_CPU_FLAGS      full CPU/ABI flags, overrides MCF_CPU (e.g. "-mcpu=cortex-m4 -mthumb
#                      -mfloat-abi=hard -mfpu=fpv4-sp-d16")
#   MCF_LIBC           newlib-nano (default) | picolibc: the C library linked (only memcpy/memset
#                      are needed by mcuforge code)
#   MCF_TOOLCHAIN_PREFIX  tool name prefix, default "arm-none-eabi-"; may include a directory
#
# The CPU flags go into CMAKE_C_FLAGS through CMAKE_C_FLAGS_INIT: giving -DCMAKE_C_FLAGS=... on
# the command line replaces them. Add project flags with target_compile_options() instead.
#
# Why newlib-nano by default: the two are within a few hundred bytes of each other for what we
# use, but Debian's picolibc memcpy/memset are byte loops (about 4 instructions per byte on
# Cortex-M3/M7 under QEMU) while newlib-nano's are word loops (about 0.5 per byte), and
# newlib-nano is what the vendor SDKs, Zephyr's gnuarmemb variant and PlatformIO link too.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(MCF_TOOLCHAIN_PREFIX "arm-none-eabi-" CACHE STRING "GNU Arm toolchain prefix")
set(MCF_CPU "cortex-m3" CACHE STRING "Target core: cortex-m3, cortex-m4 or cortex-m7")
set(MCF_CPU_FLAGS "" CACHE STRING "CPU/ABI compiler flags (empty: derived from MCF_CPU)")
set(MCF_LIBC "newlib-nano" CACHE STRING "C library: newlib-nano or picolibc")
set_property(CACHE MCF_LIBC PROPERTY STRINGS newlib-nano picolibc)

# try_compile() projects re-read this file: hand them our settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MCF_TOOLCHAIN_PREFIX MCF_CPU MCF_CPU_FLAGS MCF_LIBC)
# Linking a test executable needs a linker script; compile a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(MCF_CPU_FLAGS STREQUAL "")
  if(MCF_CPU STREQUAL "cortex-m3")
    set(_mcf_cpu_flags "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
  elseif(MCF_CPU STREQUAL "cortex-m4")
    set(_mcf_cpu_flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
  elseif(MCF_CPU STREQUAL "cortex-m7")
    set(_mcf_cpu_flags "-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")
  else()
    message(FATAL_ERROR "MCF_CPU='${MCF_CPU}' is not one of cortex-m3, cortex-m4, cortex-m7; "
                        "set MCF_CPU_FLAGS for other cores")
  endif()
else()
  set(_mcf_cpu_flags "${MCF_CPU_FLAGS}")
endif()

if(MCF_LIBC STREQUAL "newlib-nano")
  set(_mcf_libc_flags "--specs=nano.specs")
elseif(MCF_LIBC STREQUAL "picolibc")
  set(_mcf_libc_flags "--specs=picolibc.specs")
else()
  message(FATAL_ERROR "MCF_LIBC='${MCF_LIBC}' is not newlib-nano or picolibc")
endif()

set(CMAKE_C_COMPILER "${MCF_TOOLCHAIN_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${MCF_TOOLCHAIN_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${MCF_TOOLCHAIN_PREFIX}gcc")
find_program(CMAKE_OBJCOPY "${MCF_TOOLCHAIN_PREFIX}objcopy")
find_program(CMAKE_SIZE "${MCF_TOOLCHAIN_PREFIX}size")

set(CMAKE_C_FLAGS_INIT "${_mcf_cpu_flags} ${_mcf_libc_flags} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_mcf_cpu_flags} ${_mcf_libc_flags} -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti")
set(CMAKE_ASM_FLAGS_INIT "${_mcf_cpu_flags}")
# CMake links through the compiler driver with CMAKE_C_FLAGS on the line, so the CPU and libc
# flags reach the linker from there. The port's startup.c is the entry point: no start files.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections")

set(CMAKE_EXECUTABLE_SUFFIX_C ".elf")
set(CMAKE_EXECUTABLE_SUFFIX_CXX ".elf")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
