"""``python -m buurtmonitor``: the command line lives in the application layer (:mod:`app.cli`)."""

import sys

from app.cli import main

sys.exit(main())
