"""A busy history database never freezes the chat: while another flashchat holds SQLite's write lock, keys are
echoed as they are typed, and what waited for the lock (a reply's saves, a search, a rename, opening the store)
lands once it is released."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from textual.widgets import Input

from flashchat.core.conversation import Conversation, Message
from flashchat.store.conversation_store import ConversationStore, open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.screens.text_prompt_screen import TextPromptScreen
from flashchat.tui.widgets.history_sidebar import HistorySidebar
from flashchat.tui.widgets.reply_view import ReplyView
from support import WriteLock, store_in_use

from .pilot_helpers import send, wait_for_reply, wait_until

LONG_REPLY = "word " * 300  # in 150 chunks 20 ms apart: still streaming when the lock is taken


@pytest.fixture
def store(isolated_home: Path) -> ConversationStore:
    store = open_store(isolated_home / "history.db")
    yield store
    store.close()


def add_conversation(store: ConversationStore, question: str, answer: str) -> Conversation:
    conversation = Conversation()
    for message in (Message(role="user", text=question), Message(role="model", text=answer, finish_reason="STOP")):
        store.save_message(conversation, conversation.add(message))
    return conversation


def titles(sidebar: HistorySidebar) -> list[str]:
    return [entry.title for entry in sidebar.entries]


async def test_typing_goes_on_while_the_reply_waits_for_a_locked_database(
    fake: FakeGemini, make_app, store: ConversationStore
) -> None:
    fake.enqueue(Reply.text(LONG_REPLY, chunk_chars=10, delay_s=0.02))
    app = make_app(store=store)
    async with app.run_test() as pilot:
        await send(pilot, "talk for a while")
        reply = app.query_one(ReplyView)
        await wait_until(pilot, lambda: bool(reply.text))
        assert store.path is not None
        with WriteLock(store.path) as lock:
            await wait_until(pilot, lambda: store_in_use(store))  # the reply's next save waits for the lock
            await pilot.press(*"typing")
            await wait_until(pilot, lambda: app.composer.text == "typing")
            assert app.replying and store_in_use(store)  # echoed while the save still waits
            lock.release()
        await wait_for_reply(pilot)
        assert reply.text == LONG_REPLY
        assert app.composer.text == "typing"
    stored = store.load(app.session.conversation.id).messages
    assert [m.text for m in stored] == ["talk for a while", LONG_REPLY]
    assert not stored[1].incomplete and store.warning == ""


async def test_escape_twice_while_the_database_is_locked_still_saves_the_stopped_reply(
    fake: FakeGemini, make_app, store: ConversationStore
) -> None:
    fake.enqueue(Reply.text("word " * 400, chunk_chars=10, delay_s=0.02))
    app = make_app(store=store)
    async with app.run_test() as pilot:
        await send(pilot, "talk for a while")
        reply = app.query_one(ReplyView)
        await wait_until(pilot, lambda: len(reply.text) >= 50)
        assert store.path is not None
        with WriteLock(store.path) as lock:
            await pilot.press("escape")
            await wait_until(pilot, lambda: store_in_use(store))  # the stopped reply's save
            await pilot.press(*"next")
            await wait_until(pilot, lambda: app.composer.text == "next")
            await pilot.press("escape")  # a second stop while the save waits must not lose it
            assert app.replying
            lock.release()
        await wait_until(pilot, lambda: not app.replying)
        await pilot.pause()
        stopped = app.session.conversation.messages[-1]
        assert stopped.stopped and reply.text == stopped.text
    stored = store.load(app.session.conversation.id).messages
    assert [(m.role, m.text, m.stopped) for m in stored] == [
        ("user", "talk for a while", False),
        ("model", stopped.text, True),
    ]
    assert store.warning == ""


async def test_quitting_mid_reply_while_the_database_is_locked_saves_the_stopped_reply(
    fake: FakeGemini, make_app, isolated_home: Path
) -> None:
    """The app closes its store only once the stopped reply's save (waiting for the lock) has landed."""
    path = isolated_home / "history.db"
    fake.enqueue(Reply.text("word " * 400, chunk_chars=10, delay_s=0.02))
    app = make_app(open_store=lambda: open_store(path))
    async with app.run_test() as pilot:
        await send(pilot, "talk for a while")
        await wait_until(pilot, lambda: len(app.query_one(ReplyView).text) >= 50)
        lock = WriteLock(path)
        threading.Timer(0.5, lock.release).start()  # let go while the app is quitting
    shown = app.session.conversation.messages[-1]
    assert shown.stopped
    reopened = open_store(path)
    stored = reopened.load(app.session.conversation.id).messages
    reopened.close()
    assert [(m.role, m.stopped) for m in stored] == [("user", False), ("model", True)]
    assert stored[1].text == shown.text


