"""The Herkomstlanden section of the Integratie page: the largest countries of origin of a
gemeente, born in NL vs abroad, change per year, and the guidance tied to a country of origin
being a group there (the Eritrese-nieuwkomers handreiking).

One public function, :func:`render_herkomstlanden`; the figures come from
:mod:`buurtmonitor.integratie.countries` on CBS table 85458NED as
:func:`loaders.cbs_origin.load_origin_table` gives it (cache, then CBS OData v3/v4). Text from
CBS and from the URL is shown as text (``st.text``, escaped Markdown), never as HTML; a load
that fails gives a Dutch message, never a traceback.
"""

from __future__ import annotations

import streamlit as st

from app import ui
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.exports.tabular import frame_to_csv
from buurtmonitor.integratie import countries
from buurtmonitor.integratie.harmonise import ResolveError
from loaders import repository
from loaders.cbs_origin import LoadedOrigin, load_origin_table
from loaders.http import NotFound, SourceUnavailable

VIEW = "integratie"
#: the country whose handreiking this section ties to the group (see data/resources.toml)
GUIDANCE_COUNTRY = "eritrea"
TOP = 10
DEMO_LINE = ("Voor de fictieve Voorbeeldgemeente bestaan geen cijfers per herkomstland: CBS publiceert die "
             "(tabel 85458NED) alleen voor echte gemeenten. Kies een echte gemeente om deze weergave te zien.")
NO_DETAIL_LINE = ("Let op: de geladen cijfers van CBS-tabel 85458NED zijn voor deze gemeente niet uitgesplitst "
                  "naar herkomstland, alleen naar herkomst Nederland en buiten Nederland. Daarom staan hieronder "
                  "die twee groepen in plaats van de grootste herkomstlanden.")
NEWCOMERS_LINE = ("De groei van het aantal inwoners dat buiten Nederland is geboren benadert het aantal nieuwkomers "
                  "(vestiging min vertrek en overlijden); het is geen telling van nieuwkomers.")


@st.cache_data(show_spinner=False, max_entries=32)
def _load(gemeente: str) -> LoadedOrigin:
    return load_origin_table(countries.TABLE_ID, gemeente)


def _source(loaded: LoadedOrigin) -> str:
    p = loaded.provenance
    api = {"v3": "CBS OData v3", "v4": "CBS OData v4"}.get(p.api, p.api)
    when = f", opgehaald {p.fetched_at[:10]}" if p.fetched_at else ""
    return f"{countries.source_line(p.table_title)}, via {api}{when}"


def _load_message(exc: BaseException, gemeente: str) -> str:
    if isinstance(exc, NotFound):
        return f"CBS kent tabel {countries.TABLE_ID} (bevolking naar herkomstland) nu niet. Details: {exc}"
    if isinstance(exc, SourceUnavailable):
        return (f"De cijfers naar herkomstland (CBS {countries.TABLE_ID}) kunnen nu niet worden opgehaald en "
                f"staan nog niet in de cache. Probeer het later opnieuw. Details: {exc}")
    if isinstance(exc, ResolveError):
        return f"De tabel {countries.TABLE_ID} van CBS past niet bij de catalogus: {exc}"
    return f"Geen cijfers naar herkomstland voor {gemeente}: {exc}"


def render_herkomstlanden(gemeente: str, year: int | None, *, demo: bool) -> None:
    """Draw the Herkomstlanden section for ``gemeente`` (``"GM0228"``) in ``year`` (1 January;
    None = the latest year of 85458NED; another year than the table has is replaced by the
    nearest one, and a line says so). ``demo=True`` (or a GM99xx code): one line that the
    fictitious gemeente has no countries of origin."""
    st.subheader("Herkomstlanden")
    if demo or repository.is_demo_scope(gemeente):
        st.info(DEMO_LINE, icon=":material/info:")
        return
    try:
        loaded = _load(str(gemeente))
        view = countries.countries_view(loaded.frame, str(gemeente), year, top=TOP)
    except (SourceUnavailable, ValueError, KeyError) as exc:
        st.error(ui.md_escape(_load_message(exc, str(gemeente))), icon=":material/error:")
        return
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a visitor
        st.error(ui.md_escape(f"De cijfers naar herkomstland konden niet worden geladen ({type(exc).__name__})."),
                 icon=":material/error:")
        return
    frame = loaded.frame
    if loaded.warning:
        st.warning(ui.md_escape(loaded.warning), icon=":material/info:")
    if view.year_note:
        st.info(view.year_note, icon=":material/calendar_month:")
    st.text(countries.summary_sentence(view))
    if not view.has_country_detail:
        st.warning(NO_DETAIL_LINE, icon=":material/warning:")

    source = _source(loaded)
    st.plotly_chart(countries.countries_figure(view, source=source), width="stretch",
                    config={"displaylogo": False}, key="herkomstlanden_grafiek")
    st.dataframe(countries.display_table(view), hide_index=True, width="stretch")
    missing = view.missing_line()
    if missing:
        st.text(missing)
    st.caption(ui.md_escape(source))
    st.download_button("Tabel downloaden (CSV)", frame_to_csv(countries.csv_table(view)),
                       file_name=f"herkomstlanden_{view.gemeente}_{view.year}.csv", mime="text/csv",
                       key="herkomstlanden_csv")

    st.markdown("##### Verandering per jaar (nieuwkomers)")
    st.dataframe(countries.changes_table(frame, view), hide_index=True, width="stretch")
    st.caption(NEWCOMERS_LINE)

    _guidance(frame, view)


def _guidance(frame, view: countries.CountriesView) -> None:
    """The guidance tied to a country of origin being a group here, each with its reason; for
    Eritrea also the reason when it is not (or not known to be) a group."""
    st.markdown("##### Handreikingen bij deze herkomstgroepen")
    holding = countries.situations(frame, view.gemeente, view.year)
    cat = load_catalogue()
    tied = [r for r in cat.resources_for(VIEW, None, holding) if set(r.situations) & set(holding)]
    status = countries.group_status(frame, view.gemeente, view.year, GUIDANCE_COUNTRY)
    for r in tied:
        with st.container(border=True):
            st.markdown(f"**[{ui.md_escape(r.title)}]({r.url})**")
            st.caption(f"{ui.md_escape(r.publisher)}{f', {r.year}' if r.year else ''}"
                       f"{' · link naar de pagina van de uitgever' if r.url_is_publisher_page else ''}")
            st.text(r.why.get(VIEW) or r.description)
            for sid in r.situations:
                if sid in holding:
                    st.text(f"Waarom hier: {holding[sid]}")
    if status.state != countries.STATE_GROUP:
        st.text(f"{status.reason} De handreiking voor Eritrese nieuwkomers staat daarom hier niet.")
