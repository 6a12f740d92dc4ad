"""`python -m marksign_mock`: the same as the `marksign-mock` command."""

import sys

from .cli import main

sys.exit(main())
