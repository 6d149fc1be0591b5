"""Long replies and long conversations keep the number of live widgets bounded."""

from __future__ import annotations

import random

import pytest

from flashchat.core.conversation import Conversation, Message
from flashchat.render.markdown_lines import render_markdown
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.lines_ahead import LINES_AHEAD
from flashchat.tui.reply_styles import reply_styles
from flashchat.tui.segments import SegmentSplitter, split_segments
from flashchat.tui.widgets.conversation_view import MAX_MOUNTED, MOUNT_BATCH, WINDOW_STEP, ConversationView
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


def _long_conversation(pairs: int = 100, answer_lines: int = 3) -> Conversation:
    messages = []
    for number in range(pairs):
        messages.append(Message(role="user", text=f"question {number}"))
        answer = f"answer {number}" + "".join(f"\n\nline {line} of answer {number}." for line in range(answer_lines))
        messages.append(Message(role="model", text=answer, thinking_level="low"))
    return Conversation(messages=messages, title="long")


def _on_screen(view: ConversationView, text: str) -> bool:
    """A message whose text starts with `text` is mounted and at least partly inside the viewport."""
    return any(
        widget.text.startswith(text) and widget.region.height and view.region.overlaps(widget.region)
        for widget in view.message_widgets
    )


def _top_message(view: ConversationView):
    """The message at the top edge of the viewport, and the screen row its first line is on."""
    for widget in view.message_widgets:
        if widget.region.bottom > view.region.y:
            return widget, widget.region.y
    raise AssertionError("no message on screen")


async def _settled(pilot, view: ConversationView) -> None:
    """Until the window has mounted and unmounted what the reader's position asks for."""
    await pilot.pause()
    await wait_until(pilot, lambda: not view._window_moving)
    await pilot.pause()


async def test_a_long_conversation_opens_with_its_last_messages_and_loads_more_on_page_up(make_app) -> None:
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        assert len(view.message_widgets) == MOUNT_BATCH
        assert view.message_widgets[-1].text.startswith("answer 99")
        assert "184 earlier messages" in str(view.query_one(".earlier").render())
        await pilot.press("pageup", "pageup")
        await _settled(pilot, view)
        assert view.earlier_not_mounted < 184  # loaded ahead of the reader, before the top edge
        assert f"{view.earlier_not_mounted} earlier messages" in str(view.query_one(".earlier").render())
        assert view.scroll_y > 0


async def test_paging_up_moves_a_bounded_window_and_what_the_user_sees_never_jumps(make_app) -> None:
    """PageUp from the end of 200 messages to the first: each key scrolls one page of text (the message at the
    top moves down the screen, never away), at most MAX_MOUNTED (and a step) messages are mounted, and the
    labels count what is not mounted above and below."""
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        most_mounted = 0
        for _ in range(400):
            if _on_screen(view, "question 0"):
                break
            top_before, row_before = _top_message(view)
            await pilot.press("pageup")
            await _settled(pilot, view)
            # One page up: the message that was at the top is now lower on the screen, or off its bottom.
            assert not top_before.is_attached or top_before.region.y > row_before or not top_before.region
            most_mounted = max(most_mounted, len(view.message_widgets))
            if view.later_not_mounted:
                later = str(view.query_one(".later").render())
                assert f"{view.later_not_mounted} later messages" in later
        assert _on_screen(view, "question 0") and view.earlier_not_mounted == 0
        assert not view.query_one(".earlier").display
        assert most_mounted <= MAX_MOUNTED + WINDOW_STEP
        assert view.later_not_mounted > 100  # the end of the chat went, and the label says so
        assert not view.following


async def test_replies_rendered_ahead_of_the_reader_show_the_same_lines_once_the_window_mounts_them(
    make_app,
) -> None:
    """Between keys the view renders the replies its next step mounts (tui/lines_ahead.py): paging on mounts
    them with those lines, and each shows what a reply rendered on the spot shows."""
    LINES_AHEAD.clear()
    app = make_app(conversation=_long_conversation(answer_lines=6))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await pilot.press("pageup")
        await _settled(pilot, view)
        await wait_until(pilot, lambda: len(LINES_AHEAD) > 0)
        rendered_ahead = set(LINES_AHEAD.texts())
        assert all(text.startswith("answer ") for text in rendered_ahead)
        for _ in range(6):
            await pilot.press("pageup")
            await _settled(pilot, view)
        mounted = [segment for reply in view.query(ReplyView) for segment in reply.segments]
        taken = [segment for segment in mounted if segment.text in rendered_ahead]
        assert taken and all(text not in LINES_AHEAD.texts() for text in (s.text for s in taken))
        for segment in taken:
            width = segment.size.width
            drawn = [segment.render_line(y).text.rstrip() for y in range(segment.size.height)]
            fresh = render_markdown(segment.text, width, reply_styles(app, segment.background_colors[1]))
            assert drawn == ["".join(piece.text for piece in line).rstrip() for line in fresh]
            assert any(line.startswith("answer ") for line in drawn)


def _screen_row(view: ConversationView, widget) -> int:
    """The row, counted from the top of the viewport, where the widget's first line is drawn (negative: above
    the viewport; the layout also places the widgets off screen)."""
    arrangement = view._last_arrangement
    assert arrangement is not None
    placement = next(placement for placement in arrangement.placements if placement.widget is widget)
    return placement.region.y - round(view.scroll_y)


