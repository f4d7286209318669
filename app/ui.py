"""Shared Streamlit pieces for the pages: the selection (kept across pages and in the URL),
cached loading, the source line, the fictitious-data label, the guidance beside every view
and the table alternative beside every chart. Pages stay thin: layout and widgets only.

User text is always rendered as text (``st.text``/dataframes), never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from buurtmonitor import formatting
from buurtmonitor.catalogue import Catalogue, load_catalogue
from buurtmonitor.exports.tabular import frame_to_csv
from buurtmonitor.harmonise import available_indicators, indicator_frame
from buurtmonitor.model import FICTITIOUS_LABEL, LEVEL_LABELS, MISSING_LABELS, AreaTable
from loaders import cbs, repository

#: selection keys kept in st.session_state (prefix sel_) and in the URL (without prefix)
STATE_KEYS = ("jaar", "gemeente", "niveau", "indicator", "gebied")
LEVEL_CHOICES = {"wijk": "Wijken", "buurt": "Buurten", "gemeente": "Alle gemeenten",
                 "buurt_nl": "Alle buurten van Nederland"}
#: Tables with more rows are shown without the Dutch-formatting Styler (which Streamlit
#: renders cell by cell on every rerun) but with the browser's number format.
STYLE_MAX_ROWS = 2000


@dataclass(frozen=True)
class Selection:
    year: int
    gemeente: str
    gemeente_name: str
    level: str            # wijk | buurt | gemeente (= all gemeenten of NL) | buurt_nl (all buurten of NL)
    indicator: str
    area: str | None      # selected area code


# ------------------------------------------------------------------ cached loading
@st.cache_data(show_spinner=False, max_entries=64)
def load_table(year: int, scope: str, demo: bool = False) -> tuple[AreaTable, str, str | None]:
    """(table, origin, warning) of :func:`loaders.repository.load_table`, cached per session
    data (``demo=True``: the fictitious data of that scope)."""
    got = repository.load_table(year, scope, demo=demo)
    return got.table, got.origin, got.warning


@st.cache_data(show_spinner=False, max_entries=64)
def load_geo(year: int, level: str, gemeente: str | None):
    """(GeoDataFrame prepared for the web, origin, warning). The simplified boundaries are
    computed once and kept in the disk cache (``repository.load_web_boundaries``)."""
    got = repository.load_web_boundaries(year, level, gemeente)
    return got.gdf, got.origin, got.warning


@st.cache_data(show_spinner=False, ttl=300)
def demo_only() -> bool:
    """Whether neither the cache nor CBS can give real data (checked every five minutes)."""
    return repository.demo_mode_only()


@st.cache_data(show_spinner=False, max_entries=16)
def gemeente_options(year: int) -> list[tuple[str, str]]:
    """[(code, name)] to choose from: all gemeenten of the year (real data) or the demo."""
    opts = [(repository.DEMO_GEMEENTE, f"{repository.DEMO_NAME} (fictief)")]
    if demo_only():
        return opts
    try:
        df = repository.gemeenten(year)
    except Exception:  # noqa: BLE001 - CBS down and no national list cached: offer what is cached
        return _cached_gemeenten(year) + opts
    return [(c, n) for c, n in zip(df["code"], df["name"])] + opts


def _cached_gemeenten(year: int) -> list[tuple[str, str]]:
    """[(code, name)] of the gemeenten of ``year`` in the cache (when CBS cannot give the list)."""
    out = []
    try:
        for y, scope in repository.cached_scopes():
            if y != year or not scope.startswith("GM") or repository.is_demo_scope(scope):
                continue
            try:
                row = load_table(year, scope)[0].row(scope)
            except Exception:  # noqa: BLE001 - an unreadable entry is simply not offered
                continue
            out.append((scope, str(row["name"]) if row is not None else scope))
    except Exception:  # noqa: BLE001
        return []
    return sorted(out, key=lambda t: t[1])


@st.cache_data(show_spinner=False, ttl=120)
def cbs_reachable() -> bool:
    """Whether CBS answers now (checked at most every two minutes)."""
    return cbs.is_reachable()


def cache_notice(table: AreaTable, origin: str) -> None:
    """Say where the numbers come from when they come from the cache; warn when CBS is down."""
    if origin != "cache" or table.meta.fictitious:
        return
    when = (table.meta.fetched_at or "")[:10] or "onbekende datum"
    if cbs_reachable():
        st.caption(f"Cijfers uit de lokale cache, opgehaald bij CBS op {when}.")
    else:
        st.warning(f"CBS is nu niet bereikbaar. U ziet de laatst opgehaalde cijfers uit de cache "
                   f"(opgehaald op {when}).", icon=":material/cloud_off:")


# ------------------------------------------------------------------ state + URL
def _default_year(cat: Catalogue) -> int:
    return 2024


def _ensure_entry_point() -> None:
    """Make a deep link on a freshly started server run through ``dashboard.py``.

    Streamlit 1.67 decides per *process* whether the app uses the old ``pages/`` directory
    (MPA v1): because ``pages/`` sits beside ``dashboard.py``, a first visit to e.g.
    ``/kaart`` runs ``pages/kaart.py`` on its own (no ``st.navigation``, no wide layout, a
    menu of file names) until some session has run ``dashboard.py``. Here the page notices
    that and reruns once; the rerun goes through ``dashboard.py`` and its ``st.navigation``,
    which selects the same page from the URL. Never loops: the flag is cleared first.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - other Streamlit versions
        return
    if PagesManager.uses_pages_directory and (Path(__file__).resolve().parents[1] / "dashboard.py").exists():
        PagesManager.uses_pages_directory = False
        st.rerun()


