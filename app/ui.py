"""Shared Streamlit pieces for the pages: the selection (kept across pages and in the URL),
cached loading, the source line, the fictitious-data label, the guidance beside every view
and the table alternative beside every chart. Pages stay thin: layout and widgets only.

User text is always rendered as text (``st.text``/dataframes), never as HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from buurtmonitor import formatting
from buurtmonitor.catalogue import Catalogue, load_catalogue
from buurtmonitor.exports.tabular import frame_to_csv
from buurtmonitor.harmonise import available_indicators, indicator_frame
from buurtmonitor.model import FICTITIOUS_LABEL, LEVEL_LABELS, MISSING_LABELS, AreaTable
from loaders import cbs, http, repository, stores

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
def load_table(year: int, scope: str, demo: bool = False) -> tuple[AreaTable, str, str | None]:
    """(table, origin, warning) of :func:`loaders.repository.load_table`, cached per session
    data (``demo=True``: the fictitious data of that scope). The cache entry's checksum is part
    of the key, so a refresh written by another process (a scheduled ``fetch``) is served within
    :data:`loaders.stores.STAMP_MAX_AGE` seconds, without a restart."""
    return _load_table(year, scope, demo, table_stamp(year, scope, demo))


def table_stamp(year: int, scope: str, demo: bool = False) -> str:
    """The checksum of the cached table (``""`` for the demo, which is never cached)."""
    if demo or repository.is_demo_scope(scope):
        return ""
    return stores.entry_stamp(repository.table_key(year, scope))


def geo_stamp(year: int, level: str, gemeente: str | None) -> str:
    """The checksum of the cached boundaries the map of ``level`` is made from (``""`` for the demo)."""
    if repository.is_demo_scope(gemeente):
        return ""
    if level == "buurt_nl":
        level, gemeente = "buurt", None
    return stores.entry_stamp(repository.geo_key(year, level, gemeente if level != "gemeente" else None))


@st.cache_data(show_spinner=False, max_entries=64)
def _load_table(year: int, scope: str, demo: bool, stamp: str) -> tuple[AreaTable, str, str | None]:
    got = repository.load_table(year, scope, demo=demo)
    return got.table, got.origin, got.warning


def load_geo(year: int, level: str, gemeente: str | None):
    """(GeoDataFrame prepared for the web, origin, warning). The simplified boundaries are
    computed once and kept in the cache (``repository.load_web_boundaries``); keyed on the
    checksum of the cached boundaries, as :func:`load_table`."""
    return _load_geo(year, level, gemeente, geo_stamp(year, level, gemeente))


@st.cache_data(show_spinner=False, max_entries=64)
def _load_geo(year: int, level: str, gemeente: str | None, stamp: str):
    got = repository.load_web_boundaries(year, level, gemeente)
    got.gdf.attrs["provenance"] = got.meta  # the boundaries' own year (MapGeometry.year)
    return got.gdf, got.origin, got.warning


@st.cache_data(show_spinner=False, ttl=300)
def demo_only() -> bool:
    """Whether neither the cache nor CBS can give real data (checked every five minutes)."""
    return repository.demo_mode_only()


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
#: what a page shows when nothing (or nothing valid) was asked for
DEFAULT_YEAR = 2024
DEFAULT_GEMEENTE = "GM0228"
DEFAULT_INDICATORS = ("pct_herkomst_buiten_europa", "pct_niet_westers")
#: the levels in words, for the notices ("getoond worden de wijken")
LEVEL_WORDS = {"wijk": "wijken", "buurt": "buurten", "gemeente": "alle gemeenten",
               "buurt_nl": "alle buurten van Nederland"}
#: {"sig": the selection the notices describe, "msgs": {key: Dutch line}}
NOTICES = "_sel_notices"
NOTICE_BOX = "_notice_box"
#: the view settings of the link the session opened with, until a page takes them: {param: text}
LINK = "_link_view"
#: a value from the URL is quoted in a notice up to this many characters
LINK_TEXT_MAX = 40
_GEM_CODE = re.compile(r"GM\d{4}")
_AREA_CODE = re.compile(r"WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4}")  # Amsterdam: WK0363AA


def _default_year(cat: Catalogue) -> int:
    return DEFAULT_YEAR


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
    """Seed the selection from the URL once per session (deep links restore the view). The
    values are checked by :func:`sidebar` (or :func:`check_link`), not here."""
    _ensure_entry_point()
    if st.session_state.get("_state_init"):
        return
    qp = st.query_params
    for key in STATE_KEYS:
        if key in qp and f"sel_{key}" not in st.session_state:
            st.session_state[f"sel_{key}"] = qp[key]
    # the link the session opened with: the pages' own view settings (view_param) come from it
    st.session_state[LINK] = {k: qp[k] for k in qp.keys() if k not in STATE_KEYS}
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


def quoted(value) -> str:
    """A value from the URL as a notice shows it: quoted, at most :data:`LINK_TEXT_MAX`
    characters, Markdown escaped (``<script>`` appears literally, never as HTML)."""
    text = " ".join(str(value).split())
    if len(text) > LINK_TEXT_MAX:
        text = text[:LINK_TEXT_MAX] + "…"
    return f"‘{_md_escape(text)}’"


def _resolve_year(raw, years: list[int]) -> tuple[int, str | None]:
    """(year shown, notice): the asked year when it can be chosen, else the default with why."""
    default = DEFAULT_YEAR if DEFAULT_YEAR in years else years[0]
    if raw in (None, ""):
        return default, None
    try:
        year = int(str(raw).strip())
    except ValueError:
        return default, f"Het jaar {quoted(raw)} in de link is geen jaartal; getoond wordt {default}."
    if year in years:
        return year, None
    return default, (f"Voor {quoted(raw)} zijn er geen Kerncijfers wijken en buurten in de Buurtmonitor "
                     f"(te kiezen: {min(years)} tot en met {max(years)}); getoond wordt {default}.")


def _gemeente_list(year: int) -> tuple[list[tuple[str, str]], bool]:
    """([(code, name)], complete): every gemeente of the year plus the demo; ``complete`` is
    False when the year's list could not be loaded (only what is cached, or only the demo)."""
    return _gemeente_list_at(year, table_stamp(year, "gemeenten"))


