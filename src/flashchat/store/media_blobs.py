"""Attachments in the store: one copy of each file, keyed by its sha256, and where the provider uploaded it.

A conversation reopened next week sends exactly what it sent before: the same inline bytes (from here), or the
same file URI while that upload is valid, and an upload again from these bytes once it has expired. Bytes go
in and out in 1 MB pieces through SQLite's incremental blob I/O, so a 50 MB video is never held in memory.
The functions take the store's connection; ConversationStore calls them holding its lock.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from typing import Any, BinaryIO

from flashchat.core.media import MediaLibrary, MediaRef, UploadedFile

# Appended to the store's migrations (it renumbers this if another migration took its place first).
MIGRATION = """
ALTER TABLE messages ADD COLUMN media TEXT;
CREATE TABLE media (
    sha256 TEXT PRIMARY KEY,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    upload_uri TEXT,
    upload_name TEXT,
    upload_mime_type TEXT,
    upload_expires_at REAL
);
"""

_PIECE = 1024 * 1024


def has(db: sqlite3.Connection, sha256: str) -> bool:
    return db.execute("SELECT 1 FROM media WHERE sha256 = ?", (sha256,)).fetchone() is not None


def save(db: sqlite3.Connection, library: MediaLibrary, refs: list[MediaRef]) -> None:
    """Keep a copy of each file not kept yet, checked against its sha256 as it is copied (a file changed on
    disk since it was attached is not stored under the old hash)."""
    for ref in refs:
        if has(db, ref.sha256) or library.local_source(ref.sha256) is None:
            continue
        cursor = db.execute(
            "INSERT INTO media (sha256, mime_type, size, data) VALUES (?, ?, ?, zeroblob(?))",
            (ref.sha256, ref.mime_type, ref.size, ref.size),
        )
        digest = hashlib.sha256()
        written = 0
        assert cursor.lastrowid is not None
        with library.open(ref.sha256) as source, db.blobopen("media", "data", cursor.lastrowid) as blob:
            while (piece := source.read(_PIECE)) and written + len(piece) <= ref.size:
                blob.write(piece)
                digest.update(piece)
                written += len(piece)
        if written != ref.size or digest.hexdigest() != ref.sha256:
            db.execute("DELETE FROM media WHERE sha256 = ?", (ref.sha256,))


def read(db: sqlite3.Connection, sha256: str) -> bytes:
    row = db.execute("SELECT data FROM media WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        raise KeyError(sha256)
    return bytes(row[0])


def copy(db: sqlite3.Connection, sha256: str, into: BinaryIO) -> None:
    row = db.execute("SELECT rowid FROM media WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        raise KeyError(sha256)
    with db.blobopen("media", "data", row[0], readonly=True) as blob:
        while piece := blob.read(_PIECE):
            into.write(piece)


def upload_of(db: sqlite3.Connection, sha256: str) -> UploadedFile | None:
    row = db.execute(
        "SELECT upload_uri, upload_name, upload_mime_type, upload_expires_at FROM media WHERE sha256 = ?", (sha256,)
    ).fetchone()
    if row is None or not row[0]:
        return None
    return UploadedFile(uri=row[0], name=row[1] or "", mime_type=row[2] or "", expires_at=float(row[3] or 0))


def remember_upload(db: sqlite3.Connection, sha256: str, uploaded: UploadedFile) -> None:
    db.execute(
        "UPDATE media SET upload_uri = ?, upload_name = ?, upload_mime_type = ?, upload_expires_at = ?"
        " WHERE sha256 = ?",
        (uploaded.uri, uploaded.name, uploaded.mime_type, uploaded.expires_at, sha256),
    )


def export(db: sqlite3.Connection, refs: list[MediaRef]) -> dict[str, dict[str, Any]]:
    """The files of an export, by sha256: type, size and the bytes as base64. Uploads are left out: an imported
    file is uploaded again from its bytes, so an export never makes flashchat send a URI it did not make."""
    found: dict[str, dict[str, Any]] = {}
    for ref in refs:
        if ref.sha256 in found or not has(db, ref.sha256):
            continue
        entry: dict[str, Any] = {
            "mime_type": ref.mime_type,
            "size": ref.size,
            "data": base64.b64encode(read(db, ref.sha256)).decode("ascii"),
        }
        found[ref.sha256] = entry
    return found


def import_(db: sqlite3.Connection, documents: Any, refs: list[MediaRef]) -> None:
    """Restore an export's files; each is checked against its sha256 (a damaged one raises ValueError)."""
    if documents is None:
        return
    if not isinstance(documents, dict):
        raise ValueError("attachments is not an object")
    wanted = {ref.sha256: ref for ref in refs}
    for sha256, entry in documents.items():
        ref = wanted.get(sha256)
        if ref is None or has(db, sha256):
            continue
        data = base64.b64decode(str(entry["data"]), validate=True)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"attachment {sha256[:12]} does not match its sha256")
        db.execute(
            "INSERT INTO media (sha256, mime_type, size, data) VALUES (?, ?, ?, ?)",
            (sha256, ref.mime_type, len(data), data),
        )
