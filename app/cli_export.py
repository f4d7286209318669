"""``export``: a chart, map or table of one indicator as a file (the briefing stack, kaleido)."""

from __future__ import annotations

import sys
from pathlib import Path

from app import briefing_export
from app.cli_common import SOURCE_ERRORS

__all__ = ["SOURCE_ERRORS", "cmd_export"]


def cmd_export(args) -> int:
    out = Path(args.out)
    briefing_export.export_indicator(year=args.year, gemeente=args.gemeente, indicator=args.indicator,
                                     level=args.level, fmt=args.format, out=out)
    print(f"Geschreven: {out} ({out.stat().st_size / 1e3:.0f} kB)", file=sys.stderr)
    return 0
