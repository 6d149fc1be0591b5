"""Durable before display: every piece of a reply is in its journal before a front end gets it, so a kill -9
mid-reply never loses text that was shown; the next start folds the journal into the history database."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, ReplyDraft
from flashchat.core.events import TextDelta, ThoughtDelta
from flashchat.core.reply_journal import RECOVERED_ERROR, ReplyJournal, journal_dir
from flashchat.store.conversation_store import default_path, open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import make_session, run_cli

PIECES = [f"piece {number:02} " for number in range(60)]


def journal_files(store) -> list[Path]:
    directory = journal_dir(store)
    return sorted(directory.glob("*.jsonl")) if directory.exists() else []


async def test_each_piece_is_in_the_journal_before_it_is_shown(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("".join(PIECES), thoughts=["thinking it over"], chunks=PIECES))
    store = open_store()
    session = make_session(settings.with_overrides("test", show_thoughts=True), store=store)
    shown = ""
    thought = ""
    async for event in session.send("count"):
        if isinstance(event, TextDelta | ThoughtDelta):
            if isinstance(event, TextDelta):
                shown += event.text
            else:
                thought += event.text
            (journal,) = journal_files(store)
            lines = [json.loads(line) for line in journal.read_text().splitlines()]
            assert lines[0]["conversation"] == session.conversation.id and lines[0]["position"] == 1
            assert "".join(text for kind, text in lines[1:] if kind == "t") == shown
            assert "".join(text for kind, text in lines[1:] if kind == "h") == thought
            assert journal.stat().st_mode & 0o777 == 0o600
    assert shown == "".join(PIECES)
    assert journal_files(store) == []  # folded into the database at the end: nothing left to recover
    await session.aclose()


def test_kill_9_mid_reply_loses_nothing_that_was_shown(fake: FakeGemini, cli_env: dict) -> None:
    """A real one-shot process, killed with SIGKILL once text is on its stdout; the next start keeps it all."""
    for attempt in range(2):
        fake.enqueue(Reply.text("".join(PIECES), chunks=PIECES, delay_s=0.05))
        process = subprocess.Popen(
            [sys.executable, "-m", "flashchat", "-p", f"count {attempt}"],
            env=cli_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        shown = b""
        wanted = 12 + 9 * attempt
        while shown.count(b"piece") < wanted:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, process.stderr.read()
            shown += chunk
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        process.stderr.close()
        assert process.returncode == -signal.SIGKILL
        assert run_cli(["history"], cli_env).returncode == 0  # the next start
        store = open_store(default_path())
        conversation = store.load(store.latest_id())
        store.close()
        user, reply = conversation.messages
        assert user.text == f"count {attempt}"
        assert reply.text.startswith(shown.decode()), (reply.text, shown)
        assert reply.incomplete and reply.error == RECOVERED_ERROR
    assert list(journal_dir(store).glob("*.jsonl")) == []


def _conversation_with_partial_reply(store, text: str) -> Conversation:
    conversation = Conversation()
    store.save_message(conversation, conversation.add(Message(role="user", text="hi")))
    store.save_message(conversation, conversation.add(Message(role="model", text=text, incomplete=True)))
    return conversation


def _write_journal(store, conversation: Conversation, pieces: list[str], tail: bytes = b"") -> Path:
    directory = journal_dir(store)
    directory.mkdir(exist_ok=True)
    path = directory / "12345-abc.jsonl"
    header = {"conversation": conversation.id, "position": 1, "model": "gemini-3.5-flash", "created_at": 1.0}
    lines = [json.dumps(header)] + [json.dumps(["t", piece]) for piece in pieces]
    path.write_bytes(("\n".join(lines) + "\n").encode() + tail)
    return path


def test_a_journal_extends_the_partial_row_and_a_torn_line_is_ignored() -> None:
    store = open_store()
    conversation = _conversation_with_partial_reply(store, "piece 00 ")
    _write_journal(store, conversation, PIECES[:5], tail=b'["t", "piece 0')
    store.close()
    store = open_store()
    (_user, reply) = store.load(conversation.id).messages
    assert (reply.text, reply.incomplete, reply.error) == ("".join(PIECES[:5]), True, RECOVERED_ERROR)
    assert journal_files(store) == []
    store.close()


def test_a_journal_still_being_written_is_left_alone() -> None:
    store = open_store()
    conversation = _conversation_with_partial_reply(store, "piece 00 ")
    path = _write_journal(store, conversation, PIECES[:5])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import fcntl,sys,time; f=open({str(path)!r}); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('locked', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline() == b"locked\n"
        second = open_store()
        assert second.load(conversation.id).messages[1].text == "piece 00 "
        assert path.exists()
        second.close()
    finally:
        holder.communicate(b"")
    with path.open() as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released with its process
    store.close()


def test_a_lone_surrogate_from_the_server_is_journaled() -> None:
    """JSON may spell a lone surrogate ("\\ud800"), which has no UTF-8 form: the journal must take it anyway."""
    store = open_store()
    conversation = Conversation()
    store.save_message(conversation, conversation.add(Message(role="user", text="hi")))
    journal = ReplyJournal(store, conversation)
    journal.record(TextDelta("odd \ud800 text"), ReplyDraft(model="gemini-3.5-flash", thinking_level="low"))
    (path,) = journal_files(store)
    assert json.loads(path.read_text().splitlines()[1]) == ["t", "odd \ud800 text"]
    journal.discard()
    store.close()
