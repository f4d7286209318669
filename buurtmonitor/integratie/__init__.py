"""Integratie naar herkomst: indicators by origin group (pure domain).

``catalogue`` reads ``data/origin_tables.toml``; ``harmonise`` maps CBS code lists and rows
(OData v3) or observations (OData v4) to one long frame; ``measures`` computes gaps, trends and
ranks on that frame; ``own_data`` validates a gemeente's own figures by origin group (per
gemeente, wijk and buurt) into the same long frame. No network, no files, no Streamlit: the
loaders live in :mod:`loaders.cbs_origin`, :mod:`loaders.cbs_v4` and :mod:`loaders.own_data`.
"""
