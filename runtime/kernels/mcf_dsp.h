/*
 * mcf_dsp.h - which kernel paths are compiled, and the packed 16-bit helpers of the DSP paths.
 *
 * Every kernel keeps its portable reference loop (TFLite Micro's arithmetic, written plainly)
 * and may add faster paths in the same function (CMSIS-NN style):
 *
 *   MCF_KERNELS_FAST  portable C fast paths (hoisting, blocking, im2col): any target.
 *   MCF_KERNELS_DSP   paths using the Armv7E-M / Armv8-M DSP extension (Cortex-M4, M7, M33, M55):
 *                     two 16x16 multiply-accumulates per instruction (SMLAD) on operands widened
 *                     with SXTB16 / SXTAB16.
 *
 * -DMCF_PORTABLE_KERNELS turns both off (the reference loops only: `mcuforge bench` builds such a
 * firmware for comparison). -DMCF_EMULATE_DSP turns the DSP paths on for any compiler, with the
 * instructions written in C below: host tests check their logic bit for bit against TFLite Micro;
 * the QEMU tests (tests/test_kernel_on_device.py) check the real instructions.
 *
 * Every fast path computes the same int32 sums as the reference loop: integer addition is exact
 * (and wraps identically in any order), so blocking, unrolling and pairing products change
 * nothing; requantization then uses mcf_requantize, exactly as the reference does.
 */
#ifndef MCF_DSP_H
#define MCF_DSP_H

#include <stdint.h>
#include <string.h>

#include "mcf_common.h" /* MCF_COPY_FIXED */

#if !defined(MCF_PORTABLE_KERNELS)
#define MCF_KERNELS_FAST 1
#if (defined(__ARM_FEATURE_DSP) && !defined(__ARM_BIG_ENDIAN)) || defined(MCF_EMULATE_DSP)
#define MCF_KERNELS_DSP 1
#else
#define MCF_KERNELS_DSP 0
#endif
#else
#define MCF_KERNELS_FAST 0
#define MCF_KERNELS_DSP 0
#endif

/*
 * MCF_KERNELS_RV32: paths for 32-bit RISC-V cores with the M extension and no packed SIMD
 * (RV32IM, RV32IMAC: ESP32-C3, CH32V, GD32V, Hazard3). Chosen from the compiler's own macros, so
 * every build flavour (CMake, Zephyr, PlatformIO) gets them without a flag; -DMCF_EMULATE_RV32 turns
 * them on for any compiler (host tests, which check them bit for bit against TFLite Micro). Not in
 * the copies of a kernel built for onnxruntime's output stage (MCF_REQUANT_F32): they keep the
 * portable fast paths.
 * Without a multiply-accumulate instruction a product costs MUL + ADD, so these paths keep the
 * operands in registers as plain int8/int16 loads (LB / LH take any byte with a 12-bit offset: no
 * shifts to unpack words) and share each load among a block of accumulators (2 pixels x 4
 * channels in CONV_2D, 4 channels of one pixel in DEPTHWISE_CONV_2D, 8 units in FULLY_CONNECTED).
 *
 * MCF_KERNELS_RVP: the seam for the P (packed SIMD) extension draft (SMAQA: four 8x8 products
 * into one accumulator; KMADA: two 16x16). Nothing uses it yet (QEMU 7.2 cannot run P code): a
 * path for it would go beside each MCF_KERNELS_RV32 block, with the same operands.
 */
#if MCF_KERNELS_FAST && !MCF_KERNELS_DSP && !(defined(MCF_REQUANT_F32) && MCF_REQUANT_F32) && \
    ((defined(__riscv) && __riscv_xlen == 32 && defined(__riscv_mul)) || defined(MCF_EMULATE_RV32))
#define MCF_KERNELS_RV32 1
#else
#define MCF_KERNELS_RV32 0
#endif
#if MCF_KERNELS_RV32 && defined(MCF_KERNELS_RVP) && MCF_KERNELS_RVP
#error "MCF_KERNELS_RVP: the P-extension paths are not written yet"
#endif

/* In generated code: a constant in the layout the fast paths read (fast builds), or the model's own
 * (portable builds). model_data.c defines only the one its build uses. Compile every file of a
 * model library with the same MCF_* flags. */
#if MCF_KERNELS_FAST
#define MCF_FAST_OR(fast, portable) (fast)
#else
#define MCF_FAST_OR(fast, portable) (portable)
#endif

