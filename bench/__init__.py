"""Benchmarks of the contract kit: run ``python -m bench`` (or ``make bench``).

Benchmarks measure and report; they never assert on timings. Each figure of ours is measured
side by side with its peer in the same run and printed in one table with the ratio between
the two. Results go to ``bench/results/`` (ignored by git); ``BENCHMARKS.md`` keeps the
latest figures with the machine they came from.
"""
