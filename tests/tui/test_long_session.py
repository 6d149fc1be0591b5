"""Many turns in one session: the screen keeps a bounded number of widgets, loses nothing, and frees what it drops."""

from __future__ import annotations

import gc
import weakref

import pytest
from textual.widgets._footer import FooterKey

from flashchat.config.settings import Settings
from flashchat.render.markdown_lines import MarkdownLines
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.screens.cost_estimate_screen import CostEstimateScreen
from flashchat.tui.widgets import conversation_view
from flashchat.tui.widgets.reply_segment import ReplySegment
from flashchat.tui.widgets.reply_view import ReplyView

from .pilot_helpers import send, wait_for_reply, wait_until


def answer(number: int) -> str:
    return f"Answer {number}.\n\n" + "".join(f"Line {line} of answer {number}.\n\n" for line in range(6))


async def test_turns_pruned_from_a_long_session_all_come_back_on_scrolling_up(
    fake: FakeGemini, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_MOUNTED the oldest turns leave the view; Home and paging down bring every one back, in order."""
    monkeypatch.setattr(conversation_view, "MAX_MOUNTED", 8)
    turns = 12
    fake.enqueue(*(Reply.text(answer(number)) for number in range(turns)))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.conversation_view
        for number in range(turns):
            await send(pilot, f"question {number}")
            await wait_for_reply(pilot)
        assert len(view.message_widgets) <= 8
        earlier = view.query_one(".earlier")
        assert earlier.display and "earlier messages: scroll up to load them" in str(earlier.render())
        # Home brings the first turn back; paging down from there shows every turn, in order (the view mounts a
        # window of them that moves with the reader, not all at once).
        expected = [text for number in range(turns) for text in (f"question {number}", answer(number))]
        await pilot.press("home")
        await wait_until(pilot, lambda: view.earlier_not_mounted == 0 and not view._window_moving)
        seen: set[str] = set()
        for _ in range(100):
            await pilot.pause()
            shown = [widget.text for widget in view.message_widgets]
            start = expected.index(shown[0])
            assert shown == expected[start : start + len(shown)]  # in order, none missing in between
            seen.update(shown)
            if not view.later_not_mounted and view.scroll_y >= view.max_scroll_y:
                break
            await pilot.press("pagedown")
            await wait_until(pilot, lambda: not view._window_moving)
        assert seen == set(expected)


async def test_widgets_dropped_over_many_turns_are_freed(
    fake: FakeGemini, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key bar rebuilt each turn and the rendered lines of parked replies must not stay alive off screen.

    Textual's Footer kept every rebuilt key alive (a watcher per key); a parked segment keeps only its text,
    so the renderer holding its lines must be gone too.
    """
    monkeypatch.setattr(ReplyView, "segment_chars", 200)
    fake.enqueue(*(Reply.text(answer(number) * 3) for number in range(4)))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        footer_keys: list[weakref.ref[FooterKey]] = []
        renderers: list[weakref.ref[MarkdownLines]] = []
        for number in range(4):
            footer_keys += [weakref.ref(key) for key in app.query(FooterKey)]
            await send(pilot, f"question {number}")
            await wait_for_reply(pilot)
            renderers += [weakref.ref(segment._renderer) for segment in app.query(ReplySegment) if segment._renderer]
        first_reply = app.query(ReplyView).first()
        await wait_until(pilot, lambda: first_reply.segments[0].parked)
        await pilot.pause()
        gc.unfreeze()  # what the app's idle collection does (tui/quiet_gc.py) after two quiet seconds
        gc.collect()
        shown = set(app.screen.walk_children())
        alive_keys = [key for ref in footer_keys if (key := ref()) is not None and key not in shown]
        drawn = {id(segment._renderer) for segment in app.query(ReplySegment) if not segment.parked}
        alive_renderers = [
            renderer for ref in renderers if (renderer := ref()) is not None and id(renderer) not in drawn
        ]
        assert alive_keys == []
        assert alive_renderers == []
        # Nor the lines Textual last painted for them: a parked reply's container kept its blank rows, one Strip
        # (with seven caches of its own) each, walked by every full collection.
        parked = [reply for reply in app.query(ReplyView) if reply.segments and all(s.parked for s in reply.segments)]
        assert parked
        assert [len(widget._styles_cache._cache) for reply in parked for widget in (reply, *reply.segments)] == [
            0 for reply in parked for _ in (reply, *reply.segments)
        ]
        assert app.query(FooterKey)  # the key bar is still there


async def test_a_session_past_the_large_request_size_asks_every_turn_and_loses_none(
    fake: FakeGemini, make_app, settings: Settings
) -> None:
    """Past large_request_tokens every send shows its size first and Enter sends it: each turn is sent once, in
    order, with the whole history (bench/tui.py's 500-turn run reaches this at turn ~250, and lost every other
    turn while it waited only for the reply)."""
    turns = 6
    fake.enqueue(*(Reply.text(answer(number)) for number in range(turns)))
    app = make_app(settings=settings.with_overrides("test", large_request_tokens=60))
    async with app.run_test(size=(80, 24)) as pilot:
        messages = app.session.conversation.messages
        asked = []
        for number in range(turns):
            await send(pilot, f"question {number}")
            await wait_until(
                pilot,
                lambda number=number: (
                    isinstance(app.screen, CostEstimateScreen) or app.replying or len(messages) > 2 * number
                ),
            )
            if isinstance(app.screen, CostEstimateScreen):
                asked.append(number)
                await pilot.press("enter")
            await wait_until(pilot, lambda number=number: len(messages) == 2 * number + 2)
            await wait_for_reply(pilot)
        # The first request is small; from the one past 60 tokens on, every one asks.
        assert asked == list(range(2, turns))
        requests = fake.generate_requests()
        assert len(requests) == turns
        assert requests[-1].user_texts() == [f"question {number}" for number in range(turns)]
        sent = ["".join(part.get("text", "") for part in content["parts"]) for content in requests[-1].contents]
        expected = [text for number in range(turns - 1) for text in (f"question {number}", answer(number))]
        assert sent == [*expected, f"question {turns - 1}"]
        assert [m.text for m in messages] == [*expected, f"question {turns - 1}", answer(turns - 1)]
