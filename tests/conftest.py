"""Hypothesis profiles: `dev` (the default) draws new examples on every run; `ci` draws the same
examples every run (derandomized), so a continuous-integration run is reproducible and its time is
known. Choose one with HYPOTHESIS_PROFILE (the CI script sets `ci`)."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("dev")
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
