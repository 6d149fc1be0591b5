"""Keys typed while a reply streams: every one reaches the composer, in the order it was typed."""

from __future__ import annotations

from textual import events

from flashchat.testing.fake_gemini import FakeGemini, Reply

from .pilot_helpers import send_and_wait_for_streaming, wait_for_reply

# What the terminal driver makes of "Y<backspace>Za<backspace>bc<backspace>d" (Textual's XTermParser).
TYPED = [("Y", "Y"), ("backspace", "\x7f"), ("Z", "Z"), ("a", "a"), ("backspace", "\x7f"), ("b", "b")]
TYPED += [("c", "c"), ("backspace", "\x7f"), ("d", "d")]


async def test_a_burst_of_keys_typed_while_a_reply_streams_edits_the_composer_in_order(
    fake: FakeGemini, make_app
) -> None:
    """A busy app reads keys in bursts (the driver posts each to the app as it parses them). A backspace was run
    by its binding only once the key had bubbled back up to the app, by which time the letter typed after it had
    been inserted: the backspace erased that letter instead, and the composer kept the one meant to go."""
    fake.enqueue(Reply.text("word " * 400, chunk_chars=10, delay_s=0.02))
    app = make_app()
    async with app.run_test() as pilot:
        await send_and_wait_for_streaming(pilot, "talk for a while")
        for key, character in TYPED:
            app.post_message(events.Key(key, character))
        assert app.replying  # all typed while the reply streams
        await wait_for_reply(pilot)
        assert app.composer.text == "Zbd"
        assert app.composer.cursor_location == (0, 3)
