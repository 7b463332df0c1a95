"""`python -m tracker.cli`: the `caseclock` command."""

import sys

from tracker.cli.main import main

sys.exit(main())
