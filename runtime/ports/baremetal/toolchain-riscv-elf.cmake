# CMake toolchain file for bare-metal RV32 with the GNU RISC-V toolchain (Debian:
# gcc-riscv64-unknown-elf, which builds 32-bit code too, with picolibc-riscv64-unknown-elf). Use:
#   cmake -G Ninja -B build -DCMAKE_TOOLCHAIN_FILE=<runtime>/ports/baremetal/toolchain-riscv-elf.cmake
#
# Variables (cache; pass with -D):
#   MCF_CPU_FLAGS      ISA and ABI flags, default "-march=rv32imac -mabi=ilp32"; the driver picks
#                      the C library variant (multilib) from them, so use an -march/-mabi pair the
#                      toolchain has one for (`<prefix>gcc --specs=picolibc.specs -print-multi-lib`)
#   MCF_LIBC           picolibc (the C library Debian ships for this toolchain; only memcpy/memset
#                      are needed by mcuforge code)
#   MCF_TOOLCHAIN_PREFIX  tool name prefix, default "riscv64-unknown-elf-"; may include a directory
#
# The CPU flags go into CMAKE_C_FLAGS through CMAKE_C_FLAGS_INIT: giving -DCMAKE_C_FLAGS=... on
# the command line replaces them. Add project flags with target_compile_options() instead.
# CMAKE_SYSTEM_PROCESSOR riscv32 makes the port's CMakeLists.txt take its riscv/ folder.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)

set(MCF_TOOLCHAIN_PREFIX "riscv64-unknown-elf-" CACHE STRING "GNU RISC-V toolchain prefix")
set(MCF_CPU_FLAGS "-march=rv32imac -mabi=ilp32" CACHE STRING "ISA/ABI compiler flags")
set(MCF_LIBC "picolibc" CACHE STRING "C library: picolibc")
set_property(CACHE MCF_LIBC PROPERTY STRINGS picolibc)

list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MCF_TOOLCHAIN_PREFIX MCF_CPU_FLAGS MCF_LIBC)
# Linking a test executable needs a linker script; compile a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(NOT MCF_LIBC STREQUAL "picolibc")
  message(FATAL_ERROR "MCF_LIBC='${MCF_LIBC}': the RISC-V port links picolibc only")
endif()

set(CMAKE_C_COMPILER "${MCF_TOOLCHAIN_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${MCF_TOOLCHAIN_PREFIX}g++")
set(CMAKE_ASM_COMPILER "${MCF_TOOLCHAIN_PREFIX}gcc")
find_program(CMAKE_OBJCOPY "${MCF_TOOLCHAIN_PREFIX}objcopy")
find_program(CMAKE_SIZE "${MCF_TOOLCHAIN_PREFIX}size")

set(CMAKE_C_FLAGS_INIT "${MCF_CPU_FLAGS} --specs=picolibc.specs -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${MCF_CPU_FLAGS} --specs=picolibc.specs -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti")
set(CMAKE_ASM_FLAGS_INIT "${MCF_CPU_FLAGS}")
# The port's riscv/startup.c is the entry point: no start files. A board without flash runs code
# and data from one RAM region, one loadable segment that is writable and executable by design.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections -Wl,--no-warn-rwx-segments")

set(CMAKE_EXECUTABLE_SUFFIX_C ".elf")
set(CMAKE_EXECUTABLE_SUFFIX_CXX ".elf")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
