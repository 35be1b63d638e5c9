"""Host twin of runtime/kernels/mcf_fixedpoint.h: the same 32-bit fixed-point exp, logistic and
tanh, step for step, so lookup tables can be built ahead of time with the exact values the C
code (and TFLite Micro) would compute. See the header for the notation (Qm = m integer bits).

Everything works on Python ints holding int32 values; `_wrap` reproduces the modulo-2^32
behaviour of the C additions.
"""

from __future__ import annotations

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
Q0_ONE = INT32_MAX
Q2_ONE = 1 << 29

# round(exp(-2^k) * 2^31) for k = -2 .. 4
_EXP_MINUS_POT = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)
_EXP_MINUS_EIGHTH = 1895147668  # round(exp(-1/8) * 2^31)
_ONE_THIRD = 715827883  # round(2^31 / 3)
_48_OVER_17 = 1515870810  # round(48/17 * 2^29)
_MINUS_32_OVER_17 = -1010580540  # round(-32/17 * 2^29)


def _wrap(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def mul(a: int, b: int) -> int:
    """round(a * b / 2^31), ties away from zero; saturates INT32_MIN * INT32_MIN."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    v = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return v >> 31 if v >= 0 else -((-v) >> 31)


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def sat_shift_left(x: int, exponent: int) -> int:
    if exponent == 0:
        return x
    limit = (1 << (31 - exponent)) - 1
    if x > limit:
        return INT32_MAX
    if x < -limit:
        return INT32_MIN
    return x << exponent


def rounding_half_sum(a: int, b: int) -> int:
    s = a + b
    s += 1 if s >= 0 else -1
    return s // 2 if s >= 0 else -((-s) // 2)  # C division truncates toward zero


def exp_quarter(a: int) -> int:
    x = _wrap(a + (1 << 28))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_quarter = rounding_divide_by_pot(x4, 2)
    tail = rounding_divide_by_pot(_wrap(mul(_wrap(x4_quarter + x3), _ONE_THIRD) + x2), 1)
    return _wrap(_EXP_MINUS_EIGHTH + mul(_EXP_MINUS_EIGHTH, _wrap(x + tail)))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    frac_bits = 31 - integer_bits
    quarter = 1 << (frac_bits - 2)
    a_mod = _wrap((a & (quarter - 1)) - quarter)
    remainder = _wrap(a_mod - a)
    result = exp_quarter(sat_shift_left(a_mod, integer_bits))
    for k in range(-2, 5):
        if integer_bits > k and remainder & (1 << (frac_bits + k)):
            result = mul(result, _EXP_MINUS_POT[k + 2])
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return Q0_ONE if a == 0 else result


def _reciprocal_half_denominator_q2(a: int) -> int:
    half_denominator = rounding_half_sum(a, Q0_ONE)
    x = _wrap(_48_OVER_17 + mul(half_denominator, _MINUS_32_OVER_17))
    for _ in range(3):
        err = _wrap(Q2_ONE - mul(half_denominator, x))
        x = _wrap(x + sat_shift_left(mul(x, err), 2))
    return x


def one_over_one_plus_x(a: int) -> int:
    return sat_shift_left(_reciprocal_half_denominator_q2(a), 1)


def one_minus_x_over_one_plus_x(a: int) -> int:
    return sat_shift_left(_wrap(_reciprocal_half_denominator_q2(a) - Q2_ONE), 2)


def logistic(a: int, integer_bits: int) -> int:
    if a == 0:
        return 1 << 30
    abs_a = a if a > 0 else _wrap(-a)
    pos = one_over_one_plus_x(exp_on_negative_values(_wrap(-abs_a), integer_bits))
    return pos if a > 0 else _wrap(Q0_ONE - pos)


def tanh(a: int, integer_bits: int) -> int:
    if a == 0:
        return 0
    neg_abs = a if a < 0 else _wrap(-a)
    t = one_minus_x_over_one_plus_x(exp_on_negative_values(neg_abs, integer_bits + 1))
    return _wrap(-t) if a < 0 else t
