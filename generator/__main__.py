"""`python -m generator` regenerates generated_client/; `--check` only verifies it."""

import sys

from generator.generate import main

sys.exit(main())