@st.cache_data(show_spinner=False, max_entries=16)
def _gemeente_list_at(year: int, stamp: str) -> tuple[list[tuple[str, str]], bool]:
    opts = [(repository.DEMO_GEMEENTE, f"{repository.DEMO_NAME} (fictief)")]
    if demo_only():
        return opts, False
    try:
        df = repository.gemeenten(year)
    except Exception:  # noqa: BLE001 - CBS down or no table for the year: offer what is cached
        return _cached_gemeenten(year) + opts, False
    return [(c, n) for c, n in zip(df["code"], df["name"])] + opts, True


def gemeente_options(year: int) -> list[tuple[str, str]]:
    """[(code, name)] to choose from: all gemeenten of the year (real data) or the demo."""
    return _gemeente_list(year)[0]


def _gemeente_name(code: str, year: int, names: dict[str, str]) -> str:
    """The name of ``code``: from the year's list, else from the default year's list or the
    names seen earlier in the session, else the code itself."""
    if code in names:
        return names[code]
    known = st.session_state.get("_gemeente_names", {})
    if code not in known and year != DEFAULT_YEAR:
        known = {**dict(_gemeente_list(DEFAULT_YEAR)[0]), **known}
    return known.get(code, code)


def _resolve_gemeente(raw, year: int, opts: list[tuple[str, str]], complete: bool) -> tuple[str, str | None]:
    """(gemeente shown, notice). A real gemeente the user asked for is kept when the year's
    list could not be loaded (the page then says why there are no figures); the demo is
    the default only when nothing else exists."""
    codes = [c for c, _ in opts]
    real = [c for c in codes if not repository.is_demo_scope(c)]
    if DEFAULT_GEMEENTE in codes:
        default = DEFAULT_GEMEENTE
    elif real:
        default = real[0]
    elif not demo_only():        # CBS answers but the year's list is missing: keep the default
        default = DEFAULT_GEMEENTE
    else:                        # no CBS and nothing cached: the demo is all there is
        default = repository.DEMO_GEMEENTE
    if raw in (None, ""):
        return default, None
    code = str(raw).strip().upper()
    if code in codes:
        return code, None
    if not complete and _GEM_CODE.fullmatch(code) and not repository.is_demo_scope(code):
        return code, None
    name = _gemeente_name(default, year, dict(opts))
    if repository.is_demo_scope(default):
        name = f"de fictieve {name.replace(' (fictief)', '')}"
    return default, (f"De gemeente {quoted(raw)} bestaat niet in {year}; getoond wordt {_md_escape(name)} "
                     f"({default}).")


