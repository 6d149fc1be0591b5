"""Pilot tests: a grounded reply's citation markers, and a call of a tool flashchat did not offer, in the TUI."""

from __future__ import annotations

import json

from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.widgets.reply_view import ReplyView
from flashchat.tui.widgets.sources_block import SourcesBlock
from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
from support import WIRE

from .pilot_helpers import send, wait_for_reply

SEARCH_STREAM = WIRE / "pydantic-ai/test_google_model_web_search_tool_stream__00.json"


async def test_a_grounded_reply_shows_markers_where_its_sources_back_it(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.replay(json.loads(SEARCH_STREAM.read_text())))
    app = make_app()
    async with app.run_test() as pilot:
        await app.run_action("toggle_tool('google_search')")
        await send(pilot, "weather?")
        await wait_for_reply(pilot)
        await pilot.pause()
        shown = app.query_one(ReplyView).text
        assert "humidity at approximately 68%.\\[1\\]" in shown
        assert "gradually cooling down in the evening.\\[2\\]\\[5\\]" in shown
        assert "1. [Weather information for San Francisco, CA, US]" in app.query_one(SourcesBlock).source


async def test_a_call_of_a_tool_flashchat_did_not_offer_is_shown(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.function_calls([("lookup_weather", {"city": "Paris"})]))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "weather?")
        await wait_for_reply(pilot)
        await pilot.pause()
        notice = str(app.query_one(ToolCallNotice).render())
        assert "lookup_weather(city='Paris')" in notice
        assert "not a flashchat tool: not run, answered with an error" in notice
