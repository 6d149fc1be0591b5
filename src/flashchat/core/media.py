"""Images, PDFs, audio and video as attachments: what a file is, whether it may be sent, and where its bytes live.

A file's type comes from its first bytes (magic numbers), with the name's extension only to tell apart
formats that share a container (an `.m4a` and an `.mp4` are both ISO media). A file is read in chunks to
hash it and to find its page count or duration, so attaching a 50 MB video never holds it in memory twice.

A message keeps a `MediaRef` per attachment (its sha256, type, name, size and resolution): the bytes are
kept once per unique file, in the store, and in `MediaLibrary` while this run has them on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

MediaKind = Literal["image", "pdf", "audio", "video"]

# MIME type -> kind, for every type flashchat attaches as media.
MEDIA_TYPES: dict[str, MediaKind] = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/webp": "image",
    "image/heic": "image",
    "image/heif": "image",
    "image/gif": "image",
    "application/pdf": "pdf",
    "audio/mpeg": "audio",
    "audio/wav": "audio",
    "audio/ogg": "audio",
    "audio/flac": "audio",
    "audio/aac": "audio",
    "audio/mp4": "audio",
    "video/mp4": "video",
    "video/webm": "video",
    "video/quicktime": "video",
}
SHORT_NAMES = {
    "image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP", "image/heic": "HEIC", "image/heif": "HEIF",
    "image/gif": "GIF", "application/pdf": "PDF", "audio/mpeg": "MP3", "audio/wav": "WAV", "audio/ogg": "OGG",
    "audio/flac": "FLAC", "audio/aac": "AAC", "audio/mp4": "M4A", "video/mp4": "MP4", "video/webm": "WebM",
    "video/quicktime": "MOV",
}  # fmt: skip

# Gemini's limits: the Files API takes files up to 2 GB, a PDF up to 50 MB (1,000 pages). The store keeps one
# copy of each attachment in SQLite, whose largest value is 1e9 bytes, so that is flashchat's cap.
MAX_MEDIA_BYTES = 1_000_000_000
MAX_PDF_BYTES = 50 * 1024 * 1024
# A request is at most 20 MB, base64 included (4/3 of the bytes): a file up to this size goes inline, and
# a request's inline files together stay under INLINE_REQUEST_BYTES; the rest goes through the Files API.
INLINE_FILE_BYTES = 4 * 1024 * 1024
INLINE_REQUEST_BYTES = 14 * 1024 * 1024
# An uploaded file lives 48 hours; one that expires within this margin is uploaded again before sending.
UPLOAD_EXPIRY_MARGIN_SECONDS = 10 * 60
_CHUNK = 1024 * 1024
_SNIFF = 64

# media_resolution per item, as the model guide names the levels (ultra_high is per item only).
RESOLUTIONS = ("low", "medium", "high", "ultra_high")
# Tokens per image / PDF page / video frame at each level (the Gemini 3 media resolution table); "" is the
# model's default for the kind. Audio is 32 tokens a second whatever the level; video is sampled at 1 fps.
_TOKENS_PER_UNIT = {
    "image": {"low": 280, "medium": 560, "high": 1120, "ultra_high": 2240, "": 1120},
    "pdf": {"low": 280, "medium": 560, "high": 1120, "ultra_high": 1120, "": 560},
    "video": {"low": 70, "medium": 70, "high": 280, "ultra_high": 280, "": 70},
}
AUDIO_TOKENS_PER_SECOND = 32


class MediaError(Exception):
    """A media file that cannot be attached; the text says which and why, in one line."""


def kind_of(mime_type: str) -> MediaKind | None:
    return MEDIA_TYPES.get(mime_type)


def sniff(head: bytes, name: str = "") -> str | None:
    """The MIME type of a media file from its first bytes (and, for shared containers, its name); else None."""
    suffix = Path(name).suffix.lower()
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska/EBML: WebM when its doctype says so
        return "video/webm" if b"webm" in head[:64] or suffix == ".webm" else None
    if head[4:8] == b"ftyp":
        return _iso_media_type(head[8:12], suffix)
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # An MPEG audio frame sync: layer bits 00 is an ADTS AAC stream, anything else MP3.
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    return None


def _iso_media_type(brand: bytes, suffix: str) -> str | None:
    if brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"):
        return "image/heic"
    if brand in (b"mif1", b"msf1", b"heif"):
        return "image/heif"
    if brand == b"qt  ":
        return "video/quicktime"
    if brand in (b"M4A ", b"M4B ", b"M4P ") or suffix in (".m4a", ".m4b", ".aac"):
        return "audio/mp4"
    if brand in (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"MSNV", b"M4V "):
        return "video/quicktime" if suffix == ".mov" else "video/mp4"
    return None


def looks_binary(head: bytes) -> bool:
    """A NUL byte or bytes that are not UTF-8 (a multi-byte character cut at the end of `head` is fine)."""
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(head) - 3
    return False


@dataclass(frozen=True)
class MediaRef:
    """What a message keeps of an attachment: enough to find its bytes and to show it."""

    sha256: str
    mime_type: str
    name: str  # as the user saw it (a path relative to the start directory, or "stdin")
    size: int
    resolution: str = ""  # "" (the model's default) or one of RESOLUTIONS
    pages: int | None = None  # PDFs
    seconds: float | None = None  # audio and video, when the container says

    @property
    def kind(self) -> MediaKind:
        return MEDIA_TYPES.get(self.mime_type, "image")

    def to_dict(self) -> dict[str, object]:
        found = {
            "sha256": self.sha256, "mime_type": self.mime_type, "name": self.name, "size": self.size,
            "resolution": self.resolution, "pages": self.pages, "seconds": self.seconds,
        }  # fmt: skip
        return {key: value for key, value in found.items() if value not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MediaRef:
        sha = str(data["sha256"])
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ValueError(f"not a sha256: {sha[:80]!r}")
        mime = str(data["mime_type"])
        if mime not in MEDIA_TYPES:
            raise ValueError(f"not a media type flashchat sends: {mime[:80]!r}")
        resolution = str(data.get("resolution") or "")
        pages, seconds = data.get("pages"), data.get("seconds")
        return cls(
            sha256=sha,
            mime_type=mime,
            name=str(data.get("name") or sha[:12]),
            size=int(data.get("size") or 0),  # type: ignore[arg-type]
            resolution=resolution if resolution in RESOLUTIONS else "",
            pages=int(pages) if isinstance(pages, int) else None,
            seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
        )

    def describe(self) -> str:
        """`PNG · 1.2 MB`, `PDF · 12 pages · 3.4 MB`, `MP4 · 1:05 · 50.0 MB`."""
        pieces = [SHORT_NAMES.get(self.mime_type, self.mime_type)]
        if self.pages:
            pieces.append(f"{self.pages} page{'s' if self.pages != 1 else ''}")
        if self.seconds:
            minutes, seconds = divmod(round(self.seconds), 60)
            pieces.append(f"{minutes}:{seconds:02d}")
        pieces.append(format_size(self.size))
        if self.resolution:
            pieces.append(f"{self.resolution} res")
        return " · ".join(pieces)

    def estimated_tokens(self) -> int:
        """A local guess from the type, resolution, pages and duration; countTokens is the truth."""
        if self.kind == "audio":
            return round((self.seconds or 60) * AUDIO_TOKENS_PER_SECOND)
        per_unit = _TOKENS_PER_UNIT[self.kind][self.resolution]
        if self.kind == "pdf":
            return per_unit * (self.pages or 1)
        if self.kind == "video":
            # Each second: a frame plus its audio track.
            return round((self.seconds or 60) * (per_unit + AUDIO_TOKENS_PER_SECOND))
        return per_unit

    def with_resolution(self, resolution: str) -> MediaRef:
        return replace(self, resolution=resolution)


def format_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


@dataclass(frozen=True)
class MediaAttachment:
    """A media file ready to attach: its reference, and where this run reads its bytes (a path, or stdin's)."""

    ref: MediaRef
    source: Path | bytes

    @property
    def path(self) -> str:
        return self.ref.name

    def with_resolution(self, resolution: str) -> MediaAttachment:
        return MediaAttachment(self.ref.with_resolution(resolution), self.source)


def check_limits(mime_type: str, size: int, shown: str) -> None:
    if size > MAX_MEDIA_BYTES:
        raise MediaError(f"{shown} is {format_size(size)}; media files over {format_size(MAX_MEDIA_BYTES)} are refused")
    if mime_type == "application/pdf" and size > MAX_PDF_BYTES:
        raise MediaError(f"{shown} is {format_size(size)}; Gemini reads PDFs up to {MAX_PDF_BYTES // 2**20} MB")


def read_media(
    path: Path, shown: str, mime_type: str, resolution: str = "", *, descriptor: int | None = None
) -> MediaAttachment:
    """Hash `path` (or the regular file open as `descriptor`, which stays open) and find its pages or
    duration, reading it in 1 MB chunks (never all of it at once)."""
    import os

    stream = os.fdopen(os.dup(descriptor), "rb") if descriptor is not None else path.open("rb")
    with stream:
        size = os.fstat(stream.fileno()).st_size
        check_limits(mime_type, size, shown)
        digest = hashlib.sha256()
        scanner = _DetailScanner(mime_type)
        stream.seek(0)
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            scanner.feed(chunk)
    ref = MediaRef(digest.hexdigest(), mime_type, shown, size, resolution, scanner.pages(), scanner.seconds())
    return MediaAttachment(ref, path)


def media_from_bytes(data: bytes, name: str, mime_type: str) -> MediaAttachment:
    """Media that arrived without a file: piped on stdin, or an image from the clipboard."""
    check_limits(mime_type, len(data), name)
    scanner = _DetailScanner(mime_type)
    scanner.feed(data)
    ref = MediaRef(hashlib.sha256(data).hexdigest(), mime_type, name, len(data), "", scanner.pages(), scanner.seconds())
    return MediaAttachment(ref, data)


class _DetailScanner:
    """Page count of a PDF (its `/Type /Page` objects) and duration of MP4/MOV (mvhd) or WAV (header)."""

    _PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")

    def __init__(self, mime_type: str) -> None:
        self.mime_type = mime_type
        self._pages = 0
        self._tail = b""
        self._head = b""
        self._mvhd: float | None = None

    def feed(self, chunk: bytes) -> None:
        if self.mime_type == "application/pdf":
            window = self._tail + chunk
            self._pages += len(self._PAGE.findall(window)) - len(self._PAGE.findall(self._tail))
            self._tail = window[-32:]
        elif len(self._head) < 64:
            self._head += chunk[: 64 - len(self._head)]
        if self.mime_type in ("video/mp4", "video/quicktime", "audio/mp4") and self._mvhd is None:
            window = self._tail + chunk
            at = window.find(b"mvhd")
            if at >= 0 and len(window) >= at + 24:
                self._mvhd = _mvhd_seconds(window[at + 4 : at + 36])
            self._tail = window[-40:]

    def pages(self) -> int | None:
        return self._pages or None if self.mime_type == "application/pdf" else None

    def seconds(self) -> float | None:
        if self._mvhd is not None:
            return self._mvhd
        head = self._head
        if self.mime_type == "audio/wav" and len(head) >= 44 and head[36:40] == b"data":
            byte_rate = int.from_bytes(head[28:32], "little")
            return int.from_bytes(head[40:44], "little") / byte_rate if byte_rate else None
        return None


def _mvhd_seconds(box: bytes) -> float | None:
    """Duration from an mvhd box body: version 0 has 32-bit times, version 1 64-bit."""
    version = box[0]
    if version == 1 and len(box) >= 32:
        timescale = int.from_bytes(box[20:24], "big")
        duration = int.from_bytes(box[24:32], "big")
    else:
        timescale = int.from_bytes(box[12:16], "big")
        duration = int.from_bytes(box[16:20], "big")
    return duration / timescale if timescale else None


@dataclass(frozen=True)
class UploadedFile:
    """A file the provider uploaded (Gemini Files API) and until when its URI can be sent."""

    uri: str
    name: str
    mime_type: str
    expires_at: float  # epoch seconds

    def valid(self, now: float | None = None) -> bool:
        return self.expires_at - (now if now is not None else time.time()) > UPLOAD_EXPIRY_MARGIN_SECONDS


class MediaBacking(Protocol):
    """Where attachments are kept between runs (the store): one copy of each file, and its upload."""

    def has_media(self, sha256: str) -> bool: ...

    def read_media(self, sha256: str) -> bytes: ...

    def copy_media(self, sha256: str, into: BinaryIO) -> None: ...

    def upload_of(self, sha256: str) -> UploadedFile | None: ...

    def remember_upload(self, sha256: str, uploaded: UploadedFile) -> None: ...


@dataclass
class MediaLibrary:
    """The bytes behind every `MediaRef` of a conversation: a file this run attached, else the store's copy."""

    backing: MediaBacking | None = None
    _local: dict[str, Path | bytes] = field(default_factory=dict)
    _uploads: dict[str, UploadedFile] = field(default_factory=dict)

    def add(self, attachment: MediaAttachment) -> None:
        self._local[attachment.ref.sha256] = attachment.source

    def local_source(self, sha256: str) -> Path | bytes | None:
        return self._local.get(sha256)

    def has(self, sha256: str) -> bool:
        return sha256 in self._local or (self.backing is not None and self.backing.has_media(sha256))

    def read(self, sha256: str) -> bytes:
        """All the bytes (for inline files, a few MB at most)."""
        source = self._local.get(sha256)
        if isinstance(source, bytes):
            return source
        if source is not None:
            with contextlib.suppress(OSError):
                data = source.read_bytes()
                if hashlib.sha256(data).hexdigest() == sha256:
                    return data
        if self.backing is not None and self.backing.has_media(sha256):
            return self.backing.read_media(sha256)
        raise MediaError(f"the attachment {sha256[:12]} is no longer available (its file changed or was removed)")

    @contextlib.contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        """A binary stream of the file, for an upload that reads it in chunks."""
        source = self._local.get(sha256)
        if isinstance(source, bytes):
            yield io.BytesIO(source)
            return
        if source is not None and source.is_file():
            with source.open("rb") as stream:
                yield stream
            return
        if self.backing is None or not self.backing.has_media(sha256):
            raise MediaError(f"the attachment {sha256[:12]} is no longer available (its file was removed)")
        import tempfile

        # Copied out of the store in chunks, so a re-upload of a big file never holds it in memory.
        with tempfile.TemporaryFile() as spool:
            self.backing.copy_media(sha256, spool)  # type: ignore[arg-type]
            spool.seek(0)
            yield spool  # type: ignore[misc]

    def upload_of(self, sha256: str) -> UploadedFile | None:
        """The upload of this file that can still be sent, if any."""
        uploaded = self._uploads.get(sha256)
        if uploaded is None and self.backing is not None:
            uploaded = self.backing.upload_of(sha256)
            if uploaded is not None:
                self._uploads[sha256] = uploaded
        return uploaded if uploaded is not None and uploaded.valid() else None

    def remember_upload(self, sha256: str, uploaded: UploadedFile) -> None:
        self._uploads[sha256] = uploaded
        if self.backing is not None:
            self.backing.remember_upload(sha256, uploaded)

    def forget_uploads(self) -> None:
        """After the server said a file is gone: upload again on the next request."""
        for sha256, uploaded in list(self._uploads.items()):
            self._uploads[sha256] = replace(uploaded, expires_at=0.0)
            if self.backing is not None:
                self.backing.remember_upload(sha256, self._uploads[sha256])
