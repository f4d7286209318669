"""``table`` (from the cache or CBS) and ``fetch``: statistics and boundaries through the one
data path, :mod:`loaders.repository`. No plotly, no briefing stack, no Streamlit."""

from __future__ import annotations

from app.cli_common import SOURCE_ERRORS, print_table
from app.cli_output import progress
from buurtmonitor import formatting
from loaders import repository

__all__ = ["SOURCE_ERRORS", "cmd_fetch", "cmd_table"]


def cmd_table(args) -> int:
    table = repository.load_table(args.year, args.gemeente, progress=progress if args.verbose else None).table
    return print_table(table, args)


def cmd_fetch(args) -> int:
    n = formatting.integer
    if args.gemeente == "NL":
        nl = repository.fetch_country_into_cache(args.year, progress=progress)
        print(f"Opgeslagen in de cache: {n(nl.rows)} rijen (alle gebieden), {n(nl.gemeenten)} "
              f"gemeentegrenzen, {n(nl.buurten)} buurtgrenzen ({n(nl.vertices)} punten; voor de "
              f"landelijke kaart {n(nl.vertices_kaart)}); cache nu {formatting.number(nl.cache_bytes / 1e6, 1)} MB.")
        return 0
    got = repository.fetch_into_cache(args.year, args.gemeente, progress=progress)
    print(f"Opgeslagen in de cache: {n(got.rows)} rijen, {n(got.wijken)} wijken, {n(got.buurten)} buurten; "
          f"cache nu {formatting.number(got.cache_bytes / 1e6, 1)} MB.")
    return 0
