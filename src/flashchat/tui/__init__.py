"""The full-screen Textual chat. Import `flashchat.tui.app.run_tui`; nothing here imports google.genai."""
