"""The one table the benchmarks print: metric | ours | each peer and ours/peer | goal."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# A figure whose repeated measurements spread more than this around their median is marked noisy.
NOISE_SPREAD = 0.10
NOISY_MARK = "~"


@dataclass(frozen=True)
class Measure:
    """The median of repeated measurements, and whether they spread too much to trust."""

    value: float
    samples: tuple[float, ...]

    @property
    def noisy(self) -> bool:
        if len(self.samples) < 2 or self.value == 0:
            return False
        spread = (max(self.samples) - min(self.samples)) / abs(self.value)
        return spread > NOISE_SPREAD

    @classmethod
    def of(cls, samples: Sequence[float]) -> Measure:
        return cls(statistics.median(samples), tuple(samples))

    @classmethod
    def once(cls, value: float) -> Measure:
        return cls(value, (value,))


Figure = Measure | str | None


@dataclass(frozen=True)
class Row:
    section: str
    metric: str
    unit: str
    ours: Figure
    # Each peer's figure by the peer's name (its column); a string says why there is none.
    peers: Mapping[str, Figure] = field(default_factory=dict)
    goal: str = ""
    # Set when a figure is known to be noisy whatever its spread (e.g. one-connection tails).
    noisy: bool = False
    # Whether ours/peer means anything (not for counts of errors, say).
    compare: bool = True
    # Whether the samples of ours and of each peer are rounds in the same order, each round
    # running every server once (the throughput section): then each round has a ratio.
    paired: bool = False

    def ratio(self, peer: str) -> float | None:
        theirs = self.peers.get(peer)
        if not self.compare:
            return None
        if not isinstance(self.ours, Measure) or not isinstance(theirs, Measure):
            return None
        if theirs.value == 0:
            return None
        return self.ours.value / theirs.value

    def ratio_range(self, peer: str) -> tuple[float, float] | None:
        """The lowest and highest of the rounds' own ratios ours/peer (round i of ours
        against round i of the peer, seconds apart): whether a ratio held in every round.
        None unless the row is paired and both sides have the same two or more rounds."""
        theirs = self.peers.get(peer)
        if not self.paired or self.ratio(peer) is None:
            return None
        if not isinstance(self.ours, Measure) or not isinstance(theirs, Measure):
            return None
        ours, their_samples = self.ours.samples, theirs.samples
        if len(ours) < 2 or len(ours) != len(their_samples) or 0 in their_samples:
            return None
        ratios = [a / b for a, b in zip(ours, their_samples, strict=True)]
        return min(ratios), max(ratios)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["peers"] = {name: data["peers"][name] for name in self.peers}
        data["ratios"] = {name: self.ratio(name) for name in self.peers}
        data["ratio_ranges"] = {name: self.ratio_range(name) for name in self.peers}
        return data


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit in ("req/s", "calls", "count", "") or (unit == "MB" and value >= 100):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _cell(figure: Figure, unit: str, noisy: bool) -> str:
    if figure is None:
        return "-"
    if isinstance(figure, str):
        return figure
    mark = NOISY_MARK if (noisy or figure.noisy) else ""
    text = _number(figure.value, unit)
    return f"{text} {unit}{mark}" if unit not in ("", "count") else f"{text}{mark}"


def render(rows: Sequence[Row]) -> str:
    """Render the rows as one plain-text table, grouped by section.

    Each peer that appears in any row gets a column, followed by the ratio ours/peer.
    """
    peers = list(dict.fromkeys(name for row in rows for name in row.peers))
    header = ("metric", "ours", *(c for p in peers for c in (p, f"ours/{p}")), "goal")
    cells: list[tuple[str, ...] | str] = []
    section = None
    ranges = False
    for row in rows:
        if row.section != section:
            section = row.section
            cells.append(section)
        figures = []
        for peer in peers:
            ratio, extent = row.ratio(peer), row.ratio_range(peer)
            figures.append(_cell(row.peers.get(peer), row.unit, row.noisy))
            if ratio is None:
                figures.append("-")
            elif extent is None:
                figures.append(f"{ratio:.2f}x")
            else:
                ranges = True
                figures.append(f"{ratio:.2f}x ({extent[0]:.2f}-{extent[1]:.2f})")
        cells.append(("  " + row.metric, _cell(row.ours, row.unit, row.noisy), *figures, row.goal))
    table_rows = [c for c in cells if isinstance(c, tuple)]
    widths = [max(len(r[i]) for r in [header, *table_rows]) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(values[1:-1], widths[1:-1], strict=True)]
        return " | ".join([first, *rest, values[-1].ljust(widths[-1])]).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    out = [line(header), rule]
    for cell in cells:
        out.append(f"[{cell}]" if isinstance(cell, str) else line(cell))
    out.append(rule)
    out.append(
        f"{NOISY_MARK} = noisy: repeated rounds spread more than {NOISE_SPREAD:.0%} around "
        "their median, or a figure known to vary run to run. Figures are medians of the rounds."
    )
    if ranges:
        out.append(
            "(a-b) after a ratio: the lowest and highest ratio of one round (a round runs "
            "every server once, one after another)."
        )
    return "\n".join(out)
