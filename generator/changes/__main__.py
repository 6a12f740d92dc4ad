"""`python -m generator.changes`: the change report (make api-diff)."""

import sys

from generator.changes.cli import main

sys.exit(main())
