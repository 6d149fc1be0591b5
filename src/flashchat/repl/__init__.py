"""`flashchat --plain`: the line-mode chat (prompt-toolkit) in the terminal's own scrollback."""
