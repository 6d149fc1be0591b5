"""Full garbage collections wait while a reply streams, and happen once the user is idle."""

from __future__ import annotations

import gc

from flashchat.tui.quiet_gc import IDLE_SECONDS, MAX_UNCOLLECTED_REPLIES, OLD_GENERATION_EVERY, QuietCollector


def test_streaming_freezes_the_heap_until_an_idle_moment_after_the_reply() -> None:
    before = gc.get_threshold()
    collector = QuietCollector()
    try:
        collector.stream_started()
        assert gc.get_threshold()[2] == OLD_GENERATION_EVERY and gc.get_freeze_count() > 0
        assert not collector.collect_if_idle(1000.0)  # never while the reply streams
        collector.stream_ended()
        assert gc.get_threshold() == before
        collector.saw_input(1000.0)
        assert not collector.collect_if_idle(1000.0 + IDLE_SECONDS / 2)  # the user is typing
        assert gc.get_freeze_count() > 0
        assert collector.collect_if_idle(1000.0 + IDLE_SECONDS)
        assert gc.get_freeze_count() == 0
        assert not collector.collect_if_idle(2000.0)  # once per reply
    finally:
        collector.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_user_who_never_pauses_still_gets_the_collection_every_few_replies() -> None:
    """Frozen garbage is only freed by the postponed collection: it may not wait for an idle moment forever."""
    collector = QuietCollector()
    try:
        for reply in range(1, MAX_UNCOLLECTED_REPLIES + 1):
            collector.saw_input(float(reply))
            collector.stream_started()
            assert gc.get_freeze_count() > 0
            collector.stream_ended()
            assert not collector.collect_if_idle(float(reply))  # typing on: never idle
            if reply < MAX_UNCOLLECTED_REPLIES:
                assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0  # the last reply ended with the full collection
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0


def test_closing_the_app_mid_reply_unfreezes_everything() -> None:
    collector = QuietCollector()
    collector.stream_started()
    collector.stop()
    assert gc.get_freeze_count() == 0 and _freeze_hook_count() == 0


def _freeze_hook_count() -> int:
    return sum(1 for callback in gc.callbacks if getattr(callback, "__name__", "") == "_freeze_survivors")
