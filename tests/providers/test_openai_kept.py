"""The OpenAI-compatible provider keeps each message's request form between turns, and the body is byte for byte
what a fresh build of the same history encodes as httpx2's `json=` did (compact, not ASCII-escaped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flashchat.config.settings import Settings
from flashchat.core.conversation import Message
from flashchat.core.session import ChatSession, ToolApproval
from flashchat.providers.identity_memo import IdentityMemo
from flashchat.providers.openai_compat import request_body, request_bytes
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_openai import FakeOpenAI, Reply
from support import FAST_RETRIES


def _fresh_body(history: list[Message], settings: Settings) -> bytes:
    """The request a fresh provider builds for `history`, encoded exactly as httpx2 encodes `json=`."""
    from flashchat.core.conversation import Conversation

    body = request_body(Conversation(messages=history), settings)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


async def test_bodies_match_a_fresh_build_turn_after_turn_and_after_a_restart(
    fake_openai: FakeOpenAI, openai_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("les notes ✓\n")
    settings = openai_settings.with_overrides("test", local_tools=True, system_prompt="Be brief.")
    store = open_store(tmp_path / "history.db")
    sent: list[tuple[bytes, list[Message], Settings]] = []
    holder: list[ChatSession] = []
    replies = [
        Reply.text("Bonjour ✓", reasoning="**Thinking** first"),
        Reply.tool_calls([("read_file", {"path": "notes.txt"})]),
        Reply.text("The notes say: les notes."),
        Reply.text("Third."),
        Reply.text("Retried."),
    ]

    def respond(request: Any) -> Reply:
        session = holder[0]
        sent.append((request.raw, list(session.conversation.messages), session.settings))
        return replies.pop(0) if replies else Reply.text(f"Answer {len(sent)}.")

    fake_openai.responder = respond

    async def approve(call: Any) -> ToolApproval:
        return ToolApproval.ALWAYS

    session = ChatSession(settings, store=store, retry_policy=FAST_RETRIES, approve_tool=approve, working_dir=tmp_path)
    holder.append(session)
    for prompt in ("salut", "read my notes", "and again"):
        async for _event in session.send(prompt):
            pass
    async for _event in session.regenerate():
        pass
    await session.forget_last_prompt()
    async for _event in session.send("and again, edited"):
        pass
    await session.aclose()
    reopened = ChatSession(settings, store=store, retry_policy=FAST_RETRIES, approve_tool=approve, working_dir=tmp_path)
    assert session.conversation.id is not None
    reopened.open(store.load(session.conversation.id))
    holder[0] = reopened
    async for _event in reopened.send("after the restart"):
        pass
    await reopened.aclose()
    store.close()
    assert len(sent) == 7
    for raw, history, used in sent:
        assert raw == _fresh_body(history, used)
    assert "✓".encode() in sent[-1][0]  # not ASCII-escaped, as httpx2 sends json=


def test_request_bytes_is_the_json_encoding_of_the_body() -> None:
    from flashchat.core.conversation import Conversation

    conversation = Conversation(messages=[Message(role="user", text='quote " and ✓'), Message(role="model", text="x")])
    settings = Settings(provider="openai", model="m", local_tools=True, max_output_tokens=10)
    memo = IdentityMemo()
    for _ in range(2):
        body = request_body(conversation, settings, memo=memo)
        expected = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        assert request_bytes(body, memo) == expected
        memo.next_request()
    assert request_bytes({"messages": [], "model": "m"}) == b'{"messages":[],"model":"m"}'
