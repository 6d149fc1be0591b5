"""The SQLite conversation store: nothing lost, signatures byte-exact, bad situations handled plainly."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, Usage
from flashchat.core.events import Failed
from flashchat.core.session import ChatSession
from flashchat.store.conversation_store import SCHEMA_VERSION, ConversationStore, StoreError, open_store
from flashchat.testing.fake_gemini import DEFAULT_SIGNATURE, FakeGemini, Reply
from support import FAST_RETRIES, run_cli


def db_path(home: Path) -> Path:
    return home / "data" / "flashchat" / "history.db"


def signatures_in(content: dict) -> list[bytes]:
    found = []
    for part in content["parts"]:
        value = part.get("thoughtSignature") or part.get("thought_signature")
        if value:
            found.append(base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4)))
    return found


async def chat(session: ChatSession, text: str) -> list:
    stream = session.send(text)
    async with contextlib.aclosing(stream):
        return [event async for event in stream]


async def test_round_trip_keeps_every_byte(fake: FakeGemini, settings: Settings, isolated_home: Path) -> None:
    """Thoughts, signatures on text / on an empty part / on function calls, usage and an incomplete turn."""
    fake.enqueue(
        Reply.text("Signed on the last text part.", thoughts="plan", signature=b"\x01text-sig\xff",
                   signature_on_empty_part=False, usage={"prompt": 10, "candidates": 7, "thoughts": 3, "cached": 2}),
        Reply.text("Signed on an empty part.", signature=b"\x02empty-sig\xfe"),
        Reply.function_calls([("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"})],
                             signature=b"\x03call-sig\xfd"),
        Reply.text("This one drops in the mid", chunk_chars=5, drop_after=3),
    )  # fmt: skip
    store = open_store()
    session = ChatSession(dataclasses.replace(settings, show_thoughts=True), store=store, retry_policy=FAST_RETRIES)
    for prompt in ("one", "two", "three", "four"):
        await chat(session, prompt)
    await session.aclose()
    original = session.conversation
    assert original.messages[-1].incomplete and original.messages[-1].text == "This one drops "

    reloaded = open_store().load(original.id)
    # Four prompts, four replies, and the error answer to the calls of tools that were not on.
    assert len(reloaded.messages) == 9 and reloaded.messages[6].answers_tool_calls
    for before, after in zip(original.messages, reloaded.messages, strict=True):
        assert dataclasses.asdict(after) == dataclasses.asdict(before)
    natives = [m.native for m in reloaded.messages if m.role == "model"]
    assert [signatures_in(n) for n in natives] == [
        [b"\x01text-sig\xff"],
        [b"\x02empty-sig\xfe"],
        [b"\x03call-sig\xfd"],
        [],
    ]
    assert reloaded.messages[1].usage == Usage(prompt=10, output=7, thoughts=3, cached=2, total=20)

    exported = store.export_json(original.id)
    store.delete(original.id)
    assert store.import_json(json.loads(json.dumps(exported))) == original.id
    imported = store.load(original.id)
    assert [m.native for m in imported.messages] == [m.native for m in original.messages]
    assert store.export_json(original.id) == exported

    # The next request built from the reloaded history carries every signature byte-exact.
    continued = ChatSession(settings, store=store, conversation=imported, retry_policy=FAST_RETRIES)
    await chat(continued, "five")
    await continued.aclose()
    sent = fake.generate_requests()[-1].contents
    assert [signatures_in(c) for c in sent if c["role"] == "model"] == [
        [b"\x01text-sig\xff"],
        [b"\x02empty-sig\xfe"],
        [b"\x03call-sig\xfd"],
        [],
    ]


def test_continue_from_the_cli_sends_history_byte_exact(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("The GIL is a lock.", thoughts="recall"), Reply.text("asyncio is single-threaded."))
    assert run_cli(["-p", "What is the GIL?", "--show-thoughts"], cli_env).returncode == 0
    result = run_cli(["-c", "-p", "And asyncio?"], cli_env)
    assert result.returncode == 0 and result.stdout == "asyncio is single-threaded.\n"
    first, second = fake.generate_requests()
    assert second.contents[0] == first.contents[0]
    model_turn = second.contents[1]
    assert [p.get("text") for p in model_turn["parts"]] == ["recall", "The GIL is a lock.", ""]
    assert signatures_in(model_turn) == [DEFAULT_SIGNATURE]
    assert second.contents[2] == {"role": "user", "parts": [{"text": "And asyncio?"}]}
    assert len(second.contents) == 3


def test_continue_by_id_prefix_and_the_history_commands(fake: FakeGemini, cli_env: dict) -> None:
    run_cli(["-p", "first chat about bananas"], cli_env)
    run_cli(["-p", "second chat about cherries", "--system", "Be brief."], cli_env)
    listing = run_cli(["history"], cli_env).stdout.splitlines()
    assert listing[0].split() == ["id", "updated", "msgs", "tokens", "title"]
    newest, oldest = listing[1].split()[0], listing[2].split()[0]
    assert listing[1].endswith("second chat about cherries") and listing[2].endswith("first chat about bananas")

    assert run_cli(["--cid", oldest[:5], "-p", "more bananas"], cli_env).returncode == 0
    third = fake.generate_requests()[-1]
    assert third.user_texts() == ["first chat about bananas", "more bananas"]
    assert run_cli(["--cid", newest, "-p", "more cherries"], cli_env).returncode == 0
    assert fake.generate_requests()[-1].body["systemInstruction"]["parts"] == [{"text": "Be brief."}]

    shown = run_cli(["history", "show", oldest], cli_env).stdout
    assert "## You\n\nfirst chat about bananas" in shown and "## Gemini (gemini-3.5-flash, thinking medium" in shown
    found = run_cli(["history", "search", "banan"], cli_env).stdout
    assert found.startswith(oldest) and "bananas" in found.splitlines()[1] and "[" not in found
    assert run_cli(["history", "search", 'unbalanced "quote AND ('], cli_env).returncode == 0
    assert run_cli(["history", "delete", oldest, "-y"], cli_env).stdout == f"deleted {oldest}\n"
    missing = run_cli(["history", "show", oldest], cli_env)
    assert missing.returncode == 2 and f"no conversation with id {oldest!r}" in missing.stderr
    assert run_cli(["-c", "-p", "x"], cli_env).returncode == 0  # continues the newest
    assert fake.generate_requests()[-1].user_texts()[0] == "second chat about cherries"


def test_export_md_and_json_import_via_cli(fake: FakeGemini, cli_env: dict, isolated_home: Path) -> None:
    fake.enqueue(Reply.text("# Answer\n\nWith `code`.", thoughts="hmm"))
    run_cli(["-p", "Question?", "--show-thoughts"], cli_env)
    conversation_id = run_cli(["history"], cli_env).stdout.splitlines()[1].split()[0]
    markdown = run_cli(["history", "export", conversation_id], cli_env).stdout
    assert "## You\n\nQuestion?" in markdown and "> hmm" in markdown and "# Answer\n\nWith `code`." in markdown
    target = isolated_home / "export.json"
    run_cli(["history", "export", conversation_id, "--format", "json", "-o", str(target)], cli_env)
    document = json.loads(target.read_text())
    assert document["format"] == "flashchat.conversation" and len(document["messages"]) == 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # a chat is private, like the database
    assert run_cli(["history", "delete", conversation_id, "-y"], cli_env).returncode == 0
    imported = run_cli(["history", "import", str(target)], cli_env)
    new_id = imported.stdout.split()[-1]
    assert imported.returncode == 0 and new_id == conversation_id
    again = run_cli(["history", "export", new_id, "--format", "json"], cli_env).stdout
    assert json.loads(again)["messages"] == document["messages"]
    bad = run_cli(["history", "import", "-"], cli_env, stdin=b'{"format": "something else"}')
    assert bad.returncode == 2 and "not a flashchat export" in bad.stderr


def test_api_key_never_reaches_the_database_or_exports(fake: FakeGemini, cli_env: dict, isolated_home: Path) -> None:
    key = "fake-key-ThatMustNeverBeStored0123456789"
    fake.api_keys.add(key)
    cli_env["GEMINI_API_KEY"] = key
    run_cli(["-p", "remember this"], cli_env)
    run_cli(["-c", "-p", "and this"], cli_env)
    conversation_id = run_cli(["history"], cli_env).stdout.splitlines()[1].split()[0]
    exports = [run_cli(["history", "export", conversation_id, "--format", f], cli_env).stdout for f in ("md", "json")]
    files = [p for p in (isolated_home / "data").rglob("*") if p.is_file()]
    assert any(p.name == "history.db" for p in files)
    for path in files:
        assert key.encode() not in path.read_bytes(), path
    assert all(key not in text for text in exports)
    assert oct(db_path(isolated_home).stat().st_mode & 0o777) == "0o600"
    assert oct(db_path(isolated_home).parent.stat().st_mode & 0o777) == "0o700"


def test_kill_9_mid_reply_keeps_the_partial_text(fake: FakeGemini, cli_env: dict, isolated_home: Path) -> None:
    fake.enqueue(Reply.text("word " * 200, chunk_chars=10, delay_s=0.05))
    process = subprocess.Popen(
        [sys.executable, "-m", "flashchat", "-p", "a long answer please"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env,
    )  # fmt: skip
    fake.wait_for_requests(1, timeout=20)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL

    store = open_store(db_path(isolated_home))
    conversation = store.load(store.latest_id())
    user, reply = conversation.messages
    assert user.text == "a long answer please"
    assert reply.role == "model" and reply.incomplete and not reply.stopped
    assert reply.text.startswith("word word ") and len(reply.text) >= 100
    shown = run_cli(["history", "show", conversation.id], cli_env).stdout
    assert "incomplete" in shown and "word word" in shown


def test_two_processes_writing_at_once_both_succeed(isolated_home: Path) -> None:
    """Both start on a missing database, so they also race to create the schema."""
    path = db_path(isolated_home)
    writer = (
        "import sys\nfrom flashchat.store.conversation_store import open_store\n"
        "from flashchat.core.conversation import Conversation, Message\n"
        "store = open_store()\nassert not store.warning, store.warning\n"
        "for n in range(40):\n"
        "    c = Conversation()\n"
        "    for i in range(5):\n"
        "        store.save_message(c, c.add(Message(role='user', text=f'{sys.argv[1]} {n} {i} ' + 'x' * 2000)))\n"
        "assert not store.warning, store.warning\nprint('ok')\n"
    )
    env = {**__import__("os").environ}
    processes = [
        subprocess.Popen([sys.executable, "-c", writer, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for name in ("alpha", "beta")
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0 and out == b"ok\n", err.decode()
    store = open_store(path)
    summaries = store.list_conversations(limit=1000)
    assert len(summaries) == 80 and all(s.message_count == 5 for s in summaries)


def test_two_cli_chats_at_once(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(*[Reply.text("slow " * 30, chunk_chars=5, delay_s=0.02) for _ in range(2)])
    processes = [
        subprocess.Popen([sys.executable, "-m", "flashchat", "-p", f"chat {n}"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env)
        for n in range(2)
    ]  # fmt: skip
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0 and err == b""
    assert len(run_cli(["history"], cli_env).stdout.splitlines()) == 3


def test_corrupt_database_is_kept_aside_and_a_fresh_one_started(cli_env: dict, isolated_home: Path) -> None:
    path = db_path(isolated_home)
    path.parent.mkdir(parents=True)
    garbage = b"this is not a database" * 200
    path.write_bytes(garbage)
    result = run_cli(["history"], cli_env)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "the history database was damaged" in result.stderr and "was kept as" in result.stderr
    backups = list(path.parent.glob("history.db.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == garbage
    assert str(backups[0]) in result.stderr
    assert run_cli(["-p", "after the repair"], cli_env).returncode == 0
    assert "after the repair" in run_cli(["history"], cli_env).stdout


def test_damaged_pages_inside_a_real_database_are_detected(isolated_home: Path) -> None:
    path = db_path(isolated_home)
    store = open_store(path)
    for n in range(50):
        conversation = Conversation()
        store.save_message(conversation, conversation.add(Message(role="user", text=f"message {n} " * 200)))
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 2 + 512] = b"\xff" * 512  # scribble over an interior page
    path.write_bytes(bytes(data))
    reopened = open_store(path)
    assert "damaged" in reopened.warning and reopened.path == path
    assert list(path.parent.glob("history.db.corrupt-*"))


def test_unwritable_data_dir_warns_and_chat_still_works(fake: FakeGemini, cli_env: dict, isolated_home: Path) -> None:
    """A data dir that cannot be created (here: a file stands where the directory should be)."""
    (isolated_home / "data").write_text("not a directory")
    result = run_cli(["-p", "hello"], cli_env)
    assert result.returncode == 0 and result.stdout == "Echo: hello\n"
    assert "cannot write history" in result.stderr and "not saved" in result.stderr
    assert result.stderr.count("\n") == 1


async def test_full_disk_mid_session_keeps_the_chat_going(
    fake: FakeGemini, settings: Settings, isolated_home: Path
) -> None:
    store = open_store()
    session = ChatSession(settings, store=store, retry_policy=FAST_RETRIES)
    await chat(session, "small")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # what SQLite sees when the disk is full
    fake.enqueue(Reply.text("a reply that no longer fits " * 400))
    events = await chat(session, "big " * 2000)
    await session.aclose()
    assert not isinstance(events[-1], Failed) and events[-1].message.text.startswith("a reply that no longer fits")
    assert "could not save history" in store.warning and "full" in store.warning


def test_newer_schema_is_refused_without_touching_it(isolated_home: Path) -> None:
    path = db_path(isolated_home)
    open_store(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = path.read_bytes()
    store = open_store(path)
    assert "newer than this flashchat knows" in store.warning and store.path is None
    assert path.read_bytes() == before


async def test_regenerate_replaces_the_stored_reply(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("first take"), Reply.text("second take"))
    store = open_store()
    session = ChatSession(settings, store=store, retry_policy=FAST_RETRIES)
    await chat(session, "hi")
    stream = session.regenerate()
    async with contextlib.aclosing(stream):
        [event async for event in stream]
    await session.aclose()
    assert [m.text for m in store.load(session.conversation.id).messages] == ["hi", "second take"]


def test_search_ranks_and_snippets(isolated_home: Path) -> None:
    store = open_store()
    texts = {
        "about asyncio": "asyncio runs coroutines on one thread; asyncio tasks interleave at await points",
        "about threads": "threads share memory; the GIL serialises bytecode; asyncio is an alternative",
        "about cooking": "boil the pasta for nine minutes",
    }
    for title, text in texts.items():
        conversation = Conversation(title=title)
        store.save_message(conversation, conversation.add(Message(role="user", text=text)))
    hits = store.search("asyncio")
    assert [hit.title for hit in hits] == ["about asyncio", "about threads"]
    assert ("asyncio", True) in hits[0].snippet_parts() and "[" not in hits[0].plain_snippet
    assert store.search("corout")[0].title == "about asyncio"  # the last word matches as a prefix
    assert store.search("   ") == [] and store.search('"') == []
    with pytest.raises(StoreError, match="no conversation"):
        store.resolve_id("zzzz")


def test_in_memory_store_is_a_working_store() -> None:
    store = ConversationStore.in_memory()
    conversation = Conversation()
    store.save_message(conversation, conversation.add(Message(role="user", text="kept for this session")))
    assert store.load(conversation.id).messages[0].text == "kept for this session"


def test_a_version_1_database_is_migrated_forward_keeping_its_data(isolated_home: Path) -> None:
    from flashchat.store.conversation_store import MIGRATIONS, _statements

    path = db_path(isolated_home)
    path.parent.mkdir(parents=True)
    connection = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        connection.execute(statement)
    connection.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('old1', 'kept', 1, 2)")
    connection.execute(
        "INSERT INTO messages (conversation_id, position, role, text, created_at) VALUES ('old1', 0, 'user', 'hi', 1)"
    )
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()

    store = open_store(path)
    assert store.warning == ""
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    conversation = store.load("old1")
    assert conversation.title == "kept" and conversation.messages[0].text == "hi"
    assert conversation.messages[0].extras is None and conversation.messages[0].media == []
    assert conversation.messages[0].interaction_id == conversation.messages[0].interaction_endpoint == ""
    assert store.search("hi")[0].conversation_id == "old1"


def test_snippets_mark_matches_apart_from_the_messages_own_brackets(isolated_home: Path) -> None:
    store = open_store()
    conversation = Conversation(title="typing")
    store.save_message(conversation, conversation.add(Message(role="user", text="is list[int] a moon type?")))
    (hit,) = store.search("moon")
    assert hit.snippet_parts() == [("is list[int] a ", False), ("moon", True), (" type?", False)]
    assert hit.plain_snippet == "is list[int] a moon type?"


def test_a_conversation_read_from_its_end_then_its_start_is_the_whole_of_it(isolated_home: Path) -> None:
    store = open_store(db_path(isolated_home))
    conversation = Conversation()
    for number in range(25):
        message = conversation.add(Message(role="user" if number % 2 == 0 else "model", text=f"message {number}"))
        store.save_message(conversation, message)
    whole = store.load(conversation.id)
    end, earlier_count = store.load_tail(conversation.id, 16)
    assert [m.text for m in end.messages] == [f"message {n}" for n in range(9, 25)]
    assert earlier_count == 9
    earlier = store.load_earlier(conversation.id, end.messages[0])
    assert [m.id for m in earlier + end.messages] == [m.id for m in whole.messages]
    assert store.load_tail(conversation.id, 40)[1] == 0  # all of it fits: nothing before
    store.close()


async def test_a_session_opened_on_a_conversation_end_waits_for_the_rest_before_sending(
    fake: FakeGemini, settings: Settings, isolated_home: Path
) -> None:
    """ChatSession.open(end, earlier=...): the next request carries every earlier message, signatures as stored."""
    import asyncio

    store = open_store(db_path(isolated_home))
    first = ChatSession(settings, store=store, retry_policy=FAST_RETRIES)
    for number in range(10):
        fake.enqueue(Reply.text(f"answer {number}", signature=b"sig-%d" % number))
        await chat(first, f"question {number}")
    await first.aclose()
    end, earlier_count = store.load_tail(first.conversation.id or "", 4)
    assert earlier_count == 16
    arrived = asyncio.Event()

    async def read_earlier() -> list[Message]:
        await arrived.wait()
        return await asyncio.to_thread(store.load_earlier, end.id or "", end.messages[0])

    told: list[int] = []
    reopened = ChatSession(settings, store=store, retry_policy=FAST_RETRIES)
    reopened.open(end, earlier=read_earlier(), when_whole=lambda conversation, count: told.append(count))
    sending = asyncio.ensure_future(chat(reopened, "question 10"))
    await asyncio.sleep(0.2)
    assert len(fake.generate_requests()) == 10  # the new prompt waits for the earlier messages
    arrived.set()
    await sending
    await reopened.aclose()
    assert told == [16]
    contents = fake.generate_requests()[-1].contents
    assert len(contents) == 21
    assert [signatures_in(c) for c in contents if c["role"] == "model"] == [[b"sig-%d" % n] for n in range(10)]
    assert [m.text for m in store.load(end.id or "").messages][-2:] == ["question 10", "Echo: question 10"]
    store.close()


async def test_a_session_whose_earlier_messages_could_not_be_read_sends_nothing(
    fake: FakeGemini, settings: Settings, isolated_home: Path
) -> None:
    store = open_store(db_path(isolated_home))
    first = ChatSession(settings, store=store, retry_policy=FAST_RETRIES)
    for number in range(3):
        await chat(first, f"question {number}")
    await first.aclose()
    end, _ = store.load_tail(first.conversation.id or "", 2)

    async def read_earlier() -> list[Message]:
        raise StoreError("database is locked")

    reopened = ChatSession(settings, store=store, retry_policy=FAST_RETRIES)
    reopened.open(end, earlier=read_earlier())
    events = await chat(reopened, "question 3")
    await reopened.aclose()
    assert [type(event) for event in events] == [Failed]
    assert "could not be read (database is locked)" in events[0].error.message
    assert len(fake.generate_requests()) == 3  # none with a part of the history
    assert len(store.load(end.id or "").messages) == 6
    store.close()