def _resolve_level(raw, levels: tuple[str, ...]) -> tuple[str, str | None]:
    default = "wijk" if "wijk" in levels else levels[0]
    if raw in (None, ""):
        return default, None
    level = str(raw).strip().lower()
    if level in levels:
        return level, None
    if level in LEVEL_CHOICES:
        return default, (f"Op deze pagina kunt u niet kiezen voor ‘{LEVEL_CHOICES[level]}’; getoond "
                         f"worden de {LEVEL_WORDS[default]}.")
    return default, f"Het niveau {quoted(raw)} bestaat niet; getoond worden de {LEVEL_WORDS[default]}."


def _resolve_indicator(raw, ids: list[str], year: int, cat: Catalogue) -> tuple[str, str | None]:
    """(indicator shown, notice): an unknown id, one of another year's indeling (e.g.
    migratieachtergrond in 2024) or one this page does not offer is named."""
    default = next((i for i in DEFAULT_INDICATORS if i in ids), ids[0])
    if raw in (None, ""):
        return default, None
    ind = str(raw).strip()
    if ind in ids:
        return ind, None
    shown = _md_escape(cat.indicators[default].label)
    if ind in cat.indicators:
        asked = _md_escape(cat.indicators[ind].label)
        if not cat.indicators[ind].applies_to(cat.scheme_for_year(year)):
            return default, f"De indicator ‘{asked}’ is er niet voor {year}; getoond wordt {shown}."
        return default, f"De indicator ‘{asked}’ staat niet op deze pagina; getoond wordt {shown}."
    return default, f"De indicator {quoted(raw)} bestaat niet; getoond wordt {shown}."


def _area_fits(code: str, gemeente: str, level: str) -> bool:
    """Whether ``code`` can be an area of ``gemeente`` at ``level`` (its form; whether it
    exists is checked by the page against its table: :func:`known_area`)."""
    if level == "gemeente":
        return bool(_GEM_CODE.fullmatch(code))
    if level == "buurt_nl":
        return code.startswith("BU") and bool(_AREA_CODE.fullmatch(code))
    return code == gemeente or (bool(_AREA_CODE.fullmatch(code)) and code[2:6] == gemeente[2:6])


def _resolve_area(raw, gemeente: str, gemeente_name: str, level: str) -> tuple[str | None, str | None]:
    if raw in (None, ""):
        return None, None
    code = str(raw).strip().upper()
    if _area_fits(code, gemeente, level):
        return code, None
    where = "Nederland" if level in ("gemeente", "buurt_nl") else _md_escape(gemeente_name)
    return None, f"Het gebied {quoted(raw)} bestaat niet in {where}; er is geen gebied gekozen."


def _notice_box():
    """The place at the top of the page where the notices go (made once per run)."""
    box = st.container()
    st.session_state[NOTICE_BOX] = box
    return box


def _show_notices(sig: dict, new: dict[str, str]) -> None:
    """Show the notices of this selection: the new ones, and the earlier ones as long as the
    selection they describe stands (a change by the user ends them)."""
    prev = st.session_state.get(NOTICES)
    msgs = dict(prev["msgs"]) if prev and prev["sig"] == sig else {}
    msgs.update({k: v for k, v in new.items() if v})
    st.session_state[NOTICES] = {"sig": sig, "msgs": msgs}
    box = st.session_state.get(NOTICE_BOX) or st
    for msg in msgs.values():
        box.warning(msg, icon=":material/link_off:")


