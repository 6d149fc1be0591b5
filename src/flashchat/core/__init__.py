"""The engine: conversations, the chat session and its events, prompt preparation, attachments, local tools and
the one table of user actions. Nothing here imports a front end (cli, repl, tui) or a UI toolkit."""
