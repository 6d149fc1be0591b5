"""Every recorded `alt=sse` stream of real Gemini traffic replays through the provider unchanged.

The expected values are read straight from the recording (split into SSE events, parsed as JSON), never
from flashchat's own parsing, and compared with what the engine kept.
"""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Usage
from flashchat.core.events import Failed, Finished, ToolFinished
from flashchat.core.session import ChatSession
from flashchat.providers.gemini_calls import calls_in as gemini_calls_in
from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import MAX_COPIED_BYTES, RECORDINGS, SHARED_WIRE, SSE_RECORDINGS, WIRE

# Keys that describe a text part; anything else makes a part "something else" that must survive verbatim.
TEXT_KEYS = {"text", "thought", "thoughtSignature"}


def recorded_events(recording: dict) -> list[dict]:
    body = recording["response"]["body_text"]
    assert body.endswith("\r\n\r\n")
    events = []
    for block in body.split("\r\n\r\n")[:-1]:
        assert block.startswith("data: ") and "\n" not in block
        events.append(json.loads(block[len("data: ") :]))
    return events


def expected_from(recording: dict) -> dict:
    text, thoughts, signatures, other_parts, usage, finish, code = [], [], [], [], None, None, []
    for event in recorded_events(recording):
        usage = event.get("usageMetadata", usage)
        for candidate in event.get("candidates", [])[:1]:
            finish = candidate.get("finishReason", finish)
            for part in candidate.get("content", {}).get("parts", []):
                if "thoughtSignature" in part:
                    signatures.append(base64.b64decode(part["thoughtSignature"]))
                if set(part) - TEXT_KEYS:
                    other_parts.append(sorted(set(part) - TEXT_KEYS))
                    if "executableCode" in part:
                        code.append(f"```python\n{part['executableCode']['code'].rstrip()}\n```")
                    if "codeExecutionResult" in part:
                        code.append(f"```text\n{part['codeExecutionResult'].get('output', '').rstrip()}\n```")
                elif part.get("thought"):
                    thoughts.append(part.get("text", ""))
                else:
                    text.append(part.get("text", ""))
    return {
        "text": "".join(text),
        "thoughts": "".join(thoughts),
        "signatures": signatures,
        "other_parts": other_parts,
        "usage": usage,
        "finish": finish,
        "code": code,
    }


def kept_signatures(native: dict) -> list[bytes]:
    return [base64.urlsafe_b64decode(p["thought_signature"]) for p in native["parts"] if "thought_signature" in p]


def kept_other_parts(native: dict) -> list[list[str]]:
    snake_text_keys = {"text", "thought", "thought_signature"}
    kinds = []
    for part in native["parts"]:
        extra = set(part) - snake_text_keys
        if extra:
            kinds.append(sorted("".join(w.capitalize() if i else w for i, w in enumerate(k.split("_"))) for k in extra))
    return kinds


def test_the_copied_recordings_match_the_shared_ones() -> None:
    """tests/wire copies ../shared/wire (all but the image/video uploads); it must not drift."""
    if not SHARED_WIRE.is_dir():
        pytest.skip("../shared/wire is not next to this checkout; the copy in tests/wire is used as is")
    shared = {
        path.relative_to(SHARED_WIRE): path.read_bytes()
        for path in SHARED_WIRE.glob("*/*.json")
        if path.stat().st_size <= MAX_COPIED_BYTES
    }
    copied = {path.relative_to(WIRE): path.read_bytes() for path in RECORDINGS}
    assert copied == shared
    assert len(SSE_RECORDINGS) == 17


@pytest.mark.parametrize("path", SSE_RECORDINGS, ids=[p.stem for p in SSE_RECORDINGS])
async def test_recording_replays_through_the_provider(path: Path, fake: FakeGemini, settings: Settings) -> None:
    recording = json.loads(path.read_text())
    expected = expected_from(recording)
    model = recording["request"]["path"].rsplit("/", 1)[-1].split(":")[0]
    fake.enqueue(Reply.replay(recording))
    session = ChatSession(Settings(**{**settings.__dict__, "model": model, "show_thoughts": True}))
    stream = session.send("replay")
    async with contextlib.aclosing(stream):
        events = [event async for event in stream]
    await session.aclose()

    last = next(event for event in reversed(events) if isinstance(event, (Finished, Failed)))
    message = session.conversation.last_reply()
    assert message is not None
    # Tools are off here: each recorded function call was shown and answered with an error, so the history
    # the next request sends is valid (as many function responses as calls).
    answered = [event.call.name for event in events if isinstance(event, ToolFinished) and not event.declared]
    assert answered == [call.name for call in gemini_calls_in(message.native)] if isinstance(last, Finished) else True
    if answered:
        assert session.conversation.messages[-1].answers_tool_calls
    # Code the model ran and its output are shown as fenced blocks between the text parts, in order.
    shown = message.text
    for block in expected["code"]:
        assert block in shown
        shown = shown.replace(block, "", 1)
    if expected["code"]:
        shown = shown.replace("Output:", "").strip()
    assert shown == expected["text"]
    assert message.thoughts == expected["thoughts"]
    assert message.finish_reason == expected["finish"]
    assert kept_signatures(message.native) == expected["signatures"]
    assert kept_other_parts(message.native) == expected["other_parts"]
    usage = expected["usage"]
    assert message.usage == Usage(
        prompt=usage.get("promptTokenCount", 0),
        output=usage.get("candidatesTokenCount", 0),
        thoughts=usage.get("thoughtsTokenCount", 0),
        cached=usage.get("cachedContentTokenCount", 0),
        tool_use=usage.get("toolUsePromptTokenCount", 0),
        total=usage.get("totalTokenCount", 0),
    )
    assert isinstance(last, Finished) if expected["finish"] else isinstance(last, Failed)
