"""OpenAI-compatible endpoints: images as `image_url` data URLs; other media refused with a clear line."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.attachments import AttachmentError
from flashchat.core.events import Failed, Finished
from flashchat.core.prompt import prepare_prompt
from flashchat.testing.fake_openai import FakeOpenAI
from media_samples import png, wav
from support import collect, make_session


async def test_an_image_is_sent_as_a_data_url(
    fake_openai: FakeOpenAI, openai_settings: Settings, workdir: Path
) -> None:
    (workdir / "shot.png").write_bytes(png())
    session = make_session(openai_settings)
    prepared = await prepare_prompt(session, "what is @shot.png?", root=workdir)
    assert prepared.token_label(0) == "~1,120 tokens"  # no countTokens here: the type's estimate
    events = await collect(session.send(prepared))
    assert isinstance(events[-1], Finished)
    [user] = [m for m in fake_openai.completion_requests()[-1].messages if m["role"] == "user"]
    assert user["content"] == [
        {"type": "text", "text": "what is @shot.png?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(png()).decode()}},
    ]
    await session.aclose()


async def test_audio_is_refused_before_anything_is_sent(
    fake_openai: FakeOpenAI, openai_settings: Settings, workdir: Path
) -> None:
    (workdir / "note.wav").write_bytes(wav())
    session = make_session(openai_settings)
    with pytest.raises(AttachmentError) as refused:
        await prepare_prompt(session, "transcribe @note.wav", root=workdir)
    assert str(refused.value) == "note.wav: the openai endpoint does not take WAV files (it takes GIF, JPEG, PNG, WebP)"
    assert fake_openai.completion_requests() == []
    await session.aclose()


async def test_a_gemini_conversation_with_audio_is_not_sent_to_an_openai_endpoint(
    fake_openai: FakeOpenAI, openai_settings: Settings, settings: Settings, workdir: Path
) -> None:
    (workdir / "note.wav").write_bytes(wav())
    gemini = make_session(settings)
    await collect(gemini.send(await prepare_prompt(gemini, "@note.wav", root=workdir)))
    session = make_session(openai_settings, conversation=gemini.conversation)
    events = await collect(session.send("and now?"))
    assert isinstance(events[-1], Failed)
    assert events[-1].error.message.startswith("This conversation holds note.wav (WAV); OpenAI-compatible endpoints")
    assert fake_openai.completion_requests() == []
    await gemini.aclose()
    await session.aclose()
