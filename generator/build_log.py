"""The warnings in a build's output: GCC/Clang diagnostics and tool-level warnings (ld, cc1, as).

`mcuforge build` streams the build tool's output (ninja, west, pio) through a WarningCollector, so a
build that succeeds can still show what the compiler said, without the rest of the log.
"""

from __future__ import annotations

import re

# SGR colour codes: Zephyr compiles with -fdiagnostics-color=always, so its warnings come coloured
_COLOUR = re.compile(r"\x1b\[[0-9;]*[mK]")
# file.c:12:5: warning: unused variable 'x' [-Wunused-variable]   (the column is optional)
_DIAGNOSTIC = re.compile(r"^.+?:\d+:(?:\d+:)? (?P<kind>warning|error|note): ")
# .../arm-none-eabi/bin/ld: warning: firmware.elf has a LOAD segment with RWX permissions
_TOOL_WARNING = re.compile(r"^\S+: warning: ")
# GCC's source excerpt under a diagnostic: "   12 |   int x;" and "      |       ^"
_EXCERPT = re.compile(r"^\s*\d*\s*\|")
# lines GCC prints before a diagnostic to say where it is: the include chain and the enclosing function
_WHERE = re.compile(r"^(?:In file included from |\s+from |.+: In (?:function|member function|static member function|"
                    r"constructor|destructor|lambda function|instantiation of) |.+: At (?:top level|global scope):)")


class WarningCollector:
    """Fed one output line at a time; keeps each warning with its context lines, once each.

    A warning's block is the lines that say where it is (include chain, function), the warning line,
    its notes and GCC's source excerpts. Errors are left out: a failing build reports its log's tail.
    """

    def __init__(self) -> None:
        self._blocks: list[list[str]] = []
        self._current: list[str] | None = None
        self._where: list[str] = []

    def feed(self, line: str) -> None:
        line = _COLOUR.sub("", line)
        m = _DIAGNOSTIC.match(line)
        if (m and m.group("kind") == "warning") or (not m and _TOOL_WARNING.match(line)):
            self._current = [*self._where, line]
            self._blocks.append(self._current)
            self._where = []
        elif (m and m.group("kind") == "note") or (not m and _EXCERPT.match(line)):
            if self._current is not None:
                self._current.append(line)
        elif m:  # an error
            self._current, self._where = None, []
        elif _WHERE.match(line):
            if self._current is not None:
                self._current, self._where = None, []
            self._where.append(line)
        else:
            self._current, self._where = None, []

    @property
    def warnings(self) -> list[str]:
        """Each warning with its context, as one text; a warning repeated (a header compiled twice) once."""
        return list(dict.fromkeys("\n".join(block) for block in self._blocks))
