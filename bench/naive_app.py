"""The naive baseline as a Streamlit page (benchmarks only; see bench/naive.py).

    streamlit run bench/naive_app.py   # ?view=gemeente&gemeente=GM0363 or ?view=nl

Every run fetches the statistics from CBS (``CBS_ODATA_URL``) and the raw buurt GeoJSON from
PDOK (``PDOK_URL``), with all properties and at full precision, and builds a fresh figure:
no cache, no simplification.
"""

from __future__ import annotations

import naive
import streamlit as st

from buurtmonitor.harmonise import indicator_frame
from loaders import cbs, pdok
from loaders.settings import get_settings

YEAR = 2024
INDICATORS = ["pct_herkomst_buiten_europa", "pct_herkomst_europa", "pct_herkomst_nederland"]

view = st.query_params.get("view", "gemeente")
gemeente = st.query_params.get("gemeente", "GM0363")
st.title("Kaart (naïeve basislijn)")
indicator = st.sidebar.selectbox("Indicator", INDICATORS, key="indicator")

s = get_settings()
table = cbs.load(YEAR, "alle" if view == "nl" else gemeente, settings=s)
params = {"f": "json", "limit": pdok.PAGE_SIZE}
if view != "nl":
    params["gemeentecode"] = gemeente
features, _, _ = pdok.fetch_features(pdok._with_query(pdok.items_url(s.pdok_url, YEAR, "buurt"), params), s)
fc = {"type": "FeatureCollection", "features": features}

frame = indicator_frame(table, indicator)
frame = frame[frame["level"] == "buurt"].set_index("code")
codes = [str(f["properties"]["buurtcode"]).strip() for f in features]
rows = frame.reindex(codes)

def first_point(geom: dict) -> list[float]:
    c = geom["coordinates"]
    while isinstance(c[0], list):
        c = c[0]
    return c


pts = [first_point(f["geometry"]) for f in features]
center = {"lon": sum(p[0] for p in pts) / len(pts), "lat": sum(p[1] for p in pts) / len(pts)}
fig = naive.figure(fc, codes, rows["value"].tolist(), rows["name"].fillna("").tolist(),
                   id_key="properties.buurtcode", label=indicator,
                   center=center if view != "nl" else None, zoom=10.5 if view != "nl" else 6.2)
st.plotly_chart(fig, key="kaart")
st.caption(f"{len(features)} buurten; bron: CBS (stand-in), grenzen: PDOK (stand-in)")
