"""Buurtmonitor: domain logic (indicator harmonisation, analysis, charts, exports, CLI)."""

__version__ = "0.1.0"
