import sys

from flashchat.cli import main

sys.exit(main())