/* ONNX float convolutions (conv2d_s8_fsum.h): MCF_FSUM_HW_FMA where the core has a single-precision
 * fused multiply-add; MCF_FSUM_INT on cores without an FPU (MCF_REQUANT_F32_SOFT), whose kernels
 * compute the float32 operations in integers and read other constants (the int8 filter and the
 * screening constants instead of the float32 filter). In generated code MCF_FSUM_HW_ONLY(x) /
 * MCF_FSUM_INT_ONLY(x) name a constant only the one kind of build holds, 0 in the other. */
#if (defined(__ARM_FEATURE_FMA) && defined(__ARM_FP) && (__ARM_FP & 4)) || defined(__FMA__) || \
    (defined(__riscv_flen) && __riscv_flen >= 32)
#define MCF_FSUM_HW_FMA 1
#else
#define MCF_FSUM_HW_FMA 0
#endif
#if !MCF_FSUM_HW_FMA && MCF_REQUANT_F32_SOFT
#define MCF_FSUM_INT 1
#define MCF_FSUM_HW_ONLY(x) 0
#define MCF_FSUM_INT_ONLY(x) (x)
#else
#define MCF_FSUM_INT 0
#define MCF_FSUM_HW_ONLY(x) (x)
#define MCF_FSUM_INT_ONLY(x) 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Four int8 (or two int16) from any address, as one little-endian word: one unaligned LDR / STR on
 * cores that allow it, byte accesses elsewhere. Written with the compiler's built-in copy, which
 * GCC and clang expand inline for a fixed size even under -ffreestanding / -fno-builtin (Zephyr's
 * flags): a plain memcpy there would be a library call per word (tests/test_freestanding_kernels.py
 * checks the objects).
 */
static inline uint32_t mcf_read_u32(const void *p)
{
#if MCF_UNALIGNED_WORDS
    uint32_t v;
    MCF_COPY_FIXED(&v, p, sizeof v);
    return v;
#else /* GCC calls memcpy for an unaligned word where the core has no unaligned LDR (-O2) */
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
#endif
}

static inline void mcf_write_u32(void *p, uint32_t v)
{
#if MCF_UNALIGNED_WORDS
    MCF_COPY_FIXED(p, &v, sizeof v);
#else
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
#endif
}

/* A word from an address known to be 4-byte aligned (a uint32_t array seen through a byte
 * pointer): one load everywhere. mcf_read_u32 cannot assume that, and on cores where unaligned
 * words are slow or trap GCC builds it from bytes (RV32 with GCC 12: four byte loads and a copy
 * through the stack, -mstrict-align or not). */
static inline uint32_t mcf_load_u32a(const void *p)
{
    uint32_t v;
#if defined(__GNUC__) || defined(__clang__)
    MCF_COPY_FIXED(&v, __builtin_assume_aligned(p, 4), sizeof v);
#else
    MCF_COPY_FIXED(&v, p, sizeof v);
#endif
    return v;
}

/* Two bytes from any address as a little-endian int16 (the portable paths read halfwords of
 * uint32_t arrays). */
static inline int32_t mcf_read_s16(const void *p)
{
#if MCF_UNALIGNED_WORDS
    int16_t v;
    MCF_COPY_FIXED(&v, p, sizeof v);
    return v;
#else
    const uint8_t *b = (const uint8_t *)p;
    return (int32_t)(int16_t)(uint16_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8));
#endif
}

/* floor((a * b + 2^31) / 2^32), the high word of the product rounded: SMMULR where the core has it. */
static inline int32_t mcf_smmulr(int32_t a, int32_t b)
{
#if defined(__GNUC__) && defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

#if MCF_KERNELS_DSP

#if defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
#include <arm_acle.h>

/* Bytes 0 and 2 of x, sign-extended into the two halfwords. */
static inline uint32_t mcf_sxtb16(uint32_t x)
{
    return (uint32_t)__sxtb16((int8x4_t)x);
}

/* Bytes 1 and 3 of x, sign-extended into the two halfwords (one SXTB16 with ROR #8). */
static inline uint32_t mcf_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* a's halfwords plus bytes 0 and 2 of x (sign-extended), each halfword wrapping. */
static inline uint32_t mcf_sxtab16(uint32_t a, uint32_t x)
{
    return (uint32_t)__sxtab16((int16x2_t)a, (int8x4_t)x);
}

/* a's halfwords plus bytes 1 and 3 of x (sign-extended), each halfword wrapping. */
static inline uint32_t mcf_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* acc + a.lo * b.lo + a.hi * b.hi (signed halfwords; the sum wraps modulo 2^32). */
static inline int32_t mcf_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

/* acc + a.lo * b.lo and acc + a.hi * b.hi. */
static inline int32_t mcf_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlabb((int32_t)a, (int32_t)b, acc);
}

