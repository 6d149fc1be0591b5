"""Conversation store speed. Prints numbers; asserts nothing.

    python bench/store.py [--conversations 10000]

Measures, on a fresh database in a temporary directory:
  1. opening a 2,000-message conversation holding 5 MB of text (with native content and signatures);
  2. listing 10,000 conversations (the first page of 50, and all of them);
  3. full-text search over 10,000 conversations;
  4. the CPU that writing a streaming reply to the store adds (a 20,000-token reply in 1,000 chunks from the
     fake server at 5 ms a chunk, with and without a store, in the same process), and how much of the store's
     work ran on the event loop's thread (what a UI on that loop would wait for);
  5. the cost of durable-before-display: the reply journal's write before each chunk is shown (latency per
     chunk, and its share of the stream's CPU), in the same stream, plus 10,000 appends on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, ReplyDraft, Usage
from flashchat.core.events import TextDelta
from flashchat.core.reply_journal import ReplyJournal
from flashchat.core.session import ChatSession
from flashchat.store.conversation_store import ConversationStore, open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply

WORDS = ("asyncio thread lock python review patch signature stream token cache model answer question").split()
SIGNATURE = base64.b64encode(os.urandom(300)).decode()


def timed(function, runs: int = 15) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def show(label: str, times: list[float]) -> None:
    print(
        f"{label}: median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms ({len(times)} runs)"
    )


def model_message(text: str) -> Message:
    native = {"role": "model", "parts": [{"text": text}, {"text": "", "thought_signature": SIGNATURE}]}
    usage = Usage(prompt=1000, output=600, thoughts=200, total=1800)
    return Message(role="model", text=text, native=native, provider="gemini", thinking_level="medium", usage=usage)


def build_long_conversation(store, messages: int = 2000, total_chars: int = 5_000_000) -> str:
    chunk = " ".join(WORDS) + " "
    per_message = total_chars // messages
    body = (chunk * (per_message // len(chunk) + 1))[:per_message]
    conversation = Conversation(title="a very long conversation")
    document = {
        "format": "flashchat.conversation",
        "version": 1,
        "conversation": {"title": conversation.title, "model": "gemini-3.5-flash"},
        "messages": [],
    }
    for n in range(messages):
        message = Message(role="user", text=body) if n % 2 == 0 else model_message(body)
        entry = {k: v for k, v in message.__dict__.items() if k not in ("usage", "id")}
        entry["usage"] = message.usage.to_dict() if message.usage else None
        document["messages"].append(entry)
    return store.import_json(document)


def build_many_conversations(store, count: int) -> None:
    for n in range(count):
        words = [WORDS[(n * 7 + i) % len(WORDS)] for i in range(30)]
        store.import_json(
            {
                "format": "flashchat.conversation",
                "version": 1,
                "conversation": {"title": f"conversation {n} about {words[0]}", "model": "gemini-3.5-flash"},
                "messages": [
                    {"role": "user", "text": f"question {n}: " + " ".join(words)},
                    {**{k: v for k, v in model_message(" ".join(reversed(words)) * 3).__dict__.items()
                        if k not in ("usage", "id")}, "usage": None},
                ],
            }
        )  # fmt: skip


class SaveTimer:
    """Times ConversationStore.save_message (every write the session makes) in CPU of the thread that runs it, and
    keeps apart what ran on the event loop's thread."""

    def __init__(self) -> None:
        self.saves, self.seconds, self.on_loop_seconds = 0, 0.0, 0.0
        self.loop_thread = threading.get_ident()

    def wrap(self, method):
        def timed_method(store, *args):
            started = time.thread_time()
            try:
                return method(store, *args)
            finally:
                spent = time.thread_time() - started
                self.seconds += spent
                if threading.get_ident() == self.loop_thread:
                    self.on_loop_seconds += spent
                self.saves += 1

        return timed_method


