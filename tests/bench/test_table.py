"""The bench's table: ratios ours/peer, and for rows measured in alternated rounds the
lowest and highest ratio of one round (whether a ratio held in every round)."""

from __future__ import annotations

from bench.table import Measure, Row, render


def _row(ours: tuple[float, ...], peer: tuple[float, ...], *, paired: bool = True) -> Row:
    return Row(
        "section",
        "status call: requests/s",
        "req/s",
        Measure.of(ours),
        {"wiremock": Measure.of(peer)},
        paired=paired,
    )


def test_each_round_is_set_against_the_same_round_of_the_peer() -> None:
    row = _row((10.0, 20.0, 30.0), (20.0, 10.0, 30.0))

    assert row.ratio("wiremock") == 1.0  # medians 20 / 20
    assert row.ratio_range("wiremock") == (0.5, 2.0)  # 10/20, 20/10, 30/30


def test_no_range_without_two_rounds_on_both_sides_or_for_unpaired_rows() -> None:
    assert _row((10.0,), (20.0,)).ratio_range("wiremock") is None
    assert _row((10.0, 12.0), (20.0, 21.0, 22.0)).ratio_range("wiremock") is None
    assert _row((10.0, 12.0), (20.0, 21.0), paired=False).ratio_range("wiremock") is None
    assert _row((10.0, 12.0), (0.0, 21.0)).ratio_range("wiremock") is None
    assert _row((10.0, 12.0), (20.0, 21.0)).ratio_range("prism") is None
    absent = Row("s", "m", "req/s", Measure.of((1.0, 2.0)), {"mockoon": "not served"}, paired=True)
    assert absent.ratio_range("mockoon") is None
    counts = Row(
        "s", "m", "count", Measure.of((0.0, 0.0)), {"w": Measure.of((1.0, 1.0))}, compare=False
    )
    assert counts.ratio_range("w") is None


def test_the_table_prints_the_range_after_the_ratio_and_says_what_it_is() -> None:
    text = render([_row((9.0, 11.0, 10.0), (10.0, 10.0, 10.0))])

    assert "1.00x (0.90-1.10)" in text
    assert "(a-b) after a ratio: the lowest and highest ratio of one round" in text


def test_a_table_without_rounds_has_plain_ratios_and_no_word_on_ranges() -> None:
    text = render([_row((9.0,), (10.0,))])

    assert "0.90x" in text
    assert "0.90x (" not in text
    assert "(a-b)" not in text


def test_the_json_results_carry_the_ranges() -> None:
    data = _row((9.0, 11.0), (10.0, 10.0)).as_json()

    assert data["ratios"] == {"wiremock": 1.0}
    assert data["ratio_ranges"] == {"wiremock": (0.9, 1.1)}
    assert data["paired"] is True
