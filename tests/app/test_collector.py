"""The cycle collector paused around a block, and restored as found whatever happens in it."""

from __future__ import annotations

import gc

import pytest

from attain.app.collector import without_cycle_collection


def test_collector_is_off_inside_and_on_again_after() -> None:
    assert gc.isenabled()
    with without_cycle_collection():
        assert not gc.isenabled()
        with without_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled(), "an inner block must not turn the collector on under the outer one"
    assert gc.isenabled()


def test_collector_is_on_again_after_an_error() -> None:
    with pytest.raises(RuntimeError, match="inside"), without_cycle_collection():
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_collector_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with without_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
