"""The store used from threads: the session writes on its writer thread while a UI reads from others, and a
database locked by another process never holds up the event loop or loses a stopped reply."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message
from flashchat.core.events import Finished, TextDelta
from flashchat.store.conversation_store import ConversationStore, open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import WriteLock, make_session, store_in_use


@pytest.fixture
def store(isolated_home: Path) -> ConversationStore:
    store = open_store(isolated_home / "history.db")
    yield store
    store.close()


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_writes_from_threads_while_another_thread_reads(store: ConversationStore) -> None:
    """Two writers and a reader on one store at once: every message lands in order, every read sees whole rows."""
    per_writer = 150
    start = threading.Barrier(3)
    failures: list[BaseException] = []
    names = ("north", "south")
    conversations = [Conversation(title=name) for name in names]
    writing = [True, True]

    def write(n: int) -> None:
        try:
            start.wait()
            conversation = conversations[n]
            for i in range(per_writer):
                text = f"{names[n]} tide {i}"
                store.save_message(conversation, conversation.add(Message(role="user", text=text)))
        except BaseException as error:  # collected, so the test fails here rather than in a thread
            failures.append(error)
        finally:
            writing[n] = False

    def read() -> None:
        try:
            start.wait()
            while any(writing):
                for summary in store.list_conversations():
                    texts = [m.text for m in store.load(summary.id).messages]
                    # Whole and in order, never a write half seen (its writer may have added more since).
                    assert texts == [f"{summary.title} tide {i}" for i in range(len(texts))]
                    assert len(texts) >= summary.message_count
                store.search("tide")
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(2)] + [threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert store.warning == ""
    for n, conversation in enumerate(conversations):
        stored = store.load(conversation.id)
        assert [m.text for m in stored.messages] == [f"{names[n]} tide {i}" for i in range(per_writer)]
        assert store.summary(conversation.id).message_count == per_writer
        assert [hit.conversation_id for hit in store.search(names[n])] == [conversation.id]


async def test_closing_the_stream_mid_reply_saves_the_stopped_reply(
    fake: FakeGemini, settings: Settings, store: ConversationStore
) -> None:
    fake.enqueue(Reply.text("first chunk then much more", chunk_chars=6, delay_s=0.2))
    session = make_session(settings, store=store)
    stream = session.send("hi")
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, TextDelta):
                break  # aclose() runs the session's finally: the save is awaited there
    stored = store.load(session.conversation.id).messages
    assert [(m.role, m.text) for m in stored] == [("user", "hi"), ("model", "first ")]
    assert stored[1].stopped and stored[1].incomplete
    assert stored[1].id == session.conversation.messages[-1].id
    await session.aclose()


async def test_a_reply_stopped_while_the_database_is_locked_is_saved_through_a_second_cancel(
    fake: FakeGemini, settings: Settings, store: ConversationStore
) -> None:
    fake.enqueue(Reply.text("first chunk then much more", chunk_chars=6, delay_s=0.2))
    session = make_session(settings, store=store)
    first_text = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(session.send("hi")) as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    first_text.set()

    task = asyncio.create_task(consume())
    await first_text.wait()
    assert store.path is not None
    with WriteLock(store.path) as lock:
        task.cancel()
        await wait_for(lambda: store_in_use(store))  # the stopped reply's save, waiting for the lock
        task.cancel()  # stopped again (a second Esc, or the app quitting) while that save waits
        await asyncio.sleep(0.05)
        assert not task.done()  # the save is still being seen through
        lock.release()
        with pytest.raises(asyncio.CancelledError):
            await task
    kept = session.conversation.messages[-1]
    assert kept.stopped and kept.text.startswith("first ")
    stored = store.load(session.conversation.id).messages
    assert [(m.role, m.text, m.stopped) for m in stored] == [("user", "hi", False), ("model", kept.text, True)]
    assert store.warning == ""
    await session.aclose()


async def test_the_loop_runs_on_while_a_save_waits_for_the_lock(
    fake: FakeGemini, settings: Settings, store: ConversationStore
) -> None:
    """Another process holds the write lock mid-reply: other tasks keep running; once it lets go, all is saved."""
    text = "word " * 200
    fake.enqueue(Reply.text(text, chunk_chars=10, delay_s=0.01))
    session = make_session(settings, store=store)
    first_text = asyncio.Event()
    events = []

    async def consume() -> None:
        async with contextlib.aclosing(session.send("talk")) as stream:
            async for event in stream:
                events.append(event)
                first_text.set()

    task = asyncio.create_task(consume())
    await first_text.wait()
    assert store.path is not None
    with WriteLock(store.path) as lock:
        await wait_for(lambda: store_in_use(store))
        ticks = 0
        for _ in range(5):  # with the save on the loop, none of these would run until SQLite gave up
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 5 and store_in_use(store) and not task.done()
        lock.release()
    await task
    assert isinstance(events[-1], Finished) and events[-1].message.text == text
    stored = store.load(session.conversation.id).messages
    assert [m.text for m in stored] == ["talk", text] and not stored[1].incomplete
    assert store.warning == ""
    await session.aclose()


async def test_a_store_attached_mid_reply_gets_the_whole_chat_once(
    fake: FakeGemini, settings: Settings, store: ConversationStore
) -> None:
    """A front end whose store opened late: the prompt sent before it is written too, and nothing twice."""
    text = "word " * 100
    fake.enqueue(Reply.text(text, chunk_chars=10, delay_s=0.01))
    session = make_session(settings)
    deltas = 0
    async with contextlib.aclosing(session.send("hi")) as stream:
        async for event in stream:
            deltas += isinstance(event, TextDelta)
            if deltas == 3:
                await session.attach_store(store)
    stored = store.load(session.conversation.id).messages
    assert [(m.role, m.text) for m in stored] == [("user", "hi"), ("model", text)]
    assert not stored[1].incomplete
    assert [m.id for m in stored] == [m.id for m in session.conversation.messages]
    await session.aclose()