def init_state() -> None:
    """Seed the selection from the URL once per session (deep links restore the view)."""
    _ensure_entry_point()
    if st.session_state.get("_state_init"):
        return
    qp = st.query_params
    for key in STATE_KEYS:
        if key in qp and f"sel_{key}" not in st.session_state:
            st.session_state[f"sel_{key}"] = qp[key]
    st.session_state["_state_init"] = True


def _get(key: str, default=None):
    return st.session_state.get(f"sel_{key}", default)


def set_selection(**values) -> None:
    """Update selection keys (and the URL)."""
    for k, v in values.items():
        st.session_state[f"sel_{k}"] = v
    sync_url()


def sync_url() -> None:
    params = {k: str(_get(k)) for k in STATE_KEYS if _get(k) not in (None, "")}
    for k in list(st.query_params.keys()):
        if k in STATE_KEYS and k not in params:
            del st.query_params[k]
    for k, v in params.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v


def _widget(key: str):
    """on_change: copy the widget value into the persistent selection key."""
    def cb():
        st.session_state[f"sel_{key}"] = st.session_state[f"w_{key}"]
        if key in ("gemeente", "jaar", "niveau"):
            st.session_state["sel_gebied"] = None
        sync_url()
    return cb


def sidebar(*, levels: tuple[str, ...] = ("wijk", "buurt", "gemeente"), indicator: bool = True,
            themes: tuple[str, ...] | None = None) -> Selection:
    """The selection widgets in the sidebar; values survive page switches and live in the URL."""
    cat = load_catalogue()
    init_state()
    sb = st.sidebar
    # year
    years = _year_options(cat, demo_only())
    year = int(_get("jaar") or _default_year(cat))
    if year not in years:
        year = years[0] if 2024 not in years else 2024
    st.session_state["w_jaar"] = year
    year = sb.selectbox("Jaar", years, key="w_jaar", on_change=_widget("jaar"),
                        help="Peiljaar van de Kerncijfers wijken en buurten (CBS).")
    st.session_state["sel_jaar"] = year
    # gemeente
    opts = gemeente_options(year)
    codes = [c for c, _ in opts]
    names = dict(opts)
    gem = _get("gemeente") or ("GM0228" if "GM0228" in codes else codes[0])
    if gem not in codes:
        gem = codes[0]
    st.session_state["w_gemeente"] = gem
    gem = sb.selectbox("Gemeente", codes, key="w_gemeente", format_func=lambda c: f"{names.get(c, c)} ({c})",
                       on_change=_widget("gemeente"))
    st.session_state["sel_gemeente"] = gem
    # level
    lv = _get("niveau") or "wijk"
    if lv not in levels:
        lv = levels[0]
    st.session_state["w_niveau"] = lv
    lv = sb.radio("Niveau", list(levels), key="w_niveau", format_func=lambda v: LEVEL_CHOICES[v],
                  on_change=_widget("niveau"), horizontal=False)
    st.session_state["sel_niveau"] = lv
    ind_id = _get("indicator") or ""
    if indicator:
        scheme = cat.scheme_for_year(year)
        inds = [i for i in cat.indicators_for(scheme) if themes is None or i.theme in themes]
        ids = [i.id for i in inds]
        if ind_id not in ids:
            ind_id = "pct_herkomst_buiten_europa" if "pct_herkomst_buiten_europa" in ids else (
                "pct_niet_westers" if "pct_niet_westers" in ids else ids[0])
        st.session_state["w_indicator"] = ind_id
        ind_id = sb.selectbox("Indicator", ids, key="w_indicator",
                              format_func=lambda i: f"{cat.themes.get(cat.indicators[i].theme, '')}: {cat.indicators[i].label}",
                              on_change=_widget("indicator"))
        st.session_state["sel_indicator"] = ind_id
    area = _get("gebied") or None
    sync_url()
    return Selection(year=int(year), gemeente=gem, gemeente_name=names.get(gem, gem).replace(" (fictief)", ""),
                     level=lv, indicator=ind_id, area=area)