static inline int32_t mcf_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlatt((int32_t)a, (int32_t)b, acc);
}

/* Low halfword of a, low halfword of b in the top: (a.lo, b.lo). */
static inline uint32_t mcf_pkhbt(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* High halfword of a in the bottom, high halfword of b on top: (a.hi, b.hi). */
static inline uint32_t mcf_pkhtb(uint32_t b, uint32_t a)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}

#else /* MCF_EMULATE_DSP: the same instructions in C, for host tests of the DSP paths */

static inline int32_t mcf_lo16(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu);
}

static inline int32_t mcf_hi16(uint32_t x)
{
    return (int32_t)(int16_t)(uint16_t)(x >> 16);
}

static inline uint32_t mcf_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xFFFFu) | (((uint32_t)hi & 0xFFFFu) << 16);
}

/* uint32 → int32 modulo 2^32, without implementation-defined conversions. */
static inline int32_t mcf_wrap32(uint32_t v)
{
    return v < 0x80000000u ? (int32_t)v : (int32_t)(v - 0x80000000u) - (int32_t)0x7FFFFFFF - 1;
}

static inline uint32_t mcf_sxtb16(uint32_t x)
{
    return mcf_pack16((int8_t)(uint8_t)(x & 0xFFu), (int8_t)(uint8_t)((x >> 16) & 0xFFu));
}

static inline uint32_t mcf_sxtb16_ror8(uint32_t x)
{
    return mcf_sxtb16((x >> 8) | (x << 24));
}

static inline uint32_t mcf_sxtab16(uint32_t a, uint32_t x)
{
    const uint32_t b = mcf_sxtb16(x);
    return mcf_pack16(mcf_lo16(a) + mcf_lo16(b), mcf_hi16(a) + mcf_hi16(b));
}

static inline uint32_t mcf_sxtab16_ror8(uint32_t a, uint32_t x)
{
    return mcf_sxtab16(a, (x >> 8) | (x << 24));
}

static inline int32_t mcf_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const uint32_t sum = (uint32_t)acc + (uint32_t)(mcf_lo16(a) * mcf_lo16(b)) +
                         (uint32_t)(mcf_hi16(a) * mcf_hi16(b));
    return mcf_wrap32(sum); /* wraps like the instruction */
}

static inline int32_t mcf_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    const uint32_t sum = (uint32_t)acc + (uint32_t)(mcf_lo16(a) * mcf_lo16(b));
    return mcf_wrap32(sum);
}

static inline int32_t mcf_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    const uint32_t sum = (uint32_t)acc + (uint32_t)(mcf_hi16(a) * mcf_hi16(b));
    return mcf_wrap32(sum);
}

static inline uint32_t mcf_pkhbt(uint32_t a, uint32_t b)
{
    return (a & 0xFFFFu) | (b << 16);
}

static inline uint32_t mcf_pkhtb(uint32_t b, uint32_t a)
{
    return (b & 0xFFFF0000u) | (a >> 16);
}

#endif /* real or emulated instructions */

/* (v, v) as two halfwords: SXTAB16 with an offset so packed adds it to two bytes at once. */
static inline uint32_t mcf_dup16(int32_t v)
{
    return ((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16);
}

#if defined(__ARM_FEATURE_DSP) && !defined(MCF_EMULATE_DSP)
/* The signed maximum / minimum of four int8 lanes (four channels or elements a word): SSUB8 sets
 * each lane's GE flag where a >= b, SEL picks by it; one asm block, so nothing comes between them. */
static inline uint32_t mcf_max4_s8(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

static inline uint32_t mcf_min4_s8(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
#else
/* The same lane by lane in C (MCF_EMULATE_DSP). */
static inline uint32_t mcf_minmax4_s8(uint32_t a, uint32_t b, int32_t want_max)
{
    uint32_t r = 0u;
    int32_t k;
    for (k = 0; k < 32; k += 8) {
        const int8_t x = (int8_t)(uint8_t)(a >> k);
        const int8_t y = (int8_t)(uint8_t)(b >> k);
        const int8_t m = (want_max ? x >= y : x < y) ? x : y;
        r |= (uint32_t)(uint8_t)m << k;
    }
    return r;
}

static inline uint32_t mcf_max4_s8(uint32_t a, uint32_t b)
{
    return mcf_minmax4_s8(a, b, 1);
}

static inline uint32_t mcf_min4_s8(uint32_t a, uint32_t b)
{
    return mcf_minmax4_s8(a, b, 0);
}
#endif

#endif /* MCF_KERNELS_DSP */

#ifdef __cplusplus
}
#endif

#endif /* MCF_DSP_H */
