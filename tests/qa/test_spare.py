"""Spare threads are lent to a question only while it is the only one being answered."""

from __future__ import annotations

from qa.spare import Spare, idle_cores


def test_a_lone_question_gets_the_threads_and_a_second_at_once_gets_none() -> None:
    spare = Spare(2)
    with spare.asking() as first:
        assert first is not None
        with spare.asking() as second:
            assert second is None
    with spare.asking() as later:
        assert later is not None


def test_no_threads_when_none_are_spared_or_reading_ahead_is_off() -> None:
    with Spare(0).asking() as threads:
        assert threads is None
    with Spare.for_machine(enabled=False).asking() as threads:
        assert threads is None


def test_the_machine_spares_threads_only_when_it_has_a_core_to_spare() -> None:
    with Spare.for_machine().asking() as threads:
        assert (threads is not None) == (idle_cores() > 0)
        if threads is not None:
            assert threads.submit(lambda: 42).result() == 42