def _year_options(cat: Catalogue, demo: bool) -> list[int]:
    """The years to choose from, newest first: the demo's years in demo mode, else the
    registry's years (2025 only once its table id is known)."""
    if demo:
        return sorted(repository.available_years(repository.DEMO_GEMEENTE), reverse=True)
    t2025 = cat.table_for_year(2025)
    return sorted(set(cat.years) - {2025} | ({2025} if t2025 and t2025.id else set()), reverse=True)


# ------------------------------------------------------------------ common blocks
def fictitious_banner(table: AreaTable) -> None:
    if table.meta.fictitious:
        st.warning(f"**{FICTITIOUS_LABEL}.** Dit is de Voorbeeldgemeente: de cijfers en grenzen zijn "
                   "door Buurtmonitor verzonnen om het dashboard te laten zien zonder verbinding met CBS.",
                   icon="⚠️")


def source_caption(table: AreaTable) -> None:
    st.caption(table.meta.source_line())


def origin_notice(origin: str, warning: str | None) -> None:
    if warning:
        st.warning(warning, icon="📦")


def guidance_panel(view: str, indicator: str | None = None, *, container=None,
                   situations: dict[str, str] | None = None) -> None:
    """The guidance resources that fit this view and indicator, each with why it helps here.

    ``situations``: the situations that hold for what the view shows (id -> the reason in
    words, e.g. from :func:`buurtmonitor.integratie.countries.situations`); a resource tied to
    one of them is shown with that reason."""
    cat = load_catalogue()
    box = container or st
    box.markdown("## Handreikingen bij deze weergave")
    holding = situations or {}
    res = cat.resources_for(view, indicator, holding)
    if not res:
        box.info("Bij deze weergave hoort geen handreiking uit de catalogus.")
        return
    for r in res:
        why = r.why.get(view) or r.description
        with box.container(border=True):
            st.markdown(f"**[{_md_escape(r.title)}]({r.url})**")
            st.caption(f"{r.publisher}{f', {r.year}' if r.year else ''}"
                       f"{' · link naar de pagina van de uitgever' if r.url_is_publisher_page else ''}")
            st.text(why)
            for sid in r.situations:
                if sid in holding:
                    st.text(f"Waarom hier: {holding[sid]}")


def _md_escape(text: str) -> str:
    for ch in "\\`*_{}[]()#+-.!<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def table_alternative(df: pd.DataFrame, filename: str, *, key: str) -> None:
    """The accessible table beside a chart: sortable, downloadable as CSV.

    Numbers are shown the Dutch way (``12.345,6``); the columns stay numeric for sorting. A
    missing value stays empty (never 0); Streamlit's grid shows such a cell as a grey
    ``None`` (it ignores the Styler's ``na_rep`` for missing cells), so say why beside it."""
    config = {c: st.column_config.TextColumn(width="medium") for c in df.columns if c == "Toelichting"}
    if len(df) > STYLE_MAX_ROWS:  # e.g. all buurten of NL: numbers in the browser's (Dutch) format
        config.update({c: st.column_config.NumberColumn(format="localized") for c in df.columns
                       if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])})
        st.dataframe(df, hide_index=True, width="stretch", column_config=config)
        data = lambda: frame_to_csv(df)  # made when clicked, not on every rerun
    else:
        st.dataframe(dutch_style(df), hide_index=True, width="stretch", column_config=config)
        data = frame_to_csv(df)
    st.download_button("Tabel downloaden (CSV)", data, file_name=filename, mime="text/csv", key=key)


