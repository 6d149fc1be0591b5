"""Attachments in the store: one copy per file, a reopened conversation sends the same bytes or file URI (and
uploads again from the store's copy once expired), and the JSON export carries them."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import time
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core import session as session_module
from flashchat.core.events import Finished
from flashchat.core.exports import export_text
from flashchat.core.media import INLINE_FILE_BYTES
from flashchat.core.prompt import prepare_prompt
from flashchat.core.session import ChatSession
from flashchat.store.conversation_store import ConversationStore, StoreError
from flashchat.testing.fake_gemini import FakeGemini
from media_samples import mp4, png
from support import collect, make_session


def _media_parts(request) -> list[dict]:
    return [part for content in request.contents for part in content["parts"] if "text" not in part]


async def _send(session: ChatSession, text: str, root: Path) -> None:
    events = await collect(session.send(await prepare_prompt(session, text, root=root)))
    assert isinstance(events[-1], Finished), events[-1]


async def _reopened(settings: Settings, db: Path, conversation_id: str) -> tuple[ConversationStore, ChatSession]:
    store = ConversationStore.open_file(db)
    return store, make_session(settings, store=store, conversation=store.load(conversation_id))


async def test_a_reopened_conversation_sends_the_same_inline_bytes(
    fake: FakeGemini, settings: Settings, workdir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "history.db"
    (workdir / "shot.png").write_bytes(png())
    store = ConversationStore.open_file(db)
    session = make_session(settings, store=store)
    await _send(session, "@shot.png what is it?", workdir)
    conversation_id = session.conversation.id
    await session.aclose()
    store.close()
    (workdir / "shot.png").unlink()  # gone from disk: the store's copy is what is sent

    store, session = await _reopened(settings, db, conversation_id)
    await _send(session, "and its colour?", workdir)
    first, again = fake.generate_requests()
    assert _media_parts(again)[0] == _media_parts(first)[0]
    assert again.contents[0] == first.contents[0]
    await session.aclose()
    store.close()


async def test_the_upload_is_remembered_when_the_store_writer_lags(
    fake: FakeGemini, settings: Settings, workdir: Path, tmp_path: Path
) -> None:
    """The upload's URI is kept on the file's row, so that row must be written before the upload ends, even when
    the store's writer thread is behind (a busy machine): a reopened conversation then uploads nothing."""
    db = tmp_path / "history.db"
    (workdir / "demo.mp4").write_bytes(mp4(seconds=20, padding=INLINE_FILE_BYTES + 10))
    store = ConversationStore.open_file(db)
    session = make_session(settings, store=store)

    def busy_writer() -> None:
        # The writer busy with something else until the request went out after the upload (or 2 s, which is
        # how long a correct send waits here: it lets the file's row land before uploading).
        deadline = time.monotonic() + 2
        while not fake.generate_requests() and time.monotonic() < deadline:
            time.sleep(0.01)

    session_module._STORE_WRITER.submit(busy_writer)
    await _send(session, "@demo.mp4 summarise", workdir)
    conversation_id = session.conversation.id
    await session.aclose()
    store.close()

    store, session = await _reopened(settings, db, conversation_id)
    await _send(session, "what happens at the end?", workdir)
    assert fake.files.uploads_started == 1
    await session.aclose()
    store.close()


async def test_a_reopened_conversation_reuses_the_file_uri_then_uploads_again_from_the_store(
    fake: FakeGemini, settings: Settings, workdir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "history.db"
    video = mp4(seconds=20, padding=INLINE_FILE_BYTES + 10)
    (workdir / "demo.mp4").write_bytes(video)
    store = ConversationStore.open_file(db)
    session = make_session(settings, store=store)
    await _send(session, "@demo.mp4 summarise", workdir)
    conversation_id = session.conversation.id
    await session.aclose()
    store.close()
    (workdir / "demo.mp4").unlink()

    store, session = await _reopened(settings, db, conversation_id)
    await _send(session, "what happens at the end?", workdir)
    uris = [_media_parts(request)[0]["fileData"]["file_uri"] for request in fake.generate_requests()]
    assert uris[0] == uris[1] and fake.files.uploads_started == 1

    fake.files.expire()
    await _send(session, "and the middle?", workdir)
    assert fake.files.uploads_started == 2
    assert len(fake.files.by_sha256(hashlib.sha256(video).hexdigest())) == 2  # the same bytes, uploaded again
    final_uri = _media_parts(fake.generate_requests()[-1])[0]["fileData"]["file_uri"]
    assert final_uri != uris[0]
    await session.aclose()
    store.close()
    reread = ConversationStore.open_file(db)
    assert reread.upload_of(hashlib.sha256(video).hexdigest()).uri == final_uri  # remembered for the next run
    reread.close()


async def test_one_copy_per_unique_file(fake: FakeGemini, settings: Settings, workdir: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    (workdir / "shot.png").write_bytes(png())
    (workdir / "same.png").write_bytes(png())
    store = ConversationStore.open_file(db)
    for text in ("@shot.png", "@same.png again"):
        session = make_session(settings, store=store)
        await _send(session, text, workdir)
        await session.aclose()
    store.close()
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*), sum(size) FROM media").fetchone() == (1, len(png()))
    assert (db.stat().st_mode & 0o777) == 0o600


async def test_export_carries_the_files_and_import_restores_them(
    fake: FakeGemini, settings: Settings, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "shot.png").write_bytes(png())
    store = ConversationStore.in_memory()
    session = make_session(settings, store=store)
    await _send(session, "@shot.png describe", workdir)
    document = json.loads(export_text(session.conversation, store, "json"))
    sha = hashlib.sha256(png()).hexdigest()
    assert document["messages"][0]["media"][0] == {
        "sha256": sha,
        "mime_type": "image/png",
        "name": "shot.png",
        "size": len(png()),
    }
    assert base64.b64decode(document["attachments"][sha]["data"]) == png()
    markdown = export_text(session.conversation, store, "md")
    assert "Attached:\n- 📎 `shot.png` (PNG · 80 B)" in markdown
    await session.aclose()

    other = ConversationStore.in_memory()
    imported = other.import_json(document)
    (workdir / "shot.png").unlink()
    session = make_session(settings, store=other, conversation=other.load(imported))
    await _send(session, "again", workdir)
    first, again = fake.generate_requests()
    assert _media_parts(again) == _media_parts(first)
    await session.aclose()


def test_an_export_whose_file_does_not_match_its_hash_is_refused() -> None:
    sha = hashlib.sha256(b"real").hexdigest()
    ref = {"sha256": sha, "mime_type": "image/png", "name": "x.png", "size": 4}
    document = {
        "format": "flashchat.conversation",
        "version": 1,
        "conversation": {"id": "abc", "title": "t"},
        "messages": [{"role": "user", "text": "hi", "media": [ref]}],
        "attachments": {sha: {"mime_type": "image/png", "size": 4, "data": base64.b64encode(b"fake").decode()}},
    }
    store = ConversationStore.in_memory()
    with pytest.raises(StoreError, match="does not match its sha256"):
        store.import_json(document)
    assert store.list_conversations() == []
