"""Buurtmonitor: the pure domain (model, catalogue, harmonisation, analysis, maps, charts,
exports as bytes). No Streamlit, no network, no file writes: those live in :mod:`loaders`
(I/O) and :mod:`app` (Streamlit pieces and the command line)."""

__version__ = "0.1.0"