class JournalTimer:
    """Wall and CPU time inside ReplyJournal.record, per text chunk (the write a chunk waits for before it
    is shown)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.cpu_seconds = 0.0

    def wrap(self, method):
        def timed_method(journal, event, draft):
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return method(journal, event, draft)
            finally:
                if isinstance(event, TextDelta):
                    self.latencies.append(time.perf_counter() - wall)
                    self.cpu_seconds += time.thread_time() - cpu

        return timed_method


def journal_appends(home: str, count: int = 10_000) -> list[float]:
    """Appends to one real journal, each timed: the cost without a stream around it."""
    store = open_store(Path(home) / "appends.db")
    conversation = Conversation()
    store.save_message(conversation, conversation.add(Message(role="user", text="hi")))
    journal = ReplyJournal(store, conversation)
    draft = ReplyDraft(model="gemini-3.5-flash", thinking_level="medium")
    event = TextDelta("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor inci")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        journal.record(event, draft)
        times.append(time.perf_counter() - started)
    journal.discard()
    store.close()
    return times


def microseconds(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1e6


async def stream_once(fake: FakeGemini, store) -> float:
    pieces = [f"{i:05d} " + "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor inci"[:74]
              for i in range(1000)]  # fmt: skip
    fake.enqueue(Reply.text("".join(pieces), chunks=pieces, delay_s=0.005))
    session = ChatSession(Settings(api_key=fake.api_key, base_url=fake.url), store=store)
    started = time.process_time()
    stream = session.send("write 20,000 tokens")
    async with contextlib.aclosing(stream):
        async for _ in stream:
            pass
    cpu = time.process_time() - started
    await session.aclose()
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        path = Path(home) / "history.db"
        store = open_store(path)
        started = time.perf_counter()
        long_id = build_long_conversation(store)
        print(f"built a 2,000-message, 5 MB conversation in {time.perf_counter() - started:.1f} s")
        show("open the 2,000-message conversation", timed(lambda: store.load(long_id)))
        started = time.perf_counter()
        build_many_conversations(store, args.conversations)
        print(f"built {args.conversations:,} more conversations in {time.perf_counter() - started:.1f} s; "
              f"database {path.stat().st_size / 1e6:.1f} MB")  # fmt: skip
        show("list the newest 50 conversations", timed(lambda: store.list_conversations(limit=50)))
        show(f"list all {args.conversations:,} conversations",
             timed(lambda: store.list_conversations(limit=args.conversations + 1)))  # fmt: skip
        show("search 'signature' (20 best)", timed(lambda: store.search("signature")))
        show("search 'review patch' (20 best)", timed(lambda: store.search("review patch")))
        store.close()

        with FakeGemini() as fake:
            without, with_store, shares, journal_shares = [], [], [], []
            journal_timer = JournalTimer()
            for _ in range(3):
                without.append(asyncio.run(stream_once(fake, None)))
                timer = SaveTimer()
                original = ConversationStore.save_message
                original_record = ReplyJournal.record
                ConversationStore.save_message = timer.wrap(original)
                cpu_before = journal_timer.cpu_seconds
                ReplyJournal.record = journal_timer.wrap(original_record)
                try:
                    cpu = asyncio.run(stream_once(fake, open_store(Path(home) / "stream.db")))
                finally:
                    ConversationStore.save_message = original
                    ReplyJournal.record = original_record
                with_store.append(cpu)
                shares.append(timer.seconds / cpu)
                journal_shares.append((journal_timer.cpu_seconds - cpu_before) / cpu)
        base, stored = statistics.median(without), statistics.median(with_store)
        print(f"CPU for a 20,000-token streamed reply (1,000 chunks, 5 ms apart): without store {base * 1000:.0f} ms, "
              f"with store {stored * 1000:.0f} ms ({(stored - base) / base * 100:+.1f}%, noisy)")  # fmt: skip
        print(
            f"CPU inside the session's store writes during that stream: {timer.saves} writes, "
            f"{timer.seconds * 1000:.0f} ms = {statistics.median(shares) * 100:.1f}% of the stream's CPU; "
            f"on the event loop's thread: {timer.on_loop_seconds * 1000:.0f} ms"
        )
        latencies = journal_timer.latencies
        print(
            f"reply journal write before each chunk is shown, in those 3 streams ({len(latencies):,} chunks): median "
            f"{microseconds(latencies, 0.5):.1f} µs, p99 {microseconds(latencies, 0.99):.1f} µs, "
            f"max {max(latencies) * 1e6:.0f} µs; {statistics.median(journal_shares) * 100:.2f}% of the stream's CPU"
        )
        appends = journal_appends(home)
        print(
            f"reply journal on its own ({len(appends):,} appends of an 80-character chunk): median "
            f"{microseconds(appends, 0.5):.1f} µs, p99 {microseconds(appends, 0.99):.1f} µs"
        )


if __name__ == "__main__":
    main()
