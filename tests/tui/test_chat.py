"""Pilot tests of the chat against the fake Gemini server (real SDK, real HTTP)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from textual import events

from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.widgets.error_notice import ErrorNotice
from flashchat.tui.widgets.reply_footer import ReplyFooter
from flashchat.tui.widgets.reply_view import ReplyView
from flashchat.tui.widgets.usage_panel import UsagePanel
from flashchat.tui.widgets.user_message import UserMessage

from .pilot_helpers import send, send_and_wait_for_streaming, wait_for_reply, wait_until


async def test_type_and_send_shows_the_streamed_reply(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("Hello **there**, streaming world.", chunk_chars=5))
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(*"hi", "enter")
        await wait_for_reply(pilot)
        (user,) = app.query(UserMessage)
        assert user.text == "hi"
        (reply,) = app.query(ReplyView)
        assert reply.text == "Hello **there**, streaming world."
        assert reply.segments[0].source == "Hello **there**, streaming world."
        assert app.composer.text == ""
        assert fake.generate_requests()[0].user_texts() == ["hi"]


async def test_thinking_level_applies_from_the_next_request(fake: FakeGemini, make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await wait_for_reply(pilot)
        await pilot.press("ctrl+t")  # medium -> high
        await send(pilot, "second")
        await wait_for_reply(pilot)
        await pilot.click("#level-minimal")
        await send(pilot, "third")
        await wait_for_reply(pilot)
        assert [r.thinking_level() for r in fake.generate_requests()] == ["MEDIUM", "HIGH", "MINIMAL"]
        headers = [str(reply.query_one(".reply-header").render()) for reply in app.query(ReplyView)]
        assert [header.rsplit(" ", 1)[-1] for header in headers] == ["medium", "high", "minimal"]
        assert app.query_one("#level-minimal").has_class("-active")


async def test_usage_panel_shows_the_servers_usage_metadata(fake: FakeGemini, make_app) -> None:
    fake.enqueue(
        Reply.text("x" * 120, chunk_chars=20, usage={"prompt": 1200, "candidates": 340, "thoughts": 90, "cached": 800})
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+u")
        await send(pilot, "count")
        await wait_for_reply(pilot)
        panel = app.query_one(UsagePanel)
        assert panel.display
        [row] = panel.rows
        usage = row.usage
        assert (usage.prompt, usage.output, usage.thoughts, usage.cached) == (1200, 340, 90, 800)
        turns = str(panel.query_one("#usage-turns").render()).split()
        assert turns[:5] == ["#1", "1,200", "800", "90", "340"] and turns[6] == turns[8] == "s"
        assert turns[-1] == "$0.0046"  # 400 x $1.50 + 800 x $0.15 + 430 x $9.00, per 1M
        footer = str(app.query_one(ReplyFooter).render())
        assert footer.startswith("1,200 in (800 cached) · 90 thinking · 340 out · first token ")
        assert footer.endswith(" s · $0.0046")
        assert "1,540 / 1,048,576 tokens, 0%" in str(panel.query_one("#usage-context").render())
        await pilot.press("ctrl+u")
        assert not panel.display


async def test_usage_panel_lists_every_turn_and_the_totals(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("one", usage={"prompt": 100, "candidates": 10, "thoughts": 0, "cached": 0}))
    fake.enqueue(Reply.text("two", usage={"prompt": 200, "candidates": 20, "thoughts": 5, "cached": 100}))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+u")
        for prompt in ("first", "second"):
            await send(pilot, prompt)
            await wait_for_reply(pilot)
        panel = app.query_one(UsagePanel)
        rows = str(panel.query_one("#usage-turns").render()).splitlines()
        assert [row.split()[:5] for row in rows] == [["#1", "100", "0", "0", "10"], ["#2", "200", "100", "5", "20"]]
        total = str(panel.query_one("#usage-total").render()).split()
        assert total[:5] == ["total", "300", "100", "5", "30"]
        assert len(app.query(ReplyFooter)) == 2


async def test_escape_stops_the_reply_and_keeps_the_partial_text(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("word " * 400, chunk_chars=10, delay_s=0.02))
    app = make_app()
    async with app.run_test() as pilot:
        reply = await send_and_wait_for_streaming(pilot, "talk for a while")
        await pilot.press("escape")
        await wait_for_reply(pilot)
        stopped = app.session.conversation.messages[-1]
        assert stopped.role == "model" and stopped.stopped and stopped.incomplete
        assert 50 <= len(stopped.text) < 2000
        assert reply.text == stopped.text
        assert "stopped" in str(reply.query_one(".reply-marker").render())
        # The next prompt goes out normally, with the stopped reply in its history.
        await send(pilot, "go on")
        await wait_for_reply(pilot)
        assert fake.generate_requests()[-1].user_texts() == ["talk for a while", "go on"]


async def test_rate_limit_shows_a_countdown_then_the_reply(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay="3s"), Reply.text("Made it."))
    now = [100.0]
    release = asyncio.Event()
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        await release.wait()

    app = make_app(sleep=sleep, clock=lambda: now[0])
    async with app.run_test() as pilot:
        await send(pilot, "hello?")
        await wait_until(pilot, lambda: bool(app.query(ErrorNotice)))
        notice = app.query_one(ErrorNotice)
        assert str(notice.render()) == "rate limited, retrying in 3 s, attempt 2 of 4"
        now[0] += 1.2
        await wait_until(pilot, lambda: "in 2 s" in str(notice.render()))
        release.set()
        await wait_for_reply(pilot)
        assert waited == [3.0]
        reply = app.query_one(ReplyView)
        assert reply.text == "Made it."
        assert not reply.query(ErrorNotice)  # the countdown goes once the retry delivers


async def test_bad_key_says_how_to_fix_it(fake: FakeGemini, make_app, settings) -> None:
    app = make_app(settings=dataclasses.replace(settings, api_key="not-a-key"))
    async with app.run_test() as pilot:
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        text = str(app.query_one(ErrorNotice).render())
        assert "The API key was rejected: check GEMINI_API_KEY" in text
        assert "Press F4 to enter another key." in text
        assert len(fake.generate_requests()) == 1  # never retried


async def test_dropped_connection_keeps_the_partial_reply_and_ctrl_r_retries(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("The first half arrives, then the line goes dead.", chunk_chars=8, drop_after=3))
    fake.enqueue(Reply.text("A complete answer."))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "question")
        await wait_for_reply(pilot)
        reply = app.query_one(ReplyView)
        assert reply.text == "The first half arrives, "
        notice = str(reply.query_one(ErrorNotice).render())
        assert "dropped" in notice and "partial reply above is kept" in notice and "ctrl+r" in notice
        await pilot.press("ctrl+r")
        await wait_for_reply(pilot)
        (reply,) = app.query(ReplyView)
        assert reply.text == "A complete answer."
        assert [m.text for m in app.session.conversation.messages] == ["question", "A complete answer."]


async def test_a_2000_line_paste_becomes_a_chip_and_is_sent_whole(fake: FakeGemini, make_app) -> None:
    pasted = "".join(f"line {number}: print({number})\r\n" for number in range(2000))
    fake.enqueue(Reply.text("Looks fine."))
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(*"Review this:", "ctrl+j")
        started = time.perf_counter()
        app.post_message(events.Paste(pasted))
        await pilot.pause()
        assert time.perf_counter() - started < 0.5
        assert app.composer.text == "Review this:\n[pasted: 2,000 lines]"
        await pilot.press("enter")
        await wait_for_reply(pilot)
        expected = "Review this:\n" + pasted.replace("\r\n", "\n")
        assert fake.generate_requests()[0].user_texts() == [expected]
        assert app.query_one(UserMessage).text == expected


async def test_escape_sequences_in_a_reply_are_shown_not_sent_to_the_terminal(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("clipboard \x1b]52;c;ZXZpbA==\x07 and \x1b[2J clear", chunk_chars=7))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "be naughty")
        await wait_for_reply(pilot)
        reply = app.query_one(ReplyView)
        assert reply.segments[0].source == "clipboard ␛]52;c;ZXZpbA==␇ and ␛[2J clear"
        terminal_output = app.screen._compositor.render_full_update().render_segments(app.console)
        assert "␛]52;c;ZXZpbA==␇" in terminal_output
        assert "\x1b]52" not in terminal_output and "\x1b[2J" not in terminal_output
        # The reply is kept verbatim: the same text goes back to the model next turn.
        assert app.session.conversation.messages[-1].text == "clipboard \x1b]52;c;ZXZpbA==\x07 and \x1b[2J clear"
