"""Small, real media files for the tests, built from their formats' headers (no binary fixtures in the repo)."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 4, height: int = 4, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid RGB PNG of one color, with a lighter top half (so a thumbnail shows two rows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    light = tuple(min(255, c + 50) for c in color)
    rows = b"".join(b"\x00" + bytes(light if y < height // 2 else color) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def pdf(pages: int = 2) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count %d >>" % pages]
    objects += [b"<< /Type /Page /Parent 2 0 R >>" for _ in range(pages)]
    body = b"".join(b"%d 0 obj\n%s\nendobj\n" % (number, obj) for number, obj in enumerate(objects, 1))
    return b"%PDF-1.4\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    data = b"\x00\x00" * int(seconds * rate)
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    )
    return header + b"data" + struct.pack("<I", len(data)) + data


def mp4(seconds: int = 65, brand: bytes = b"isom", padding: int = 0) -> bytes:
    """ftyp, then a moov with an mvhd (timescale 1000), then an mdat of `padding` bytes."""
    ftyp = struct.pack(">I", 20) + b"ftyp" + brand + b"\x00\x00\x02\x00" + b"mp41"
    mvhd_body = b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, 1000, seconds * 1000) + b"\x00" * 80
    mvhd = struct.pack(">I", 8 + len(mvhd_body)) + b"mvhd" + mvhd_body
    moov = struct.pack(">I", 8 + len(mvhd)) + b"moov" + mvhd
    mdat = struct.pack(">I", 8 + padding) + b"mdat" + b"\x00" * padding
    return ftyp + moov + mdat


SAMPLES = {
    "shot.png": ("image/png", png),
    "photo.jpg": ("image/jpeg", jpeg),
    "anim.gif": ("image/gif", lambda: b"GIF89a" + b"\x01\x00\x01\x00" + b"\x00" * 20),
    "pic.webp": ("image/webp", lambda: b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 24),
    "phone.heic": ("image/heic", lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16),
    "spec.pdf": ("application/pdf", pdf),
    "talk.mp3": ("audio/mpeg", lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16),
    "note.wav": ("audio/wav", wav),
    "song.ogg": ("audio/ogg", lambda: b"OggS\x00\x02" + b"\x00" * 30),
    "track.flac": ("audio/flac", lambda: b"fLaC\x00\x00\x00\x22" + b"\x00" * 34),
    "voice.aac": ("audio/aac", lambda: b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 20),
    "memo.m4a": ("audio/mp4", lambda: mp4(3, brand=b"M4A ")),
    "demo.mp4": ("video/mp4", mp4),
    "clip.webm": ("video/webm", lambda: b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 20),
    "screen.mov": ("video/quicktime", lambda: mp4(5, brand=b"qt  ")),
}
