"""Where the real CBS/PDOK extracts live: the folder ``shared/data`` beside the repository
(``<repo>/../shared/data``), or ``$BUURTMONITOR_SHARED_DATA``. They are not part of the
repository; tests that need them skip when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "BUURTMONITOR_SHARED_DATA"
#: set to 1 (``.ci/run`` does) to fail instead of skip when an extract is missing
REQUIRE_VAR = "BUURTMONITOR_REQUIRE_SHARED"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"


def shared_data_dir() -> Path:
    """The shared data folder (env var first; read at call time)."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_SHARED_DATA


SHARED_DATA = shared_data_dir()


def missing_shared(*relpaths: str) -> list[str]:
    """The relative paths (or the folder itself) that are missing."""
    base = shared_data_dir()
    if not base.is_dir():
        return [str(base)]
    return [r for r in relpaths if not (base / r).exists()]


def has_shared(*relpaths: str) -> bool:
    return not missing_shared(*relpaths)


def require_shared(*relpaths: str) -> Path:
    """Return the shared data folder, or skip the calling test when it (or one of
    ``relpaths`` inside it) is missing."""
    missing = missing_shared(*relpaths)
    if missing:
        import pytest

        if os.environ.get(REQUIRE_VAR) == "1":  # CI: the extracts are always there
            pytest.fail(f"gedeelde extracten ontbreken: {', '.join(missing)}", pytrace=False)
        pytest.skip(
            f"../shared/data ontbreekt: {', '.join(missing)} "
            f"(real CBS extracts are not part of the repository; set {ENV_VAR} to point elsewhere)"
        )
    return shared_data_dir()
