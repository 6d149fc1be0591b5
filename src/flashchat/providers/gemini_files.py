"""Attachments on their way to Gemini: inline bytes for small files, the Files API for the rest.

Which way a file goes depends only on the history (its size and the inline bytes before it), so a reopened
conversation sends exactly what it sent before: the same inline bytes, or the same file URI while the upload
is valid (48 hours), and an upload again once it has expired or the server says it is gone.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.genai import errors as genai_errors
from google.genai import types

from flashchat.core.errors import ChatError, ErrorKind
from flashchat.core.events import Uploading
from flashchat.core.media import (
    INLINE_FILE_BYTES,
    INLINE_REQUEST_BYTES,
    MediaAttachment,
    MediaError,
    MediaLibrary,
    MediaRef,
    UploadedFile,
)

if TYPE_CHECKING:
    from google import genai

    from flashchat.core.conversation import Conversation

# A file in PROCESSING (video is transcoded first) is asked about this often, up to this long.
_PROCESSING_POLL_SECONDS = 2.0
_PROCESSING_LIMIT_SECONDS = 600.0
# What an upload's expiry is taken to be when the server does not say (it documents 48 hours).
_DEFAULT_LIFETIME_SECONDS = 47 * 3600


def resolution_field(ref: MediaRef) -> dict[str, Any]:
    """The per-part media_resolution, or nothing for the model's default."""
    if not ref.resolution:
        return {}
    return {"media_resolution": {"level": f"MEDIA_RESOLUTION_{ref.resolution.upper()}"}}


def inline_part(ref: MediaRef, data: bytes) -> dict[str, Any]:
    return {"inline_data": {"mime_type": ref.mime_type, "data": data}, **resolution_field(ref)}


def file_part(ref: MediaRef, uploaded: UploadedFile) -> dict[str, Any]:
    return {"file_data": {"mime_type": uploaded.mime_type, "file_uri": uploaded.uri}, **resolution_field(ref)}


def inline_refs(conversation: Conversation) -> set[str]:
    """The files sent inline: each up to INLINE_FILE_BYTES, oldest first, while the request stays small."""
    budget = INLINE_REQUEST_BYTES
    inline: set[str] = set()
    for ref in _unique_refs(conversation):
        if ref.size <= INLINE_FILE_BYTES and ref.size <= budget:
            inline.add(ref.sha256)
            budget -= ref.size
    return inline


def _unique_refs(conversation: Conversation) -> list[MediaRef]:
    seen: dict[tuple[str, str], MediaRef] = {}
    for message in conversation.messages:
        for ref in message.media:
            seen.setdefault((ref.sha256, ref.resolution), ref)
    return list(seen.values())


async def prepare_parts(
    client: genai.Client, conversation: Conversation, parts: dict[tuple[str, str], dict[str, Any]]
) -> AsyncGenerator[Uploading, None]:
    """Fill `parts` (by sha256 and resolution) with each attachment's part, uploading where needed; yields
    progress while a file goes up. Raises `ChatError` when a file cannot be read or uploaded."""
    library = conversation.media
    inline = inline_refs(conversation)
    for ref in _unique_refs(conversation):
        key = (ref.sha256, ref.resolution)
        try:
            if ref.sha256 in inline:
                parts[key] = inline_part(ref, await asyncio.to_thread(library.read, ref.sha256))
                continue
            uploaded = library.upload_of(ref.sha256)
            if uploaded is None:
                async for event in _upload(client, library, ref):
                    if isinstance(event, UploadedFile):
                        uploaded = event
                    else:
                        yield event
            assert uploaded is not None
            parts[key] = file_part(ref, uploaded)
        except MediaError as error:
            raise ChatError(ErrorKind.BAD_REQUEST, f"{error}; nothing was sent.") from None


async def _upload(
    client: genai.Client, library: MediaLibrary, ref: MediaRef
) -> AsyncGenerator[Uploading | UploadedFile, None]:
    """The Files API's resumable upload, read from disk in the SDK's 8 MB chunks, with progress."""
    progress: asyncio.Queue[int] = asyncio.Queue()
    with library.open(ref.sha256) as stream:
        reader = _ProgressReader(stream, progress.put_nowait)
        config = types.UploadFileConfig(mime_type=ref.mime_type, display_name=Path(ref.name).name[:500])
        upload = asyncio.ensure_future(client.aio.files.upload(file=reader, config=config))
        try:
            yield Uploading(ref.name, 0, ref.size)
            while not upload.done():
                waiter = asyncio.ensure_future(progress.get())
                await asyncio.wait([upload, waiter], return_when=asyncio.FIRST_COMPLETED)
                if waiter.done():
                    yield Uploading(ref.name, min(waiter.result(), ref.size), ref.size)
                else:
                    waiter.cancel()
            file = upload.result()
        finally:
            if not upload.done():
                upload.cancel()
    # Video is processed after the upload, and a part may only name it once it is ACTIVE: ask now and then,
    # saying so each time (the session's first-token timeout counts from the last event).
    waited = 0.0
    while file.state == types.FileState.PROCESSING and file.name and waited < _PROCESSING_LIMIT_SECONDS:
        yield Uploading(ref.name, ref.size, ref.size)
        await asyncio.sleep(_PROCESSING_POLL_SECONDS)
        waited += _PROCESSING_POLL_SECONDS
        file = await client.aio.files.get(name=file.name)
    if file.state == types.FileState.FAILED:
        raise ChatError(ErrorKind.BAD_REQUEST, f"Gemini could not process {ref.name} after the upload.")
    if file.state == types.FileState.PROCESSING:
        raise ChatError(ErrorKind.TIMEOUT, f"{ref.name} was still being processed after {waited:g} s.")
    expires = file.expiration_time.timestamp() if file.expiration_time else time.time() + _DEFAULT_LIFETIME_SECONDS
    uploaded = UploadedFile(
        uri=file.uri or "", name=file.name or "", mime_type=file.mime_type or ref.mime_type, expires_at=expires
    )
    if not uploaded.uri:
        raise ChatError(ErrorKind.BAD_RESPONSE, f"The Files API gave no URI for {ref.name}.")
    library.remember_upload(ref.sha256, uploaded)
    yield Uploading(ref.name, ref.size, ref.size)
    yield uploaded


class _ProgressReader(io.RawIOBase):
    """The file as the SDK reads it for an upload (it needs a seekable IOBase), reporting bytes read."""

    mode = "rb"

    def __init__(self, stream: Any, report: Callable[[int], None]) -> None:
        super().__init__()
        self._stream = stream
        self._report = report
        self._start = stream.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._report(self._stream.tell() - self._start)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def is_gone_file_error(error: genai_errors.APIError) -> bool:
    """The server no longer has a file the request names (it expired, or was deleted)."""
    message = (error.message or "").lower()
    return error.code in (400, 403, 404) and "file" in message and ("exist" in message or "expired" in message)


def counting_part(attachment: MediaAttachment) -> dict[str, Any]:
    """The inline part countTokens is asked about (only files small enough to be sent inline)."""
    source = attachment.source
    data = source if isinstance(source, bytes) else source.read_bytes()
    return inline_part(attachment.ref, data)
