"""The fake Gemini server's Files API and media parts: uploads as the SDK speaks them, and what parts cost.

The SDK's resumable upload: ``POST upload/v1beta/files`` with ``X-Goog-Upload-Protocol: resumable`` and
``X-Goog-Upload-Command: start`` (JSON body ``{"file": {...}}``, the size and type in
``X-Goog-Upload-Header-Content-Length`` / ``-Content-Type``) answers with an ``X-Goog-Upload-URL``; the bytes
then go to that URL in chunks, each with ``X-Goog-Upload-Command: upload`` (``upload, finalize`` for the
last) and ``X-Goog-Upload-Offset``; the server answers ``X-Goog-Upload-Status: active`` until the final
chunk, which gets ``final`` and ``{"file": {...}}``. Files live 48 hours; ``expire(name)`` ends one early,
and a request naming an expired or unknown file gets the real API's 403.

Upload chunks are recorded without their bytes (their sha256 lands in the file's ``sha256Hash``), so a
benchmark uploading 50 MB does not keep 50 MB in the fake.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

LIFETIME_SECONDS = 48 * 3600
GONE_FILE_MESSAGE = "You do not have permission to access the File {id} or it may not exist."

# Tokens the fake charges per image / PDF page / second of audio or video, by media_resolution level (the
# Gemini 3 table; the real server's counts differ, tests only need them to depend on type and level).
_IMAGE_TOKENS = {"LOW": 280, "MEDIUM": 560, "HIGH": 1120, "ULTRA_HIGH": 2240}
_PAGE_TOKENS = {"LOW": 280, "MEDIUM": 560, "HIGH": 1120, "ULTRA_HIGH": 1120}
_VIDEO_TOKENS_PER_SECOND = {"LOW": 102, "MEDIUM": 102, "HIGH": 312, "ULTRA_HIGH": 312}
_AUDIO_TOKENS_PER_SECOND = 32
# Without a duration in the bytes, the fake takes a second of media to be this many bytes.
_BYTES_PER_SECOND = 16_000


@dataclass
class StoredFile:
    name: str  # "files/abc123"
    mime_type: str
    size: int
    display_name: str = ""
    created: float = field(default_factory=time.time)
    expires: float = 0.0
    received: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    head: bytes = b""  # the first bytes, for the page count of a PDF
    pages: int = 0
    state: str = "ACTIVE"

    def resource(self, base_url: str) -> Json:
        return {
            "name": self.name,
            "displayName": self.display_name,
            "mimeType": self.mime_type,
            "sizeBytes": str(self.size),
            "createTime": _timestamp(self.created),
            "updateTime": _timestamp(self.created),
            "expirationTime": _timestamp(self.expires),
            "sha256Hash": base64.b64encode(self.digest.hexdigest().encode()).decode(),
            "uri": f"{base_url}/v1beta/{self.name}",
            "state": self.state,
            "source": "UPLOADED",
        }

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


def _timestamp(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeFiles:
    """Uploaded files by name, and the upload sessions in progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.files: dict[str, StoredFile] = {}
        self._sessions: dict[str, StoredFile] = {}
        self.uploads_started = 0
        # Uploads stay PROCESSING (as video does) for this many metadata requests before they are ACTIVE.
        self.processing_polls = 0
        self._polls_left: dict[str, int] = {}

    # -- what tests use

    def expire(self, name: str | None = None) -> None:
        """End a file's life now (every file's, without a name), as 48 hours would."""
        with self._lock:
            for stored in self.files.values():
                if name is None or stored.name == name:
                    stored.expires = time.time() - 1

    def by_sha256(self, sha256: str) -> list[StoredFile]:
        with self._lock:
            return [stored for stored in self.files.values() if stored.sha256 == sha256]

    # -- routes

    def start(self, headers: dict[str, str], body: Any, base_url: str) -> tuple[int, Json, dict[str, str]]:
        if headers.get("x-goog-upload-protocol") != "resumable" or headers.get("x-goog-upload-command") != "start":
            return 400, _error(400, "Upload requests must use the resumable protocol."), {}
        try:
            size = int(headers.get("x-goog-upload-header-content-length") or "")
        except ValueError:
            return 400, _error(400, "Missing X-Goog-Upload-Header-Content-Length."), {}
        meta = (body or {}).get("file") or {} if isinstance(body, dict) else {}
        mime_type = headers.get("x-goog-upload-header-content-type") or _first(meta, "mimeType", "mime_type") or ""
        if not mime_type:
            return 400, _error(400, "Unknown mime type."), {}
        wanted = str(meta.get("name") or "")
        name = wanted if wanted.startswith("files/") else f"files/{secrets.token_hex(6)}"
        upload_id = secrets.token_urlsafe(12)
        display_name = str(_first(meta, "displayName", "display_name") or "")  # the SDK sends snake_case here
        stored = StoredFile(name, mime_type, size, display_name=display_name)
        with self._lock:
            self._sessions[upload_id] = stored
            self.uploads_started += 1
        url = f"{base_url}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable"
        return 200, {}, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"}

    def chunk(
        self, query: dict[str, str], headers: dict[str, str], data: bytes, base_url: str
    ) -> tuple[int, Json, dict[str, str]]:
        with self._lock:
            stored = self._sessions.get(query.get("upload_id", ""))
        if stored is None:
            return 404, _error(404, "No upload session with this id."), {}
        command = headers.get("x-goog-upload-command", "")
        offset = int(headers.get("x-goog-upload-offset") or -1)
        if offset != stored.received:
            return 400, _error(400, f"Upload offset {offset} does not match {stored.received} received."), {}
        stored.digest.update(data)
        if len(stored.head) < 1_000_000:
            stored.head += data[: 1_000_000 - len(stored.head)]
        stored.pages += len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
        stored.received += len(data)
        if "finalize" not in command:
            return 200, {}, {"X-Goog-Upload-Status": "active"}
        if stored.received != stored.size:
            return 400, _error(400, f"Received {stored.received} bytes, {stored.size} were announced."), {}
        stored.created = time.time()
        stored.expires = stored.created + LIFETIME_SECONDS
        if self.processing_polls:
            stored.state = "PROCESSING"
            self._polls_left[stored.name] = self.processing_polls
        with self._lock:
            self._sessions.pop(query.get("upload_id", ""), None)
            self.files[stored.name] = stored
        return 200, {"file": stored.resource(base_url)}, {"X-Goog-Upload-Status": "final"}

    def get(self, name: str, base_url: str) -> tuple[int, Json]:
        stored = self._live(name)
        if stored is None:
            return 403, _error(403, GONE_FILE_MESSAGE.format(id=name.removeprefix("files/")), "PERMISSION_DENIED")
        with self._lock:
            left = self._polls_left.get(name, 0) - 1
            self._polls_left[name] = left
            if left <= 0:
                stored.state = "ACTIVE"
        return 200, stored.resource(base_url)

    def _live(self, name: str) -> StoredFile | None:
        with self._lock:
            stored = self.files.get(name)
        return stored if stored is not None and stored.expires > time.time() else None

    # -- media parts in generate and countTokens

    def check_parts(self, contents: list[Json]) -> tuple[int, str] | None:
        """An error (status, message) for a part the real API would reject: bad base64, a gone file."""
        for part in _media_parts(contents):
            inline = _first(part, "inlineData", "inline_data")
            if inline is not None:
                if _decode(_first(inline, "data") or "") is None:
                    return (
                        400,
                        "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), Base64 decoding failed",
                    )
                if not _first(inline, "mimeType", "mime_type"):
                    return 400, "Request contains an invalid argument: inline_data.mime_type is required."
            file_data = _first(part, "fileData", "file_data")
            if file_data is not None:
                uri = str(_first(file_data, "fileUri", "file_uri") or "")
                if "youtube.com/" in uri or "youtu.be/" in uri:
                    continue  # YouTube URLs are fetched by the server, not uploaded
                match = re.search(r"(files/[\w-]+)$", uri)
                stored = self._live(match.group(1)) if match else None
                if match is None or stored is None:
                    name = match.group(1).removeprefix("files/") if match else uri
                    return 403, GONE_FILE_MESSAGE.format(id=name)
                if stored.state != "ACTIVE":
                    return 400, f"The File {stored.name} is not in an ACTIVE state and usage is not allowed."
        return None

    def tokens(self, contents: list[Json]) -> int:
        """What the media parts of `contents` cost, by type, size and media_resolution."""
        total = 0
        for part in _media_parts(contents):
            level = str(_first(_first(part, "mediaResolution", "media_resolution") or {}, "level") or "")
            level = level.removeprefix("MEDIA_RESOLUTION_") or "DEFAULT"
            inline = _first(part, "inlineData", "inline_data")
            if inline is not None:
                data = _decode(_first(inline, "data") or "") or b""
                mime = str(_first(inline, "mimeType", "mime_type") or "")
                pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
                total += _cost(mime, len(data), pages, level)
                continue
            file_data = _first(part, "fileData", "file_data") or {}
            match = re.search(r"(files/[\w-]+)$", str(_first(file_data, "fileUri", "file_uri") or ""))
            stored = self._live(match.group(1)) if match else None
            if stored is not None:
                total += _cost(stored.mime_type, stored.size, stored.pages, level)
            else:
                total += 258 * 60  # a YouTube video: about a minute
        return total