def add_notice(key: str, msg: str, **changed) -> None:
    """A notice found by the page after the sidebar (e.g. an unknown area, a view setting),
    shown at the top with the others; ``changed`` are the selection keys it replaced (their
    new values), so the notice stays while the selection stands."""
    note = st.session_state.get(NOTICES) or {"sig": {}, "msgs": {}}
    note = {"sig": {**note["sig"], **changed}, "msgs": {**note["msgs"], key: msg}}
    st.session_state[NOTICES] = note
    box = st.session_state.get(NOTICE_BOX) or st
    box.warning(msg, icon=":material/link_off:")


def known_area(sel: Selection, codes, among: str) -> str | None:
    """``sel.area`` when it is one of ``codes`` (the areas the page shows); otherwise say so,
    take it out of the selection and the URL, and return None."""
    if not sel.area or sel.area in set(codes):
        return sel.area
    st.session_state["sel_gebied"] = None
    sync_url()
    add_notice("gebied", f"Het gebied {quoted(sel.area)} komt niet voor in {among}; er is geen gebied "
                         f"gekozen.", gebied=None)
    return None


def sidebar(*, levels: tuple[str, ...] = ("wijk", "buurt", "gemeente"), indicator: bool = True,
            themes: tuple[str, ...] | None = None) -> Selection:
    """The selection widgets in the sidebar; values survive page switches and live in the URL.

    A value that cannot be shown (from the URL, or not offered on this page or in this year)
    is replaced by the default, and a Dutch line at the top of the page says what was asked
    and what is shown instead; the URL then carries what is shown."""
    cat = load_catalogue()
    init_state()
    _notice_box()
    sb = st.sidebar
    notices: dict[str, str | None] = {}
    # year
    years = _year_options(cat, demo_only())
    year, notices["jaar"] = _resolve_year(_get("jaar"), years)
    st.session_state["w_jaar"] = year
    year = sb.selectbox("Jaar", years, key="w_jaar", on_change=_widget("jaar"),
                        help="Peiljaar van de Kerncijfers wijken en buurten (CBS).")
    st.session_state["sel_jaar"] = year
    # gemeente: a real one the user chose is never replaced by the demo
    opts, complete = _gemeente_list(year)
    if complete:
        st.session_state["_gemeente_names"] = {**st.session_state.get("_gemeente_names", {}), **dict(opts)}
    gem, notices["gemeente"] = _resolve_gemeente(_get("gemeente"), year, opts, complete)
    codes = [c for c, _ in opts]
    names = dict(opts)
    if gem not in codes:
        names[gem] = _gemeente_name(gem, year, names)
        codes = [gem] + codes
    st.session_state["w_gemeente"] = gem
    gem = sb.selectbox("Gemeente", codes, key="w_gemeente", format_func=lambda c: f"{names.get(c, c)} ({c})",
                       on_change=_widget("gemeente"))
    st.session_state["sel_gemeente"] = gem
    gemeente_name = names.get(gem, gem).replace(" (fictief)", "")
    # level
    lv, notices["niveau"] = _resolve_level(_get("niveau"), levels)
    st.session_state["w_niveau"] = lv
    lv = sb.radio("Niveau", list(levels), key="w_niveau", format_func=lambda v: LEVEL_CHOICES[v],
                  on_change=_widget("niveau"), horizontal=False)
    st.session_state["sel_niveau"] = lv
    ind_id = _get("indicator") or ""
    if indicator:
        scheme = cat.scheme_for_year(year)
        inds = [i for i in cat.indicators_for(scheme) if themes is None or i.theme in themes]
        ids = [i.id for i in inds]
        ind_id, notices["indicator"] = _resolve_indicator(ind_id, ids, year, cat)
        st.session_state["w_indicator"] = ind_id
        with_data = indicators_with_data(year, gem)  # None: not known (the table cannot be loaded)

        def ind_label(i: str) -> str:
            text = f"{cat.themes.get(cat.indicators[i].theme, '')}: {cat.indicators[i].label}"
            return text if with_data is None or i in with_data else f"{text} (geen cijfers in {year})"

        ind_id = sb.selectbox("Indicator", ids, key="w_indicator", format_func=ind_label,
                              on_change=_widget("indicator"),
                              help=f"Indicatoren waarvoor CBS in {year} geen cijfers heeft, staan er met "
                                   f"‘geen cijfers in {year}’ bij.")
        st.session_state["sel_indicator"] = ind_id
        if with_data is not None and ind_id not in with_data:
            _empty_indicator_notice(cat, ind_id, year, gem, years)
    elif ind_id and ind_id not in cat.indicators:
        notices["indicator"] = f"De indicator {quoted(ind_id)} bestaat niet; hij is uit de link gehaald."
        ind_id = ""
        st.session_state["sel_indicator"] = None
    area, notices["gebied"] = _resolve_area(_get("gebied"), gem, gemeente_name, lv)
    st.session_state["sel_gebied"] = area
    sync_url()
    sig = {"jaar": year, "gemeente": gem, "niveau": lv, "indicator": ind_id, "gebied": area,
           "page": (levels, indicator, themes)}
    _show_notices(sig, {k: v for k, v in notices.items() if v})
    return Selection(year=int(year), gemeente=gem, gemeente_name=gemeente_name,
                     level=lv, indicator=ind_id, area=area)


