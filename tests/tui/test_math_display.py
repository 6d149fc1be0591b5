"""LaTeX math on screen as Unicode, streamed in pieces; the stored reply keeps what the model wrote."""

from __future__ import annotations

from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.widgets.reply_view import ReplyView

from .pilot_helpers import send, wait_for_reply

REPLY = "So $x_1 \\times y^2$ costs $5, and `$z$` is code."


async def test_a_streamed_formula_shows_as_unicode(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text(REPLY, chunks=["So $x_", "1 \\ti", "mes y^2$ costs $5, and `$z", "$` is code."]))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "q")
        await wait_for_reply(pilot)
        assert app.query_one(ReplyView).text == "So x₁ × y² costs $5, and `$z$` is code."
        assert app.session.conversation.messages[-1].text == REPLY


async def test_a_reopened_reply_shows_its_formula_as_unicode(make_app) -> None:
    from flashchat.core.conversation import Conversation, Message

    conversation = Conversation()
    conversation.add(Message(role="user", text="q"))
    conversation.add(Message(role="model", text="$$\\sum_{i=1}^n i$$", finish_reason="STOP"))
    app = make_app(conversation=conversation)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.query_one(ReplyView).text == "∑ᵢ₌₁ⁿ i"
