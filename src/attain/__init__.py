"""Attain: an incentive compensation engine with exact, explainable, reproducible payouts."""

__version__ = "0.1.0"