def indicator_table(table: AreaTable, indicator_id: str, level: str) -> pd.DataFrame:
    """Readable table of one indicator for the areas of ``level`` (missing shown as reason)."""
    cat = load_catalogue()
    ind = cat.indicators[indicator_id]
    f = indicator_frame(table, indicator_id)
    f = f[f["level"] == level]
    out = pd.DataFrame({
        "Code": f["code"], "Naam": f["name"],
        f"{ind.label} ({ind.unit})": f["value"].round(1),
        "n": f["n"],
        "Toelichting": [MISSING_LABELS.get(m, "") if m else ("klein aantal: onzeker" if s else "")
                        for m, s in zip(f["missing"], f["small_n"])],
    })
    return out


def level_label(level: str) -> str:
    return LEVEL_LABELS.get(level, level)


def indicators_available(table: AreaTable):
    return available_indicators(table)


# ------------------------------------------------------------------ map, resources (kaart/hulpmiddelen)
def md_escape(text: str) -> str:
    """Escape Markdown so text is shown literally (``st.markdown`` never renders user HTML)."""
    return _md_escape(str(text))


def theme_labels() -> dict[str, str]:
    """Every theme id a resource may carry -> Dutch label (from the catalogues)."""
    return load_catalogue().theme_labels


def view_labels() -> dict[str, str]:
    """View id -> menu title, in menu order (``[views]`` of ``data/resources.toml``)."""
    return load_catalogue().views


@st.cache_data(show_spinner=False, max_entries=16)
def load_national(year: int, gemeente: str) -> tuple[AreaTable, str, str | None]:
    """All gemeenten of the year. For the (fictitious) Voorbeeldgemeente: its fictitious
    'country', so real and made-up areas never share one map."""
    return load_table(year, "gemeenten", repository.is_demo_scope(gemeente))


def load_national_buurten(year: int, gemeente: str) -> tuple[AreaTable, str, str | None]:
    """Every area of the country (``scope="alle"``) for the national buurt map, or the demo's
    fictitious 'country' for the Voorbeeldgemeente. Shared (not copied per rerun, unlike
    ``st.cache_data``): read-only."""
    return _national_table(year, repository.is_demo_scope(gemeente))


@st.cache_resource(show_spinner=False, max_entries=4)
def _national_table(year: int, demo: bool) -> tuple[AreaTable, str, str | None]:
    got = repository.load_table(year, "alle", demo=demo)
    return got.table, got.origin, got.warning


def load_error(exc: BaseException, what: str) -> str:
    """A Dutch message for a failed load (the loaders' own messages are Dutch)."""
    if isinstance(exc, repository.DataUnavailable):
        return (f"{what} kunnen nu niet worden opgehaald en staan nog niet in de cache. "
                f"Probeer het later opnieuw, of kies de Voorbeeldgemeente (fictief) om het dashboard "
                f"te bekijken. Details: {exc}")
    if isinstance(exc, (LookupError, ValueError)):
        return f"{what}: {exc}"
    return f"{what} konden niet worden geladen ({type(exc).__name__}: {exc})."


def search_resources(query: str = "", themes: tuple[str, ...] | list[str] = (),
                     views: tuple[str, ...] | list[str] = ()):
    """Resources whose title, description, publisher, themes or situations contain every word
    of ``query`` (:meth:`buurtmonitor.catalogue.Catalogue.search_resources`)."""
    return load_catalogue().search_resources(query, themes, views)


def dutch_style(df: pd.DataFrame):
    """A Styler that shows numeric columns with a decimal comma and thousands dots (whole
    numbers without decimals, 0–1 measures with three), whatever the browser's language. The
    data itself is unchanged (the columns still sort as numbers)."""
    num = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    if not num or df.empty:
        return df
    sty = df.style
    for c in num:
        vals = pd.to_numeric(df[c], errors="coerce").dropna()
        whole = bool(len(vals)) and bool(((vals - vals.round()).abs() < 1e-9).all())
        index_like = bool(len(vals)) and float(vals.abs().max()) <= 1.0  # 0–1 measures: 0,326
        sty = sty.format(lambda v, d=0 if whole else 3 if index_like else 1: formatting.number(v, d), subset=[c])
    return sty
