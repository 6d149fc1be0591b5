import sys

from flashchat.cli.main import main

sys.exit(main())