async def test_each_page_up_and_down_moves_the_text_by_one_page_while_the_window_moves(make_app) -> None:
    """The window mounts and unmounts messages above the viewport as the user pages: the text still moves by
    exactly one page per key, up and down (it does not jump by what was mounted)."""
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        page = view.scrollable_content_region.height
        mounted_above = unmounted_above = 0
        for key, sign in [("pageup", 1)] * 60 + [("pagedown", -1)] * 30:
            top, _ = _top_message(view)
            row, not_mounted = _screen_row(view, top), view.earlier_not_mounted
            room = round(view.scroll_y) if sign > 0 else round(view.max_scroll_y - view.scroll_y)
            await pilot.press(key)
            await _settled(pilot, view)
            assert _screen_row(view, top) == row + sign * min(page, room)
            mounted_above += max(0, not_mounted - view.earlier_not_mounted)
            unmounted_above += max(0, view.earlier_not_mounted - not_mounted)
        assert mounted_above > 0 and unmounted_above > 0


async def test_paging_down_after_reading_up_remounts_the_end_and_follows_it_again(make_app) -> None:
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await pilot.press("home")
        await _settled(pilot, view)
        assert _on_screen(view, "question 0") and view.later_not_mounted == 200 - MOUNT_BATCH
        assert "184 later messages" in str(view.query_one(".later").render())
        most_mounted = 0
        for _ in range(400):
            if not view.later_not_mounted and view.scroll_y >= view.max_scroll_y:
                break
            top_before, row_before = _top_message(view)
            await pilot.press("pagedown")
            await _settled(pilot, view)
            assert not top_before.is_attached or top_before.region.y < row_before  # one page down, no jump back
            most_mounted = max(most_mounted, len(view.message_widgets))
        assert _on_screen(view, "answer 99") and not view.query(".later")
        assert most_mounted <= MAX_MOUNTED + WINDOW_STEP
        assert view.earlier_not_mounted > 100
        assert view.following  # back at the end: a new reply is followed again


async def test_home_and_end_jump_to_the_ends_of_a_long_conversation(make_app) -> None:
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await pilot.press("home")
        await _settled(pilot, view)
        assert view.message_widgets[0].text == "question 0" and _on_screen(view, "question 0")
        assert len(view.message_widgets) <= MAX_MOUNTED
        await pilot.press("end")
        await _settled(pilot, view)
        assert _on_screen(view, "answer 99") and view.following
        assert view.later_not_mounted == 0 and not view.query(".later")
        texts = [widget.text for widget in view.message_widgets]
        assert len(texts) == len(set(texts))  # each message once


async def test_sending_while_reading_far_up_shows_the_end_and_the_new_prompt_once(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text("the new answer"))
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await pilot.press("home")
        await _settled(pilot, view)
        await send(pilot, "a new question")
        await wait_for_reply(pilot)
        await pilot.pause()
        texts = [widget.text for widget in view.message_widgets]
        assert texts[-3:] == [texts[-3], "a new question", "the new answer"]
        assert texts[-3].startswith("answer 99")
        assert texts.count("a new question") == 1
        assert _on_screen(view, "the new answer") and view.following


async def test_a_reply_streaming_while_the_user_pages_far_up_does_not_pull_the_view_down(
    fake: FakeGemini, make_app
) -> None:
    """The streaming reply stays mounted (the app writes to it) while the user reads up; once it is done the
    window lets it go, and End brings it back."""
    answer = "".join(f"Streamed paragraph {n}.\n\n" for n in range(60))
    fake.enqueue(Reply.text(answer, chunk_chars=40, delay_s=0.02))
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await send(pilot, "stream please")
        await wait_until(pilot, lambda: "Streamed paragraph 3" in view.message_widgets[-1].text)
        for _ in range(12):
            await pilot.press("pageup")
            await pilot.pause()
        top, row = _top_message(view)
        await wait_for_reply(pilot)
        await _settled(pilot, view)
        assert top.region.y == row and not view.following  # not yanked to the stream
        for _ in range(30):
            await pilot.press("pageup")
            await _settled(pilot, view)
        assert view.later_not_mounted > 0 and not any(widget.text == "stream please" for widget in view.message_widgets)
        await pilot.press("end")
        await _settled(pilot, view)
        assert _on_screen(view, "Streamed paragraph 0") and view.following
        assert (
            view.message_widgets[-1].text == answer.strip() or "Streamed paragraph 59" in view.message_widgets[-1].text
        )
        assert [widget.text for widget in view.message_widgets].count("stream please") == 1


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
        # The end is read first and the 104 before it right after (tail-first open): the label counts them then.
        await wait_until(pilot, lambda: "104 earlier messages" in str(view.query_one(".earlier").render()))
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


async def test_regenerate_and_edit_while_reading_from_the_start_act_on_the_end(fake: FakeGemini, make_app) -> None:
    """Ctrl+R and Ctrl+L work on the last prompt and answer, which the window had unmounted: the end comes back
    first, and the view shows it."""
    fake.enqueue(Reply.text("a regenerated answer"))
    app = make_app(conversation=_long_conversation())
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await pilot.press("home")
        await _settled(pilot, view)
        assert view.later_not_mounted
        await pilot.press("ctrl+r")
        await wait_for_reply(pilot)
        texts = [widget.text for widget in view.message_widgets]
        assert texts[-2:] == ["question 99", "a regenerated answer"]
        assert not any(text.startswith("answer 99") for text in texts)
        assert _on_screen(view, "a regenerated answer")
        await pilot.press("home")
        await _settled(pilot, view)
        await pilot.press("ctrl+l")
        await _settled(pilot, view)
        assert app.composer.text == "question 99"
        texts = [widget.text for widget in view.message_widgets]
        assert texts[-1].startswith("answer 98") and "question 99" not in texts
