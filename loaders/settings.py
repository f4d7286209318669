"""One settings module: every endpoint, folder and network knob, read from the environment.

Environment variables (documented in README):

``CBS_ODATA_URL``          base URL of the CBS OData service (default ``https://opendata.cbs.nl``)
``CBS_ODATA4_URL``         base URL of the CBS OData v4 service (default ``https://datasets.cbs.nl/odata/v1``)
``PDOK_URL``               base URL of PDOK (default ``https://api.pdok.nl``)
``BUURTMONITOR_CACHE_DIR`` cache folder (default ``data/cache`` in the project)
``BUURTMONITOR_DATA_DIR``  folder for the notes database (default ``data/``)
``BUURTMONITOR_TIMEOUT``   read timeout in seconds for one HTTP request (default 30)
``BUURTMONITOR_RETRIES``   retries per request after a reset, timeout, 429, 5xx or truncated answer (default 4)
``BUURTMONITOR_OFFLINE``   ``1`` = never go to the network; use the cache and the demo only
``BUURTMONITOR_DATABASE_URL`` ``postgresql://…``: notes and cache in PostgreSQL (a team deployment);
                           unset = SQLite notes and the Parquet cache folder (the embedded default)
``BUURTMONITOR_PDOK_CONCURRENCY`` PDOK requests at the same time for a national layer (default 4, 1-8)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = PROJECT_DIR / "data"

DEFAULT_CBS_ODATA_URL = "https://opendata.cbs.nl"
DEFAULT_CBS_ODATA4_URL = "https://datasets.cbs.nl/odata/v1"
DEFAULT_PDOK_URL = "https://api.pdok.nl"


@dataclass(frozen=True)
class Settings:
    """A snapshot of the configuration. Call :func:`get_settings` for the current one."""

    cbs_odata_url: str
    pdok_url: str
    cache_dir: Path
    data_dir: Path
    timeout: float
    connect_timeout: float
    retries: int
    backoff: float
    offline: bool
    cbs_odata4_url: str = DEFAULT_CBS_ODATA4_URL
    roles_file: Path | None = None       # who has which role per gemeente (login deployments)
    database_url: str | None = None      # PostgreSQL for notes and cache (None: SQLite + Parquet)
    pdok_concurrency: int = 4            # PDOK pages of a national layer fetched at the same time

    @property
    def cbs_scheme_and_host(self) -> tuple[bool, str]:
        """(use_https, host[:port][/path]) as cbsodata wants them."""
        parts = urlsplit(self.cbs_odata_url)
        host = (parts.netloc + parts.path).rstrip("/")
        return parts.scheme == "https", host

    @property
    def is_default_cbs(self) -> bool:
        return self.cbs_odata_url.rstrip("/") == DEFAULT_CBS_ODATA_URL


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def get_settings() -> Settings:
    """Read the settings from the environment (cheap; called where needed, never cached
    globally, so tests can point the app at a stand-in server by setting env vars)."""
    cache = os.environ.get("BUURTMONITOR_CACHE_DIR") or str(PROJECT_DIR / "data" / "cache")
    data = os.environ.get("BUURTMONITOR_DATA_DIR") or str(PROJECT_DIR / "data")
    return Settings(
        cbs_odata_url=(os.environ.get("CBS_ODATA_URL") or DEFAULT_CBS_ODATA_URL).rstrip("/"),
        pdok_url=(os.environ.get("PDOK_URL") or DEFAULT_PDOK_URL).rstrip("/"),
        cache_dir=Path(cache),
        data_dir=Path(data),
        timeout=_float("BUURTMONITOR_TIMEOUT", 30.0),
        connect_timeout=min(_float("BUURTMONITOR_TIMEOUT", 30.0), 5.0),
        retries=int(_float("BUURTMONITOR_RETRIES", 4)),
        backoff=_float("BUURTMONITOR_BACKOFF", 0.5),
        offline=os.environ.get("BUURTMONITOR_OFFLINE", "") in ("1", "true", "yes"),
        cbs_odata4_url=(os.environ.get("CBS_ODATA4_URL") or DEFAULT_CBS_ODATA4_URL).rstrip("/"),
        roles_file=Path(os.environ["BUURTMONITOR_ROLES_FILE"]) if os.environ.get("BUURTMONITOR_ROLES_FILE") else None,
        database_url=os.environ.get("BUURTMONITOR_DATABASE_URL", "").strip() or None,
        pdok_concurrency=max(1, min(8, int(_float("BUURTMONITOR_PDOK_CONCURRENCY", 4)))),
    )