def _table_loadable(year: int, gemeente: str) -> bool:
    """Whether the table of ``year`` can be asked for without waiting on a source that does not
    answer: the demo, a cached table, or CBS reachable (and the year not failed before)."""
    if repository.is_demo_scope(gemeente):
        return True
    if (year, gemeente) in st.session_state.get("_years_failed", set()):
        return False
    return (year, gemeente) in set(repository.cached_scopes()) or cbs_reachable()


def indicators_with_data(year: int, gemeente: str) -> set[str] | None:
    """The ids of the indicators with at least one value in the gemeente's table of ``year``
    (CBS leaves some empty in a first release, e.g. income in KWB 2024); None when the table
    cannot be loaded (the page says why)."""
    if not _table_loadable(year, gemeente):
        return None
    try:
        table = load_table(year, gemeente)[0]
    except Exception:  # noqa: BLE001 - the page shows the error; the list stays plain
        st.session_state.setdefault("_years_failed", set()).add((year, gemeente))
        return None
    return {i.id for i in available_indicators(table)}


def latest_year_with(indicator: str, gemeente: str, years: list[int], cat: Catalogue) -> int | None:
    """The newest of ``years`` in which ``indicator`` has figures for ``gemeente`` (only years
    whose origin classification has the indicator, and whose table can be loaded)."""
    for y in sorted(years, reverse=True):
        if cat.indicators[indicator].applies_to(cat.scheme_for_year(y)):
            got = indicators_with_data(y, gemeente)
            if got is not None and indicator in got:
                return y
    return None


def _empty_indicator_notice(cat: Catalogue, ind_id: str, year: int, gemeente: str, years: list[int]) -> None:
    """One Dutch line at the top: the chosen indicator has no figures in this year; with the
    newest year that has them and a button to go there."""
    label = _md_escape(cat.indicators[ind_id].label)
    latest = latest_year_with(ind_id, gemeente, [y for y in years if y != year], cat)
    box = st.session_state.get(NOTICE_BOX) or st
    if latest is None:
        box.info(f"Voor {year} heeft CBS (nog) geen cijfers over ‘{label}’; ook in de andere jaren die nu te "
                 f"laden zijn, staan ze er niet. Kies een andere indicator.", icon=":material/info:")
        return
    box.info(f"Voor {year} heeft CBS (nog) geen cijfers over ‘{label}’. Het laatste jaar met cijfers is "
             f"{latest}.", icon=":material/info:")
    if box.button(f"Toon {latest}", key="indicator_naar_jaar"):
        set_selection(jaar=latest, gebied=None)
        st.rerun()


