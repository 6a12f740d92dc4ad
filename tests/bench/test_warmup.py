"""The JVM's warm-up: slices of load, each followed by a wait until the JVM idles, until its
rate stops rising (bench.throughput)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bench import throughput
from bench.throughput import WARM_FLAT, WARM_LIMIT, WARM_SLICE, settle, until_flat


class Rates:
    """A load whose slices give `rates` in turn (the last one for ever after)."""

    def __init__(self, rates: Iterable[float]) -> None:
        self.rates = list(rates)
        self.slices: list[float] = []

    def __call__(self, seconds: float) -> float:
        self.slices.append(seconds)
        return self.rates[min(len(self.slices), len(self.rates)) - 1]


def test_a_rising_rate_is_loaded_until_three_slices_in_a_row_are_flat() -> None:
    load = Rates([1000, 2000, 4000, 6000, 6100, 5900, 6050, 9000])

    rates = until_flat(load, minimum=3 * WARM_SLICE)  # at most 9 slices

    # 6100, 5900 and 6050 are within 3 % of 6000, the best before them: warm after them.
    assert WARM_FLAT == 3
    assert rates == [1000, 2000, 4000, 6000, 6100, 5900, 6050]
    assert load.slices == [WARM_SLICE] * 7


def test_a_rise_of_more_than_three_percent_starts_the_count_again() -> None:
    rates = until_flat(Rates([5000, 5000, 5000, 5200, 5200, 5200, 5200]), minimum=3 * WARM_SLICE)

    assert rates == [5000, 5000, 5000, 5200, 5200, 5200, 5200]


def test_a_flat_rate_is_still_loaded_for_the_minimum() -> None:
    rates = until_flat(Rates([5000]), minimum=5 * WARM_SLICE)

    assert len(rates) == 5


def test_a_rate_that_never_stops_rising_is_loaded_at_most_the_limit() -> None:
    rising = Rates(1000 * 1.1**i for i in range(100))

    rates = until_flat(rising, minimum=2 * WARM_SLICE)

    assert len(rates) * WARM_SLICE == 2 * WARM_SLICE * WARM_LIMIT


def test_settling_waits_until_the_process_idles() -> None:
    # CPU seconds read before and after each half-second wait: busy twice, then idle.
    readings = iter([0.0, 0.4, 0.4, 0.8, 0.8, 0.8])

    assert settle(lambda: next(readings), interval=0.01)
    assert next(readings, None) is None  # it stopped at the first idle interval


def test_settling_gives_up_on_a_process_that_never_idles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throughput, "WARM_SETTLE", 0.05)
    clock = iter(range(1_000_000))

    assert not settle(lambda: float(next(clock)), interval=0.01)
