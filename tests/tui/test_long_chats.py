"""Long replies and long conversations keep the number of live widgets bounded."""

from __future__ import annotations

import random

import pytest

from flashchat.core.conversation import Conversation, Message
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.segments import SegmentSplitter, split_segments
from flashchat.tui.widgets.conversation_view import MOUNT_BATCH, ConversationView
from flashchat.tui.widgets.reply_view import ReplyView

from .pilot_helpers import send, wait_for_reply, wait_until

LONG_MARKDOWN = "".join(
    f"## Part {n}\n\nSome prose about part {n}, long enough to matter. " * 3
    + "\n\n- a list item\n\n- another, loose, item\n\n1. ordered\n2. list\n\n"
    + "```python\n"
    + "".join(f"x_{n}_{i} = {i}\n\n" for i in range(6))
    + "```\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n> a quote\n\n    indented code\n\n"
    for n in range(12)
)


def test_segments_never_cut_inside_a_fence_list_or_table() -> None:
    segments = split_segments(LONG_MARKDOWN, segment_chars=300)
    assert len(segments) >= 5
    assert "".join(segments) == LONG_MARKDOWN
    for segment in segments[1:]:
        assert segment.startswith(("## Part", "Some prose", "```python", "| a | b |")) or segment[0].isalpha()
        assert segment.count("```") % 2 == 0


def test_streamed_cuts_match_the_cuts_of_the_whole_text() -> None:
    rng = random.Random(7)
    splitter = SegmentSplitter(segment_chars=300)
    streamed = [""]
    position = 0
    while position < len(LONG_MARKDOWN):
        size = rng.randint(1, 40)
        first, *rest = splitter.feed(LONG_MARKDOWN[position : position + size])
        streamed[-1] += first
        streamed.extend(rest)
        position += size
    streamed[-1] += splitter.flush()
    assert streamed == split_segments(LONG_MARKDOWN, segment_chars=300)


async def test_a_long_reply_streams_into_segments_and_far_ones_are_parked(
    fake: FakeGemini, make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ReplyView, "segment_chars", 600)
    fake.enqueue(Reply.text(LONG_MARKDOWN, chunk_chars=400))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "long please")
        await wait_for_reply(pilot)
        reply = app.query_one(ReplyView)
        segments = reply.segments
        assert reply.text == LONG_MARKDOWN
        assert len(segments) >= 5
        assert all(not segment.streaming for segment in segments)
        await wait_until(pilot, lambda: segments[0].parked and not segments[-1].parked)
        # Every fence is highlighted in the end, also the ones that streamed while open.
        shown = [segment for segment in segments if not segment.parked and "```python" in segment.text]
        assert shown
        for segment in shown:
            code_lines = [strip for y in range(segment.size.height) if "x_" in (strip := segment.render_line(y)).text]
            assert code_lines and all(
                len({piece.style for piece in line if piece.text.strip()}) > 1 for line in code_lines
            )
        view = app.query_one(ConversationView)
        view.scroll_home(animate=False)
        await wait_until(pilot, lambda: not segments[0].parked and segments[-1].parked)


async def test_a_long_conversation_opens_with_its_last_messages_and_loads_more_on_scroll_up(make_app) -> None:
    messages = []
    for number in range(100):
        messages.append(Message(role="user", text=f"question {number}"))
        messages.append(Message(role="model", text=f"answer {number}", thinking_level="low"))
    app = make_app(conversation=Conversation(messages=messages, title="long"))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        assert len(view.message_widgets) == MOUNT_BATCH
        assert view.message_widgets[-1].text == "answer 99"
        assert "184 earlier messages" in str(view.query_one(".earlier").render())
        first_before = view.message_widgets[0]
        view.scroll_home(animate=False)
        await wait_until(pilot, lambda: len(view.message_widgets) == 2 * MOUNT_BATCH)
        await pilot.pause()
        assert first_before.region.y >= view.region.y  # what the user was looking at did not jump away


async def test_the_view_follows_the_stream_until_the_user_scrolls_up(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("".join(f"Paragraph {n} of a long answer.\n\n" for n in range(80)), delay_s=0.01))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(ConversationView)
        await send(pilot, "long")
        await wait_until(pilot, lambda: view.max_scroll_y > 20)
        assert view.scroll_y == view.max_scroll_y  # following the stream
        view.scroll_to(y=5, animate=False)  # the user scrolls up to read
        await pilot.pause()
        await wait_for_reply(pilot)
        assert view.scroll_y == 5 and view.max_scroll_y > 40
        view.scroll_end(animate=False)
        await pilot.pause()
        assert view.following


async def test_pruning_removes_everything_above_the_cut(make_app) -> None:
    """Tool-call lines, sources and chips sit between messages; pruning must not leave them behind."""
    from flashchat.core.conversation import ToolCall
    from flashchat.tui.widgets.conversation_view import MAX_MOUNTED
    from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
    from flashchat.tui.widgets.user_message import UserMessage

    app = make_app()
    async with app.run_test() as pilot:
        view = app.conversation_view
        for number in range(MAX_MOUNTED + 10):
            await view.add_user_message(f"message {number}")
            await view.mount(ToolCallNotice(ToolCall("read_file", {"path": f"{number}.py"})))
        await pilot.pause()
        await view.prune()
        users, notices = list(view.query(UserMessage)), list(view.query(ToolCallNotice))
        assert len(users) < MAX_MOUNTED and len(notices) == len(users)
        first = next(child for child in view.children if isinstance(child, (UserMessage, ToolCallNotice)))
        assert isinstance(first, UserMessage)


async def test_a_stored_conversation_opened_at_start_shows_its_end_then_the_whole_batch(make_app, tmp_path) -> None:
    """`flashchat --cid`: the messages that fill the view are painted first and the rest of the batch is mounted
    above them a frame later; in the end the same messages are there, once each and in order, the last one on
    screen, and scrolling up still loads every earlier one."""
    from flashchat.store.conversation_store import open_store

    store = open_store(tmp_path / "history.db")
    conversation = Conversation()
    for number in range(60):
        for message in (
            Message(role="user", text=f"question {number}"),
            Message(role="model", text=f"answer {number}\n\n" + "A line of the answer.\n\n" * 8),
        ):
            conversation.add(message)
            store.save_message(conversation, message)
    app = make_app(store=store, conversation_id=conversation.id)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await wait_until(pilot, lambda: len(view.message_widgets) == MOUNT_BATCH)
        await pilot.pause()
        texts = [widget.text for widget in view.message_widgets]
        expected = [message.text for message in conversation.messages[-MOUNT_BATCH:]]
        assert texts == expected
        assert "104 earlier messages" in str(view.query_one(".earlier").render())
        last = view.message_widgets[-1]
        assert last.region.bottom <= view.region.bottom and last.region.y >= view.region.y  # on screen
        for _ in range(40):
            if view.earlier_not_mounted == 0:
                break
            view.scroll_home(animate=False)
            await pilot.pause(0.05)
        await wait_until(pilot, lambda: view.earlier_not_mounted == 0)
        assert view.message_widgets[0].text == "question 0"
    store.close()
