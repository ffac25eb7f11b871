"""Spare threads are lent to a question's reads only while it is the only question being answered."""

from __future__ import annotations

import pytest

from qa.spare import Spare, idle_cores


def test_threads_are_lent_while_one_question_is_answered_and_not_while_two_are() -> None:
    spare = Spare(2)
    with spare.asking():
        started = spare.submit(sum, (1, 2))
        assert started is not None and started.result() == 3
        with spare.asking():
            assert spare.submit(sum, (1, 2)) is None
        assert spare.submit(sum, (1, 2)) is not None


def test_nothing_is_lent_outside_a_question_or_without_threads() -> None:
    assert Spare(2).submit(sum, (1, 2)) is None
    none = Spare(0)
    with none.asking():
        assert none.submit(sum, (1, 2)) is None
    off = Spare.for_machine(enabled=False)
    with off.asking():
        assert off.submit(sum, (1, 2)) is None


def test_a_question_that_fails_stops_counting() -> None:
    spare = Spare(2)
    with pytest.raises(RuntimeError), spare.asking():
        raise RuntimeError("the question failed")
    with spare.asking():
        assert spare.submit(sum, (1, 2)) is not None


def test_the_machine_spares_threads_only_when_it_has_a_core_to_spare() -> None:
    spare = Spare.for_machine()
    with spare.asking():
        assert (spare.submit(sum, (1, 2)) is not None) == (idle_cores() > 0)
