"""Memory use of a built firmware, from its ELF (pyelftools): bytes per board region and where
the model's buffers ended up."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from .boards import Board
from .errors import McuforgeError


@dataclass
class RegionUse:
    name: str
    kind: str
    base: int
    size: int
    used: int = 0  # bytes occupied (VMA for RAM contents, LMA for flash images)
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.size if self.size else 0.0


@dataclass
class SymbolPlace:
    name: str
    address: int
    size: int
    region: str | None  # None: outside every region of the board


@dataclass
class MemoryReport:
    elf: str
    regions: list[RegionUse]
    symbols: dict[str, SymbolPlace]
    unmapped: dict[str, int] = field(default_factory=dict)  # sections outside every region

    def to_json(self) -> dict:
        return {"elf": self.elf, "regions": [asdict(r) | {"percent": round(r.percent, 2)} for r in self.regions],
                "symbols": {k: asdict(v) for k, v in self.symbols.items()}, "unmapped": self.unmapped}


def _region_at(regions: list[RegionUse], addr: int) -> RegionUse | None:
    for r in regions:
        if r.base <= addr < r.base + r.size:
            return r
    return None


def memory_report(elf_path: Path, board: Board, symbols: dict[str, str]) -> MemoryReport:
    """symbols: label → ELF symbol name (e.g. {"arena": "kws_arena"})."""
    regions = [RegionUse(r.name, r.kind, r.base, r.size) for r in board.memory]
    report = MemoryReport(str(elf_path), regions, {})
    try:
        with open(elf_path, "rb") as fh:
            elf = ELFFile(fh)
            segments = [(s["p_vaddr"], s["p_paddr"], s["p_memsz"]) for s in elf.iter_segments()
                        if s["p_type"] == "PT_LOAD"]
            for sec in elf.iter_sections():
                if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                    continue
                addr, size = sec["sh_addr"], sec["sh_size"]
                places = [addr]
                if sec["sh_type"] != "SHT_NOBITS":
                    for vaddr, paddr, memsz in segments:  # a load address apart from the run address
                        if vaddr <= addr < vaddr + memsz and paddr != vaddr:
                            places.append(paddr + (addr - vaddr))
                for a in places:
                    region = _region_at(regions, a)
                    if region is None:
                        report.unmapped[sec.name] = size
                        continue
                    region.used += size
                    region.sections[sec.name] = region.sections.get(sec.name, 0) + size
            symtab = elf.get_section_by_name(".symtab")
            wanted = {v: k for k, v in symbols.items() if v}
            if isinstance(symtab, SymbolTableSection):
                for sym in symtab.iter_symbols():
                    if sym.name in wanted:
                        region = _region_at(regions, sym["st_value"])
                        report.symbols[wanted[sym.name]] = SymbolPlace(sym.name, sym["st_value"], sym["st_size"],
                                                                       region.name if region else None)
    except (OSError, Exception) as exc:  # pyelftools raises its own ELFError family on bad files
        if isinstance(exc, McuforgeError):
            raise
        raise McuforgeError(f"cannot read the firmware ELF {elf_path}: {exc}") from exc
    return report
