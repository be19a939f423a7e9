"""``python -m coach``: the command line."""

import sys

from coach.launch import main

if __name__ == "__main__":  # worker processes import this module too; they must not run it
    sys.exit(main())
