"""Provenance of a harmonised table by origin (crosses from the loaders to the pages)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from buurtmonitor.model import SOURCE_CBS

API_LABELS = {"v3": "CBS OData v3", "v4": "CBS OData v4"}


@dataclass(frozen=True)
class OriginProvenance:
    """Where a harmonised frame came from.

    ``api`` is the API that served it (``"v3"`` | ``"v4"``); ``fallback`` is a Dutch note when
    it was not the catalogue's first choice (e.g. v3 did not know the table).
    """

    table_id: str
    table_title: str
    api: str
    url: str
    fetched_at: str                # ISO timestamp (UTC)
    scope: str                     # "GM0228" | "gemeenten"
    scheme: str                    # "herkomst" | "migratieachtergrond"
    fallback: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OriginProvenance:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def source_line(self) -> str:
        """``"Bron: CBS, <titel> (85512NED, via CBS OData v3)"``."""
        return f"{SOURCE_CBS}, {self.table_title} ({self.table_id}, via {API_LABELS.get(self.api, self.api)})"
