"""``python -m buurtmonitor``: see :mod:`buurtmonitor.cli`."""

import sys

from buurtmonitor.cli import main

sys.exit(main())