def check_link() -> None:
    """For a page without the selection widgets: check the selection the URL brings along
    (as :func:`sidebar` would), say in Dutch what cannot be used, and keep the rest."""
    cat = load_catalogue()
    init_state()
    _notice_box()
    notices: dict[str, str | None] = {}
    year = None
    if _get("jaar") not in (None, ""):
        year, notices["jaar"] = _resolve_year(_get("jaar"), _year_options(cat, demo_only()))
        st.session_state["sel_jaar"] = year
    opts, complete = _gemeente_list(year or DEFAULT_YEAR)
    gem, notices["gemeente"] = _resolve_gemeente(_get("gemeente"), year or DEFAULT_YEAR, opts, complete)
    if _get("gemeente") not in (None, ""):
        st.session_state["sel_gemeente"] = gem
    lv = _get("niveau")
    if lv not in (None, ""):
        lv, notices["niveau"] = _resolve_level(lv, tuple(LEVEL_CHOICES))
        st.session_state["sel_niveau"] = lv
    ind = _get("indicator")
    if ind not in (None, "") and str(ind).strip() not in cat.indicators:
        notices["indicator"] = f"De indicator {quoted(ind)} bestaat niet; hij is uit de link gehaald."
        st.session_state["sel_indicator"] = None
    area = _get("gebied")
    if area not in (None, ""):
        name = _gemeente_name(gem, year or DEFAULT_YEAR, dict(opts)).replace(" (fictief)", "")
        area, notices["gebied"] = _resolve_area(area, gem, name, lv or "wijk")
        st.session_state["sel_gebied"] = area
    sync_url()
    _show_notices({k: _get(k) for k in STATE_KEYS} | {"page": "zonder selectie"},
                  {k: v for k, v in notices.items() if v})


# ------------------------------------------------------------------ view settings in the URL
def view_param(key: str, param: str, allowed, default, *, what: str, parse=str, encode=str,
               label=str) -> None:
    """Keep a page's own view setting (the widget ``key``) in the URL as ``param``, so that a
    link restores the view exactly; call it just before the widget is made, without a
    ``value``/``index`` for the widget (its value comes from here).

    The link the session opened with gives the value, once (``parse`` turns the text into
    a value; ``allowed`` is a collection or a predicate); a value that cannot be used is
    replaced by the current one, with a Dutch notice naming ``what`` it was for. The value
    survives a visit to another page. The URL leaves out the ``default``."""
    ok = allowed if callable(allowed) else (lambda v: v in allowed)
    keep = f"view_{key}"
    if key not in st.session_state:
        raw = st.session_state.get(LINK, {}).pop(param, None)
        if raw not in (None, ""):
            try:
                value = parse(str(raw).strip())
            except (KeyError, TypeError, ValueError):
                value = None
            if value is not None and ok(value):
                st.session_state[keep] = value
            else:
                current = st.session_state.get(keep, default)
                add_notice(f"view:{param}", f"{what} {quoted(raw)} uit de link kan hier niet; getoond "
                                            f"wordt {_md_escape(label(current))}.")
        value = st.session_state.get(keep, default)
        st.session_state[key] = value if ok(value) else default
    value = st.session_state[key]
    if not ok(value):
        value = st.session_state[key] = default
    st.session_state[keep] = value
    if value == default:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != encode(value):
        st.query_params[param] = encode(value)


def parse_number(text: str) -> float:
    """A number from the URL: ``2.5`` or ``2,5``."""
    return float(text.replace(",", "."))


