"""Images, PDFs, audio and video through the real SDK to the fake Gemini server: inline bytes, the Files API
(resumable upload, reuse of a valid URI, upload again once expired), media_resolution, countTokens."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.events import Finished, Uploading
from flashchat.core.media import INLINE_FILE_BYTES
from flashchat.core.prompt import prepare_prompt
from flashchat.testing.fake_gemini import FakeGemini, Reply
from media_samples import mp4, pdf, png
from support import collect, make_session


def _decoded(data: str) -> bytes:
    return base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_") + "=" * (-len(data) % 4))


def _media_parts(fake: FakeGemini, index: int = -1) -> list[dict]:
    request = fake.generate_requests()[index]
    return [part for content in request.contents for part in content["parts"] if "text" not in part]


async def test_a_small_image_goes_inline_before_the_text(fake: FakeGemini, settings: Settings, workdir: Path) -> None:
    (workdir / "shot.png").write_bytes(png())
    session = make_session(settings)
    prepared = await prepare_prompt(session, "what does @shot.png show?", root=workdir)
    events = await collect(session.send(prepared))
    assert isinstance(events[-1], Finished)
    parts = fake.generate_requests()[-1].contents[0]["parts"]
    inline = parts[0]["inlineData"]
    assert inline["mime_type"] == "image/png"
    assert _decoded(inline["data"]) == png()
    assert parts[1] == {"text": "what does @shot.png show?"}
    await session.aclose()


async def test_countTokens_counts_the_image_at_its_resolution(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    (workdir / "shot.png").write_bytes(png())
    session = make_session(settings)
    default = await prepare_prompt(session, "@shot.png", root=workdir)
    low = await prepare_prompt(session, "@shot.png", root=workdir, resolutions={"shot.png": "low"})
    assert (default.token_label(0), low.token_label(0)) == ("1,120 tokens", "280 tokens")
    counted = [request for request in fake.requests if request.path.endswith(":countTokens")]
    assert counted[-1].contents[0]["parts"][0]["mediaResolution"] == {"level": "MEDIA_RESOLUTION_LOW"}
    await session.aclose()


async def test_media_resolution_is_sent_per_item(fake: FakeGemini, settings: Settings, workdir: Path) -> None:
    (workdir / "a.png").write_bytes(png(color=(1, 2, 3)))
    (workdir / "spec.pdf").write_bytes(pdf())
    session = make_session(settings)
    prepared = await prepare_prompt(session, "@a.png and @spec.pdf", root=workdir, resolutions={"a.png": "ultra_high"})
    await collect(session.send(prepared))
    image, document = _media_parts(fake)
    assert image["mediaResolution"] == {"level": "MEDIA_RESOLUTION_ULTRA_HIGH"}
    assert "mediaResolution" not in document and document["inlineData"]["mime_type"] == "application/pdf"
    await session.aclose()


def _big_video(workdir: Path) -> bytes:
    data = mp4(seconds=30, padding=INLINE_FILE_BYTES + 1000)
    (workdir / "demo.mp4").write_bytes(data)
    return data


async def test_a_large_video_goes_through_the_files_api_with_progress(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    data = _big_video(workdir)
    session = make_session(settings)
    prepared = await prepare_prompt(session, "summarise @demo.mp4", root=workdir)
    assert prepared.token_label(0) == "~3,060 tokens"  # too big to count inline: 30 s of video, estimated
    events = await collect(session.send(prepared))
    progress = [event for event in events if isinstance(event, Uploading)]
    assert progress[0] == Uploading("demo.mp4", 0, len(data)) and progress[-1] == Uploading(
        "demo.mp4", len(data), len(data)
    )
    assert isinstance(events[-1], Finished)
    [stored] = fake.files.by_sha256(hashlib.sha256(data).hexdigest())
    assert (stored.mime_type, stored.size, stored.display_name) == ("video/mp4", len(data), "demo.mp4")
    [part] = _media_parts(fake)
    assert part["fileData"] == {"mime_type": "video/mp4", "file_uri": f"{fake.url}/v1beta/{stored.name}"}
    await session.aclose()


async def test_an_uploaded_file_is_reused_then_uploaded_again_once_expired(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    _big_video(workdir)
    session = make_session(settings)
    await collect(session.send(await prepare_prompt(session, "@demo.mp4 what happens?", root=workdir)))
    await collect(session.send(await prepare_prompt(session, "and then?", root=workdir)))
    assert fake.files.uploads_started == 1
    first_uri = _media_parts(fake, 0)[0]["fileData"]["file_uri"]
    assert _media_parts(fake, 1)[0]["fileData"]["file_uri"] == first_uri

    fake.files.expire()  # the server forgot it before flashchat's clock says so: a 403, then an upload again
    events = await collect(session.send(await prepare_prompt(session, "and at the end?", root=workdir)))
    assert isinstance(events[-1], Finished)
    assert fake.files.uploads_started == 2
    assert fake.requests[-1].path.endswith(":streamGenerateContent")
    new_uri = _media_parts(fake)[0]["fileData"]["file_uri"]
    assert new_uri != first_uri
    rejected = [
        r for r in fake.generate_requests() if r.contents and _media_parts_of(r)[0]["fileData"]["file_uri"] == first_uri
    ]
    assert len(rejected) == 3  # two answered, one refused with 403 before the upload again
    await session.aclose()


def _media_parts_of(request) -> list[dict]:
    return [part for content in request.contents for part in content["parts"] if "text" not in part]


async def test_an_upload_past_its_expiry_by_the_clock_is_not_sent(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    _big_video(workdir)
    session = make_session(settings)
    await collect(session.send(await prepare_prompt(session, "@demo.mp4", root=workdir)))
    library = session.conversation.media
    [(sha, uploaded)] = list(library._uploads.items())
    library._uploads[sha] = type(uploaded)(uploaded.uri, uploaded.name, uploaded.mime_type, expires_at=1.0)
    await collect(session.send(await prepare_prompt(session, "again", root=workdir)))
    assert fake.files.uploads_started == 2
    assert all(request.path.endswith(":streamGenerateContent") for request in fake.generate_requests())
    assert len(fake.generate_requests()) == 2  # no request named the stale URI
    await session.aclose()


@pytest.mark.parametrize("recording", [
    "test_google_model_image_as_binary_content_input__00",
    "test_google_model_video_as_binary_content_input__00",
    "test_google_model_document_url_input__01",
    "test_google_model_youtube_video_url_input__00",
    "test_google_model_image_url_input__01",
    "test_model_sees_multiple_images_google_gemini3___02",
    "test_multimodal_tool_return_matrix_direct-binary-image-google_gemini3___03",
    "test_multimodal_tool_return_matrix_tool_return_content-binary-document-google_gemini3___02",
])  # fmt: skip
async def test_multimodal_recordings_are_accepted_and_replay(
    fake: FakeGemini, settings: Settings, workdir: Path, recording: str
) -> None:
    """The recorded request body is one the fake accepts (and counts); its recorded answer reaches the user."""
    import json

    import httpx2

    path = Path(__file__).parents[2] / ".." / "shared" / "wire" / "pydantic-ai" / f"{recording}.json"
    document = json.loads(path.read_text())
    body = (
        json.loads(document["request"]["body"])
        if isinstance(document["request"]["body"], str)
        else document["request"]["body"]
    )
    counted = httpx2.post(
        f"{fake.url}/v1beta/models/gemini-3.5-flash:countTokens",
        json={"contents": body["contents"]},
        headers={"x-goog-api-key": fake.api_key},
    )
    assert counted.status_code == 200 and counted.json()["totalTokens"] > 0
    (workdir / "shot.png").write_bytes(png())
    fake.enqueue(Reply.replay(path))
    session = make_session(settings)
    events = await collect(session.send(await prepare_prompt(session, "@shot.png what is it?", root=workdir)))
    recorded = json.loads(document["response"]["body_text"])
    expected = "".join(p.get("text", "") for p in recorded["candidates"][0]["content"]["parts"] if not p.get("thought"))
    assert isinstance(events[-1], Finished) and events[-1].message.text == expected
    await session.aclose()


async def test_a_video_still_processing_is_waited_for_before_it_is_named(
    fake: FakeGemini, settings: Settings, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flashchat.providers.gemini_files as gemini_files

    monkeypatch.setattr(gemini_files, "_PROCESSING_POLL_SECONDS", 0.0)
    fake.files.processing_polls = 2
    _big_video(workdir)
    session = make_session(settings)
    events = await collect(session.send(await prepare_prompt(session, "@demo.mp4", root=workdir)))
    assert isinstance(events[-1], Finished)
    polls = [r for r in fake.requests if r.method == "GET" and "/files/" in r.path]
    assert len(polls) == 2  # PROCESSING, then ACTIVE: only then the generate request
    assert fake.requests.index(polls[-1]) < fake.requests.index(fake.generate_requests()[0])
    await session.aclose()
