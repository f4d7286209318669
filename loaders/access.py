"""The roles file of a login deployment (``BUURTMONITOR_ROLES_FILE``): read, check, reread when it
changes. The rules themselves are in :mod:`buurtmonitor.access`."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

from buurtmonitor.access import AccessPolicy, RolesError, parse_policy

from .settings import Settings, get_settings

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], AccessPolicy]] = {}
#: a roles file larger than this is refused (a roles file is a few kB)
MAX_BYTES = 1_000_000


def load_policy(settings: Settings | None = None) -> AccessPolicy:
    """The access policy of this installation.

    Without a roles file: no grants, only the groups claim (``buurtmonitor:GM0228:lezer``).
    The file is read again when its size or modification time changes, so a change needs no
    restart.

    Raises
    ------
    RolesError
        The file is missing, too large, no valid TOML, or has a wrong grant (Dutch message).
    """
    s = settings or get_settings()
    if s.roles_file is None:
        return AccessPolicy()
    path = s.roles_file
    try:
        st = path.stat()
    except OSError as exc:
        raise RolesError(f"Het rollenbestand {path.name} kan niet worden gelezen ({exc.strerror}).") from exc
    stamp = (st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _cache.get(path)
        if hit and hit[0] == stamp:
            return hit[1]
    if st.st_size > MAX_BYTES:
        raise RolesError(f"Het rollenbestand {path.name} is groter dan {MAX_BYTES // 1000} kB.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RolesError(f"Het rollenbestand {path.name} kan niet worden gelezen: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RolesError(f"Het rollenbestand {path.name} is geen geldige TOML: {exc}") from exc
    policy = parse_policy(raw)
    with _lock:
        _cache[path] = (stamp, policy)
    return policy