def encode_number(value) -> str:
    """A number for the URL (not for reading: a point, no trailing zeros)."""
    return f"{float(value):g}"


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
                   "door Buurtmonitor verzonnen om te laten zien hoe het dashboard werkt; ze zeggen niets "
                   "over een echte gemeente.", icon="⚠️")


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
            st.caption(f"{r.publisher}{f', {r.year}' if r.year else ''} · {r.link_note}")
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
    missing value is shown as "–" (never 0; a column with missing values is shown as text, the
    CSV keeps the numbers), and the reason stands beside it."""
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


def load_national(year: int, gemeente: str) -> tuple[AreaTable, str, str | None]:
    """All gemeenten of the year. For the (fictitious) Voorbeeldgemeente: its fictitious
    'country', so real and made-up areas never share one map."""
    return load_table(year, "gemeenten", repository.is_demo_scope(gemeente))


def load_national_buurten(year: int, gemeente: str) -> tuple[AreaTable, str, str | None]:
    """Every area of the country (``scope="alle"``) for the national buurt map, or the demo's
    fictitious 'country' for the Voorbeeldgemeente. Shared (not copied per rerun, unlike
    ``st.cache_data``): read-only."""
    demo = repository.is_demo_scope(gemeente)
    return _national_table(year, demo, table_stamp(year, "alle", demo))


@st.cache_resource(show_spinner=False, max_entries=4)
def _national_table(year: int, demo: bool, stamp: str) -> tuple[AreaTable, str, str | None]:
    got = repository.load_table(year, "alle", demo=demo)
    return got.table, got.origin, got.warning


def table_missing(exc: BaseException) -> bool:
    """Whether a failed load means: the source answered, but has no such table (HTTP 404),
    as opposed to a source that cannot be reached."""
    seen: set[int] = set()
    x: BaseException | None = exc
    while x is not None and id(x) not in seen:
        seen.add(id(x))
        if isinstance(x, http.NotFound) or getattr(getattr(x, "response", None), "status_code", None) == 404:
            return True
        x = x.__cause__ or x.__context__
    return False


def load_error(exc: BaseException, what: str) -> str:
    """A Dutch line for a failed load of ``what`` (e.g. "De cijfers van Ede voor 2022"): it
    tells a missing table (CBS answered) from CBS that cannot be reached. The technical
    detail is for :func:`show_load_error`'s details panel, not for this line."""
    if isinstance(exc, repository.DataUnavailable):
        if table_missing(exc):
            return (f"{what} zijn er niet: CBS is bereikbaar, maar levert de tabel van dat jaar niet. "
                    f"Kies een ander jaar; de gekozen gemeente blijft staan.")
        if cbs_reachable():
            return (f"{what} konden niet worden opgehaald: CBS gaf een fout, en ze staan nog niet in de "
                    f"cache. Probeer het later opnieuw, of kies een ander jaar.")
        return (f"{what} kunnen nu niet worden opgehaald: er is geen verbinding met CBS en ze staan nog "
                f"niet in de cache. Probeer het later opnieuw, of kies de Voorbeeldgemeente (fictief) "
                f"om het dashboard te bekijken.")
    if isinstance(exc, (LookupError, ValueError)):
        return f"{what}: {exc}"
    return f"{what} konden niet worden geladen ({type(exc).__name__})."


#: why a year could not be loaded, in words an official understands (see :func:`failure_kind`)
FAILURE_REASONS = {
    "niet_gepubliceerd": "CBS heeft de Kerncijfers wijken en buurten van {jaren} (nog) niet gepubliceerd.",
    "geen_tabel": "CBS is bereikbaar, maar levert de tabel van {jaren} niet.",
    "geen_verbinding": "CBS is nu niet bereikbaar en de cijfers van {jaren} staan nog niet in de cache; "
                       "probeer het later opnieuw.",
    "fout": "De cijfers van {jaren} konden niet worden geladen; probeer het later opnieuw.",
}


def failure_kind(exc: BaseException) -> str:
    """Why a load failed, as a key of :data:`FAILURE_REASONS`: no table known for the year,
    a table CBS does not deliver (404), no connection, or another error."""
    if isinstance(exc, cbs.UnknownYear) or isinstance(exc.__cause__, cbs.UnknownYear):
        return "niet_gepubliceerd"
    if table_missing(exc):
        return "geen_tabel"
    if isinstance(exc, repository.DataUnavailable) and not cbs_reachable():
        return "geen_verbinding"
    return "fout"


def show_load_error(exc: BaseException, what: str) -> None:
    """The Dutch line of :func:`load_error`, with the technical detail in a closed panel."""
    st.error(load_error(exc, what), icon=":material/error:")
    with st.expander("Technische details"):
        st.text(str(exc))


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
    shown = df.copy()
    plain = []
    for c in num:
        vals = pd.to_numeric(df[c], errors="coerce").dropna()
        whole = bool(len(vals)) and bool(((vals - vals.round()).abs() < 1e-9).all())
        index_like = bool(len(vals)) and float(vals.abs().max()) <= 1.0  # 0–1 measures: 0,326
        d = 0 if whole else 3 if index_like else 1
        if df[c].isna().any():
            # Streamlit's grid writes an English "None" in a missing cell whatever the Styler says:
            # such a column is shown as Dutch text with "–" (the CSV keeps the numbers)
            shown[c] = [formatting.number(v, d) for v in df[c]]
        else:
            plain.append((c, d))
    sty = shown.style
    for c, d in plain:
        sty = sty.format(lambda v, d=d: formatting.number(v, d), subset=[c])
    return sty
