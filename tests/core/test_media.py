"""What a file is, from its bytes: every media type flashchat attaches, and the binaries it refuses."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from flashchat.core.attachments import AttachmentError, read_attachment
from flashchat.core.media import MediaAttachment, MediaRef, sniff
from media_samples import SAMPLES, mp4, pdf, png, wav


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_media_type_is_attached_as_media_by_its_bytes(tmp_path: Path, name: str) -> None:
    mime_type, build = SAMPLES[name]
    data = build()
    (tmp_path / name).write_bytes(data)
    found = read_attachment(tmp_path / name, tmp_path)
    assert isinstance(found, MediaAttachment)
    assert found.ref.mime_type == mime_type
    assert found.ref.sha256 == hashlib.sha256(data).hexdigest()
    assert found.ref.size == len(data)
    assert found.path == name


def test_the_type_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    (tmp_path / "really-a-png.txt").write_bytes(png())
    found = read_attachment(tmp_path / "really-a-png.txt", tmp_path)
    assert isinstance(found, MediaAttachment) and found.ref.mime_type == "image/png"


def test_pages_and_durations_are_read_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "spec.pdf").write_bytes(pdf(pages=3))
    (tmp_path / "demo.mp4").write_bytes(mp4(seconds=65))
    (tmp_path / "note.wav").write_bytes(wav(seconds=2.0))
    refs = [read_attachment(tmp_path / name, tmp_path).ref for name in ("spec.pdf", "demo.mp4", "note.wav")]  # type: ignore[union-attr]
    assert [ref.describe() for ref in refs] == ["PDF · 3 pages · 274 B", "MP4 · 1:05 · 144 B", "WAV · 0:02 · 32.0 kB"]


def test_an_unknown_binary_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "tool.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100)
    with pytest.raises(AttachmentError) as refused:
        read_attachment(tmp_path / "tool.bin", tmp_path)
    assert str(refused.value).startswith("tool.bin: not a type flashchat can attach (text, PNG, JPEG")
    assert "\n" not in str(refused.value)


def test_text_stays_text(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nplain words\n")
    found = read_attachment(tmp_path / "notes.md", tmp_path)
    assert not isinstance(found, MediaAttachment) and found.text.startswith("# Notes")


def test_a_pdf_over_gemini_limit_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.pdf"
    with big.open("wb") as stream:
        stream.write(pdf())
        stream.truncate(51 * 1024 * 1024)  # sparse: no 51 MB written to the shared disk
    with pytest.raises(AttachmentError, match=r"huge.pdf is 53.5 MB; Gemini reads PDFs up to 50 MB"):
        read_attachment(big, tmp_path)


def test_sniff_tells_m4a_from_mp4_and_mov_by_brand() -> None:
    assert sniff(mp4(brand=b"M4A ")) == "audio/mp4"
    assert sniff(mp4(brand=b"qt  ")) == "video/quicktime"
    assert sniff(mp4(brand=b"isom")) == "video/mp4"
    assert sniff(mp4(brand=b"isom"), "screen.mov") == "video/quicktime"
    assert sniff(b"hello") is None


def test_a_media_ref_survives_its_dict_and_rejects_a_forged_one() -> None:
    ref = MediaRef("a" * 64, "image/png", "shot.png", 10, "high", None, None)
    assert MediaRef.from_dict(ref.to_dict()) == ref
    with pytest.raises(ValueError):
        MediaRef.from_dict(ref.to_dict() | {"sha256": "../../etc/passwd"})
    with pytest.raises(ValueError):
        MediaRef.from_dict(ref.to_dict() | {"mime_type": "text/html"})
    assert os.sep not in ref.sha256
