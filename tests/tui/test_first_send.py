"""The warm-up after the first frame (provider, client, TLS context, the SDK's request models): it sends
nothing, and the first message's request is the same bytes as without it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from flashchat.tui.screens.setup_screen import SetupScreen
from flashchat.tui.widgets.reply_view import ReplyView

from .pilot_helpers import send, wait_for_reply, wait_until


def _warm_up_done(app: FlashchatApp) -> bool:
    return not any(worker.group == "warm-up" and not worker.is_finished for worker in app.workers)


async def _first_request(fake: FakeGemini, app: FlashchatApp, *, warm_up: bool) -> bytes:
    fake.enqueue(Reply.text("Hello there."))
    async with app.run_test(size=(100, 30)) as pilot:
        if warm_up:
            await wait_until(pilot, lambda: _warm_up_done(app), timeout=30)
            assert fake.requests == []  # warmed up, and nothing reached the server
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        assert app.query_one(ReplyView).text == "Hello there."
    (request,) = fake.generate_requests()
    fake.requests.clear()
    return request.raw


async def test_the_warm_up_sends_nothing_and_the_first_request_is_the_same_bytes(
    fake: FakeGemini, make_app: Callable[..., FlashchatApp]
) -> None:
    warmed = await _first_request(fake, make_app(warm_up=True), warm_up=True)
    cold = await _first_request(fake, make_app(warm_up=False), warm_up=False)
    assert warmed == cold


async def test_without_a_key_the_warm_up_sends_nothing_and_asks_for_the_key(
    fake: FakeGemini, settings: Settings, config_path: Path, make_app: Callable[..., FlashchatApp]
) -> None:
    app = make_app(settings=Settings(base_url=fake.url), warm_up=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _warm_up_done(app), timeout=30)
        assert isinstance(app.screen, SetupScreen)
    assert fake.requests == []


async def test_the_first_words_replace_the_waiting_line_in_one_frame(
    fake: FakeGemini, make_app: Callable[..., FlashchatApp], monkeypatch
) -> None:
    """What each painted frame shows of the reply: the waiting line, then its text, and never a frame of
    neither between them (the waiting line gone, the text not drawn yet): a blank flash, and a frame of layout
    the first words waited for."""
    from textual.app import App
    from textual.widgets import Static

    from flashchat.tui.widgets.reply_segment import ReplySegment

    shown: list[str] = []
    turn = [0]  # the reply being sent for (earlier ones stay on screen)
    original_display = App._display

    def display(self: App, screen, renderable) -> None:
        replies = list(self.query(ReplyView))
        if renderable is not None and len(replies) > turn[0]:
            reply = replies[turn[0]]
            waiting = any(widget.display for widget in reply.query(".reply-waiting").results(Static))
            text = any(segment.source for segment in reply.query(ReplySegment))
            state = "text" if text else "waiting" if waiting else "neither"
            if not shown or shown[-1] != state:
                shown.append(state)
        original_display(self, screen, renderable)

    monkeypatch.setattr(App, "_display", display)
    fake.enqueue(Reply.text("First words of the answer, then more.", chunk_chars=8, first_delay_s=0.3))
    fake.enqueue(Reply.text("Second answer.", chunk_chars=4, first_delay_s=0.3))
    app = make_app(warm_up=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _warm_up_done(app), timeout=30)
        for number, text in enumerate(("First words of the answer, then more.", "Second answer.")):
            shown.clear()
            turn[0] = number
            await send(pilot, f"question {number}")
            await wait_for_reply(pilot)
            assert app.query(ReplyView).last().text == text
            assert shown == ["waiting", "text"]
