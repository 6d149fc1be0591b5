"""The conversation history in SQLite (WAL), written while a reply streams."""
