"""History: conversations from the store, continued with their thought signatures intact."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from flashchat.core.conversation import Conversation, Message, Usage
from flashchat.store.conversation_store import ConversationStore, open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.screens.picker_screen import PickerScreen
from flashchat.tui.screens.text_prompt_screen import TextPromptScreen
from flashchat.tui.widgets.history_sidebar import HistorySidebar
from flashchat.tui.widgets.reply_view import ReplyView

from .pilot_helpers import send, wait_for_reply, wait_until

SIGNATURE = b"\x00\xffsigned-by-the-fake\xfe"


def decoded(value: str) -> bytes:
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


@pytest.fixture
def store(isolated_home: Path) -> ConversationStore:
    store = open_store(isolated_home / "history.db")
    yield store
    store.close()


def add_conversation(store: ConversationStore, question: str, answer: str) -> Conversation:
    conversation = Conversation()
    for message in (
        Message(role="user", text=question, model="gemini-3.5-flash"),
        Message(
            role="model",
            text=answer,
            provider="gemini",
            model="gemini-3.5-flash",
            thinking_level="low",
            usage=Usage(prompt=10, output=20, total=30),
            finish_reason="STOP",
            native={"role": "model", "parts": [{"text": answer}]},
        ),
    ):
        conversation.add(message)
        store.save_message(conversation, message)
    return conversation


async def test_reopened_conversation_continues_with_signatures_byte_exact(
    fake: FakeGemini, make_app, store: ConversationStore
) -> None:
    fake.enqueue(Reply.text("First answer.", thoughts="thinking it over", signature=SIGNATURE))
    async with make_app(store=store).run_test() as pilot:
        await send(pilot, "first question")
        await wait_for_reply(pilot)
    conversation_id = store.latest_id()

    app = make_app(store=store, conversation_id=conversation_id)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: len(app.query(ReplyView)) == 1)
        assert app.query_one(ReplyView).text == "First answer."
        await send(pilot, "second question")
        await wait_for_reply(pilot)
    model_turn = fake.generate_requests()[1].contents[1]
    signatures = [
        decoded(p.get("thoughtSignature") or p["thought_signature"])
        for p in model_turn["parts"]
        if p.get("thoughtSignature") or p.get("thought_signature")
    ]
    assert signatures == [SIGNATURE]
    assert [m.text for m in store.load(conversation_id).messages] == [
        "first question",
        "First answer.",
        "second question",
        "Echo: second question",
    ]


async def test_sidebar_lists_searches_and_opens(make_app, store: ConversationStore) -> None:
    add_conversation(store, "How do tides work?", "The moon pulls the oceans.")
    add_conversation(store, "Best pasta shape?", "Rigatoni holds sauce well.")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        sidebar = app.query_one(HistorySidebar)
        # The store answers from a thread, so the list lands a moment after the sidebar opens.
        titles = ["Best pasta shape?", "How do tides work?"]
        await wait_until(pilot, lambda: [e.title for e in sidebar.entries] == titles)
        await pilot.press(*"moon")
        await wait_until(pilot, lambda: [e.title for e in sidebar.entries] == ["How do tides work?"])
        await pilot.press("enter", "enter")
        await wait_until(pilot, lambda: len(app.query(ReplyView)) == 1)
        assert app.query_one(ReplyView).text == "The moon pulls the oceans."
        assert not sidebar.display
        assert app.sub_title == "How do tides work?"


async def test_sidebar_renames_and_deletes(make_app, store: ConversationStore) -> None:
    kept = add_conversation(store, "Keep me", "ok")
    doomed = add_conversation(store, "Delete me", "ok")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: len(app.query_one(HistorySidebar).entries) == 2)
        await pilot.press("tab", "r")  # from the search box to the list, then rename
        assert isinstance(app.screen, TextPromptScreen)
        app.screen.query_one("Input").value = "Deleted soon"
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.summary(doomed.id).title == "Deleted soon")
        await pilot.press("d")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("1")
        await wait_until(pilot, lambda: [e.title for e in app.query_one(HistorySidebar).entries] == ["Keep me"])
        assert [s.id for s in store.list_conversations()] == [kept.id]


async def test_continue_latest_opens_the_newest_conversation(
    fake: FakeGemini, make_app, store: ConversationStore
) -> None:
    """`flashchat -c` without -p: the chat opens on the most recent conversation."""
    from flashchat.tui.app import CONTINUE_LATEST

    for text in ("older chat", "newer chat"):
        async with make_app(store=store).run_test() as pilot:
            await send(pilot, text)
            await wait_for_reply(pilot)
    app = make_app(store=store, conversation_id=CONTINUE_LATEST)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: len(app.query(ReplyView)) == 1)
        assert app.query_one(ReplyView).text == "Echo: newer chat"
        assert app.session.conversation.id == store.latest_id()


async def test_reopened_tool_rounds_show_as_tool_lines_not_as_typed_messages(
    fake: FakeGemini, make_app, store: ConversationStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from flashchat.core.session import ChatSession, ToolApproval
    from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
    from flashchat.tui.widgets.user_message import UserMessage

    (tmp_path / "a.py").write_text("x = 1\n")
    fake.enqueue(Reply.function_calls([("read_file", {"path": "a.py"})]), Reply.text("It sets x."))

    async def allow(call):
        return ToolApproval.ONCE

    session = ChatSession(
        dataclasses.replace(make_app().session.settings, local_tools=True),
        store=store, approve_tool=allow, working_dir=tmp_path,
    )  # fmt: skip
    stream = session.send("what is in a.py?")
    async for _ in stream:
        pass
    await session.aclose()

    app = make_app(store=store, conversation_id=session.conversation.id)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: len(app.query(ToolCallNotice)) == 1)
        assert len(app.query(UserMessage)) == 1  # only what the user typed
        notice = app.query_one(ToolCallNotice)
        assert "read_file(path='a.py') -> ok" in str(notice.render())


def sidebar_lines(app) -> list[str]:
    """The history list as the user sees it, line by line."""
    from flashchat.tui.widgets.history_sidebar import HistoryList

    history = app.query_one(HistoryList)
    return [history.render_line(y).text.rstrip() for y in range(history.size.height)]


async def test_down_from_the_search_box_enters_the_list(make_app, store: ConversationStore) -> None:
    add_conversation(store, "First", "ok")
    add_conversation(store, "Second", "ok")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        sidebar = app.query_one(HistorySidebar)
        await wait_until(pilot, lambda: len(sidebar.entries) == 2)
        assert app.focused is sidebar.query_one("#history-search")
        await pilot.press("down")
        assert app.focused is sidebar.query_one("#history-list")
        await pilot.press("down", "enter")  # the list's own Down: the second entry
        await wait_until(pilot, lambda: app.sub_title == "First")


async def test_a_long_title_keeps_the_message_count_line(make_app, store: ConversationStore) -> None:
    add_conversation(store, "Why " + "does this very long question go on " * 4 + "?", "ok")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: len(app.query_one(HistorySidebar).entries) == 1)
        await pilot.pause()
        title, detail = sidebar_lines(app)[:2]
        assert title.startswith("Why does this very long") and title.endswith("…")
        assert detail.strip() == "2 messages · 30 tokens"


async def test_the_delete_dialog_names_the_conversation(make_app, store: ConversationStore) -> None:
    add_conversation(store, "Plan the \x1b[31mtrip\x1b[0m to Kyoto", "ok")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: len(app.query_one(HistorySidebar).entries) == 1)
        await pilot.press("down", "d")
        assert isinstance(app.screen, PickerScreen)
        assert str(app.screen.query_one(".picker-title").render()) == "Delete “Plan the ␛[31mtrip␛[0m to Kyoto”?"
        await pilot.press("escape")
        assert len(store.list_conversations()) == 1


async def test_search_snippets_show_brackets_as_typed_and_stress_the_match(make_app, store: ConversationStore) -> None:
    add_conversation(store, "Indexing", "Use list[int] and [bold]x[/bold] with the moon index.")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        await pilot.press(*"moon")
        sidebar = app.query_one(HistorySidebar)
        await wait_until(pilot, lambda: bool(sidebar.entries) and sidebar.entries[0].snippet != ())
        await pilot.pause()
        lines = sidebar_lines(app)
        assert lines[0].strip() == "Indexing"
        detail = " ".join(line.strip() for line in lines[1:] if line.strip())  # the snippet wraps to stay whole
        assert detail == "Use list[int] and [bold]x[/bold] with the moon index."
        from flashchat.tui.widgets.history_sidebar import HistoryList

        history = app.query_one(HistoryList)
        strips = [history.render_line(y) for y in range(1, 4)]
        stressed = [s.text for strip in strips for s in strip if s.style and s.style.reverse and s.text.strip()]
        assert stressed == ["moon"]


async def test_rename_the_open_conversation_from_the_palette_action(
    fake: FakeGemini, make_app, store: ConversationStore
) -> None:
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "hello there")
        await wait_for_reply(pilot)
        app.action_rename_conversation()
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        app.screen.query_one("Input").value = "Greetings"
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.summary(app.session.conversation.id).title == "Greetings")
        assert app.sub_title == "Greetings"


def add_long_conversation(store: ConversationStore, pairs: int) -> Conversation:
    """`pairs` questions and answers, each answer signed with bytes of its own (thoughtSignature)."""
    conversation = Conversation()
    for number in range(pairs):
        signature = base64.b64encode(b"\x00sig-%d\xff" % number).decode()
        for message in (
            Message(role="user", text=f"question {number}", model="gemini-3.5-flash"),
            Message(
                role="model",
                text=f"answer {number}",
                provider="gemini",
                model="gemini-3.5-flash",
                usage=Usage(prompt=10 + number, output=20, total=30 + number),
                finish_reason="STOP",
                native={"role": "model", "parts": [{"text": f"answer {number}", "thoughtSignature": signature}]},
            ),
        ):
            conversation.add(message)
            store.save_message(conversation, message)
    return conversation


def hold_earlier_reads(store: ConversationStore, monkeypatch: pytest.MonkeyPatch):
    """Make the store's read of a conversation's earlier messages wait until the returned event is set."""
    import threading

    released = threading.Event()
    read_earlier = store.load_earlier

    def held(*args, **kwargs):
        released.wait(10)
        return read_earlier(*args, **kwargs)

    monkeypatch.setattr(store, "load_earlier", held)
    return released


async def test_a_long_conversation_opened_from_its_end_sends_all_of_it(
    fake: FakeGemini, make_app, store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end is painted before the rest is read; a prompt sent meanwhile waits, then carries every earlier
    message with its signature as stored."""
    from flashchat.tui.widgets.conversation_view import ConversationView

    stored = add_long_conversation(store, 20)
    released = hold_earlier_reads(store, monkeypatch)
    app = make_app(store=store, conversation_id=stored.id)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: any(r.text == "answer 19" for r in app.query(ReplyView)))
        await send(pilot, "one more")
        await pilot.pause(0.2)
        assert fake.generate_requests() == []  # not with a part of the history
        released.set()
        await wait_for_reply(pilot)
        view = app.query_one(ConversationView)
        await wait_until(pilot, lambda: "24 earlier messages" in str(view.query_one(".earlier").render()))
    contents = fake.generate_requests()[0].contents
    assert [c["parts"][0]["text"] for c in contents[:4]] == ["question 0", "answer 0", "question 1", "answer 1"]
    assert len(contents) == 41
    signatures = [part.get("thoughtSignature") for c in contents if c["role"] == "model" for part in c["parts"]]
    assert [decoded(s) for s in signatures] == [b"\x00sig-%d\xff" % n for n in range(20)]
    assert [m.text for m in store.load(stored.id).messages][-3:] == ["answer 19", "one more", "Echo: one more"]
    assert len(store.load(stored.id).messages) == 42


async def test_scrolling_up_a_conversation_opened_from_its_end_reaches_its_first_message(
    make_app, store: ConversationStore
) -> None:
    from flashchat.tui.widgets.conversation_view import ConversationView
    from flashchat.tui.widgets.user_message import UserMessage

    stored = add_long_conversation(store, 30)
    app = make_app(store=store, conversation_id=stored.id)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        await wait_until(pilot, lambda: view.earlier_not_mounted == 44)
        for _ in range(200):
            if view.earlier_not_mounted == 0 and view.scroll_y <= 0:
                break
            view.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.02)
        first = next(w for w in view.message_widgets if isinstance(w, UserMessage))
        assert first.text == "question 0"
        assert app.session.conversation.messages[0].text == "question 0"
