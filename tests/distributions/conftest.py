"""The integrator project is run by test_distributions.py in its own environment only."""

collect_ignore = ["integrator"]