async def test_history_search_while_the_database_is_locked(
    fake: FakeGemini, make_app, store: ConversationStore
) -> None:
    add_conversation(store, "How do tides work?", "The moon pulls the oceans.")
    add_conversation(store, "Best pasta shape?", "Rigatoni makes sauce cling.")
    fake.enqueue(Reply.text(LONG_REPLY, chunk_chars=10, delay_s=0.02))
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await send(pilot, "talk for a while")
        await wait_until(pilot, lambda: bool(app.query_one(ReplyView).text))
        sidebar = app.query_one(HistorySidebar)
        search = sidebar.query_one("#history-search", Input)
        assert store.path is not None
        with WriteLock(store.path) as lock:
            await wait_until(pilot, lambda: store_in_use(store))  # the reply's next save holds the store
            await pilot.press("ctrl+b", *"moon")
            await wait_until(pilot, lambda: search.value == "moon")
            # The list and the search wait their turn behind that save; the typing did not.
            assert sidebar.entries == [] and store_in_use(store)
            lock.release()
        await wait_until(pilot, lambda: titles(sidebar) == ["How do tides work?"])
        await wait_for_reply(pilot)
        assert titles(sidebar) == ["How do tides work?"]
    assert store.warning == ""


async def test_a_slow_search_for_older_text_never_replaces_the_newer_results(
    make_app, store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_conversation(store, "How do tides work?", "The moon pulls the oceans.")
    add_conversation(store, "Best pasta shape?", "Rigatoni makes sauce cling.")
    started: list[str] = []
    finished: list[str] = []
    slow_query_may_end = threading.Event()
    search = store.search

    def search_where_m_is_slow(query: str, *args, **kwargs):
        started.append(query)
        hits = search(query, *args, **kwargs)
        if query == "m":  # matches both conversations, and answers only after "moon" has
            slow_query_may_end.wait(10)
        finished.append(query)
        return hits

    monkeypatch.setattr(store, "search", search_where_m_is_slow)
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        sidebar = app.query_one(HistorySidebar)
        await wait_until(pilot, lambda: len(sidebar.entries) == 2)
        await pilot.press("m")
        await wait_until(pilot, lambda: "m" in started)
        await pilot.press(*"oon")
        await wait_until(pilot, lambda: titles(sidebar) == ["How do tides work?"])
        slow_query_may_end.set()
        await wait_until(pilot, lambda: "m" in finished)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert titles(sidebar) == ["How do tides work?"]


async def test_rename_while_the_database_is_locked(make_app, store: ConversationStore) -> None:
    conversation = add_conversation(store, "Old title", "ok")
    app = make_app(store=store)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("ctrl+b")
        sidebar = app.query_one(HistorySidebar)
        await wait_until(pilot, lambda: titles(sidebar) == ["Old title"])
        await pilot.press("tab", "r")
        assert isinstance(app.screen, TextPromptScreen)
        app.screen.query_one(Input).value = "New title"
        assert store.path is not None
        with WriteLock(store.path) as lock:
            await pilot.press("enter")
            await wait_until(pilot, lambda: store_in_use(store))  # the rename waits for the lock
            await pilot.press("ctrl+b", *"typing")  # back to the composer
            await wait_until(pilot, lambda: app.composer.text == "typing")
            assert store_in_use(store)
            lock.release()
        await wait_until(pilot, lambda: store.summary(conversation.id).title == "New title")
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: titles(sidebar) == ["New title"])


async def test_the_chat_opens_while_another_flashchat_holds_the_write_lock(
    fake: FakeGemini, make_app, isolated_home: Path
) -> None:
    """A database that still needs its schema: opening waits for the lock, in a thread, while the user types and
    even chats; what was said meanwhile is written once the store is open."""
    path = isolated_home / "history.db"
    created = sqlite3.connect(path, isolation_level=None)
    created.execute("PRAGMA journal_mode = WAL")
    created.close()
    with WriteLock(path) as lock:
        app = make_app(open_store=lambda: open_store(path))
        async with app.run_test() as pilot:
            await pilot.press(*"hello")
            await wait_until(pilot, lambda: app.composer.text == "hello")
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.query(ReplyView) and not app.replying)
            assert app.store is None  # still waiting for the lock
            lock.release()
            await wait_until(pilot, lambda: app.store is not None)
            await app.workers.wait_for_complete()
            store = app.store
            assert store is not None and store.path == path and store.warning == ""
            conversation_id = app.session.conversation.id
            assert conversation_id is not None
            assert [m.text for m in store.load(conversation_id).messages] == ["hello", "Echo: hello"]
