"""``indices``: segregation and diversity measures of one gemeente (lokale kaart)."""

from __future__ import annotations

import json
import logging

from app.cli_common import SOURCE_ERRORS
from buurtmonitor.lokale_kaart import indices as lokale_kaart
from loaders import repository

__all__ = ["SOURCE_ERRORS", "cmd_indices", "indices_for"]

log = logging.getLogger(__name__)


def indices_for(year: int, gemeente: str, level: str = "buurt") -> lokale_kaart.GemeenteMeasures:
    """CLI ``indices``: every measure for one gemeente, with the groups used and, where the
    source allows, its rank among all gemeenten (``repository.load_table(year, "alle")``)."""
    table = repository.load_table(year, gemeente).table
    national = None
    if not repository.is_demo_scope(gemeente):
        try:
            national = repository.load_table(year, "alle").table
        except Exception as exc:  # noqa: BLE001 - the comparison is optional
            log.warning("Landelijke vergelijking niet beschikbaar: %s", exc)
    return lokale_kaart.measures(table, gemeente, level, national=national)


def cmd_indices(args) -> int:
    result = indices_for(args.year, args.gemeente, args.level)
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1, default=float))
    else:
        print(lokale_kaart.format_indices(result))
    return 0
