"""Refusals read by a person: the same reason on many operators of one kind is said once.

A uint8 MobileNet has 64 operators refused for the same cause, each naming its own tensor; listed one
by one the error is a line of several thousand characters. Grouped, it reads
"CONV_2D ×35 (operators 0, 2, 3, 5, 6, 8, …): tensor '…' is uint8; …"."""

from __future__ import annotations

import re

_OPERATOR = re.compile(r"operator (\d+) \(([^)]+)\): (.*)", re.DOTALL)
_QUOTED = re.compile(r"'[^']*'")
SHOWN = 6  # operator numbers listed before "…"


def reason_key(reason: str) -> str:
    """The reason with quoted names left out: operators refused for the same cause share it."""
    return _QUOTED.sub("'…'", reason)


def common_reason(key: str, reasons: list[str]) -> str:
    """The reason a group shares: said in full when it is the same for all, else with names left out."""
    return reasons[0] if all(r == reasons[0] for r in reasons) else key


def operator_list(opcode: str, indices: list[int]) -> str:
    """'CONV_2D (operator 4)' or 'CONV_2D ×35 (operators 0, 2, 3, 5, 6, 8, …)'."""
    if len(indices) == 1:
        return f"{opcode} (operator {indices[0]})"
    shown = ", ".join(map(str, indices[:SHOWN])) + (", …" if len(indices) > SHOWN else "")
    return f"{opcode} ×{len(indices)} (operators {shown})"


def group_refusals(messages: list[str]) -> list[str]:
    """Messages 'operator N (OPCODE): reason' with one opcode and reason (names aside) merged into
    one; a message that stands alone, or is not about one operator, is kept as it was, in order."""
    groups: dict[tuple[str, str], list[tuple[int, str]]] = {}
    order: list[tuple[str, str] | str] = []
    for msg in messages:
        m = _OPERATOR.fullmatch(msg)
        if m is None:
            order.append(msg)
            continue
        key = (m.group(2), reason_key(m.group(3)))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((int(m.group(1)), msg))
    out = []
    for item in order:
        if isinstance(item, str):
            out.append(item)
            continue
        members = groups[item]
        if len(members) == 1:
            out.append(members[0][1])
            continue
        reasons = [_OPERATOR.fullmatch(msg).group(3) for _, msg in members]  # type: ignore[union-attr]
        out.append(f"{operator_list(item[0], [i for i, _ in members])}: {common_reason(item[1], reasons)}")
    return out
