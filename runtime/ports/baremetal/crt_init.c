/*
 * crt_init.c - the C environment from the linker script's tables, for every CPU family's startup
 * code (arm/startup.c, riscv/startup.c), which calls mcf_crt_init() before main().
 *
 * The linker script (rendered by generator/linker.py) provides:
 *   __mcf_copy_table_start/_end   {load, start, end} word triples: sections to copy from flash to
 *                                 RAM (.data, and RAM regions that hold initialised data)
 *   __mcf_zero_table_start/_end   {start, end} word pairs to clear (.bss)
 *   __mcf_init_array_start/_end   constructors (.preinit_array + .init_array)
 */
#include <stdint.h>

#include "mcf_baremetal.h"

extern const uint32_t __mcf_copy_table_start[];
extern const uint32_t __mcf_copy_table_end[];
extern const uint32_t __mcf_zero_table_start[];
extern const uint32_t __mcf_zero_table_end[];
typedef void (*mcf_ctor)(void);
extern const mcf_ctor __mcf_init_array_start[];
extern const mcf_ctor __mcf_init_array_end[];

/*
 * GCC must not turn these loops into memcpy/memset calls: they run before the C environment
 * exists, and the port needs no C library to boot.
 */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void mcf_crt_init(void)
{
    for (const uint32_t *entry = __mcf_copy_table_start; entry < __mcf_copy_table_end; entry += 3) {
        const uint32_t *src = (const uint32_t *)(uintptr_t)entry[0];
        uint32_t *dst = (uint32_t *)(uintptr_t)entry[1];
        uint32_t *const end = (uint32_t *)(uintptr_t)entry[2];
        while (dst < end) {
            *dst++ = *src++;
        }
    }
    for (const uint32_t *entry = __mcf_zero_table_start; entry < __mcf_zero_table_end; entry += 2) {
        uint32_t *dst = (uint32_t *)(uintptr_t)entry[0];
        uint32_t *const end = (uint32_t *)(uintptr_t)entry[1];
        while (dst < end) {
            *dst++ = 0;
        }
    }
    for (const mcf_ctor *ctor = __mcf_init_array_start; ctor < __mcf_init_array_end; ++ctor) {
        (*ctor)();
    }
}