def _cost(mime: str, size: int, pages: int, level: str) -> int:
    if mime.startswith("image/"):
        return _IMAGE_TOKENS.get(level, 1120)
    if mime == "application/pdf":
        return _PAGE_TOKENS.get(level, 560) * max(1, pages)
    seconds = max(1, size // _BYTES_PER_SECOND)
    if mime.startswith("video/"):
        return seconds * _VIDEO_TOKENS_PER_SECOND.get(level, 102)
    return seconds * _AUDIO_TOKENS_PER_SECOND


def _media_parts(contents: list[Json]) -> list[Json]:
    """Every part with inline or file data, also those inside a functionResponse (tool-returned images)."""
    found: list[Json] = []

    def walk(parts: Any) -> None:
        for part in parts if isinstance(parts, list) else []:
            if not isinstance(part, dict):
                continue
            if any(key in part for key in ("inlineData", "inline_data", "fileData", "file_data")):
                found.append(part)
            response = _first(part, "functionResponse", "function_response")
            if isinstance(response, dict):
                walk(response.get("parts"))

    for content in contents:
        if isinstance(content, dict):
            walk(content.get("parts"))
    return found


def first_spelling(mapping: Any, *names: str) -> Any:
    """The value under the first spelling present: request JSON mixes camelCase and snake_case."""
    if isinstance(mapping, dict):
        for name in names:
            if mapping.get(name) is not None:
                return mapping[name]
    return None


_first = first_spelling


def _decode(value: Any) -> bytes | None:
    """Either base64 alphabet, padded or not (the SDK sends URL-safe)."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        return None


def _error(code: int, message: str, status: str = "INVALID_ARGUMENT") -> Json:
    statuses = {403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    return {"error": {"code": code, "message": message, "status": statuses.get(code, status)}}
