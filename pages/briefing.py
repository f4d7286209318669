"""Raadsbriefing: put several views of one gemeente into a PDF or PowerPoint for the council,
with key figures, definitions, sources, guidance and the worksheet notes of the lokale kaart.
Layout and widgets only; the content is made in buurtmonitor.briefing."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

import streamlit as st

from app import auth, briefing_data, ui
from buurtmonitor import briefing
from buurtmonitor.catalogue import load_catalogue, load_lokale_kaart
from buurtmonitor.exports.items import static_export_status
from buurtmonitor.model import FICTITIOUS_LABEL, LEVEL_LABELS

VIEW = "briefing"
ITEMS = "briefing_items"          # {"sig": ..., "items": [ExportItem]}: the preview and the pack
PACK = {"pdf": "briefing_pdf", "pptx": "briefing_pptx"}   # {"sig", "data", "name", "seconds"}
MIME = {"pdf": "application/pdf",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}

def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80] or "raadsbriefing"


def _note_choices(gemeente: str) -> list[str]:
    """Per worksheet section with notes: a checkbox (off by default) and a preview of its
    notes as plain text. Returns the ticked section ids: only those go into the pack."""
    try:
        notes = briefing_data.notes_of(gemeente)
    except Exception:  # noqa: BLE001 - the notes are optional; say so and go on
        st.caption("De notities van het werkblad konden niet worden gelezen; de briefing gaat "
                   "zonder notities.")
        return []
    st.markdown("#### Notities uit het werkblad")
    if not notes:
        st.caption("Er zijn geen notities in het werkblad van de Lokale kaart voor deze gemeente.")
        return []
    st.caption("Notities gaan alleen in de briefing als u ze per onderdeel aanvinkt. Ze worden "
               "letterlijk overgenomen: lees ze hieronder eerst na.")
    ticked = []
    for sec in load_lokale_kaart().sections:
        own = [n for n in notes if n.get("section") == sec.id]
        if not own:
            continue
        if st.checkbox(f"{sec.title} ({len(own)} notitie(s)) in de briefing opnemen",
                       value=False, key=f"briefing_notities_{sec.id}"):
            ticked.append(sec.id)
        with st.expander(f"Voorbeeld: {sec.title}", expanded=False):
            for n in own:
                st.text(n.get("text", ""))
    return ticked


sel = ui.sidebar(levels=("wijk", "buurt"))
st.title("Raadsbriefing")
st.caption("Stel een briefing samen voor raad of college: kies de weergaven, bekijk de kerncijfers "
           "en download een PDF of een PowerPoint. Elke pagina vermeldt de bron; bij de "
           "Voorbeeldgemeente staat op elke pagina dat de cijfers fictief zijn.")

main, side = st.columns([3, 1], gap="large")
with side:
    ui.guidance_panel(VIEW)

with main:
    try:
        with st.spinner(f"Cijfers van {sel.gemeente_name} laden…"):
            table, origin, warning = ui.load_table(sel.year, sel.gemeente)
    except Exception as exc:  # noqa: BLE001 - shown in Dutch, the page stops
        ui.show_load_error(exc, f"De cijfers van {sel.gemeente_name} voor {sel.year}")
        st.stop()
    ui.fictitious_banner(table)
    ui.origin_notice(origin, warning)
    name = briefing.gemeente_name(table, sel.gemeente)

    # ------------------------------------------------------------ choices
    default_title = briefing.pack_title(sel.year, name)
    if st.session_state.get("_briefing_titel_standaard") != default_title:
        # a new gemeente or year: a title the user did not change follows along
        if st.session_state.get("briefing_titel") in (None, "", st.session_state.get("_briefing_titel_standaard")):
            st.session_state["briefing_titel"] = default_title
        st.session_state["_briefing_titel_standaard"] = default_title
    title = st.text_input("Titel van de briefing", key="briefing_titel", max_chars=150)
    views = st.multiselect("Weergaven in de briefing", list(briefing.VIEWS), default=list(briefing.VIEWS),
                           format_func=briefing.VIEWS.get, key="briefing_weergaven",
                           help="Elke weergave krijgt een eigen pagina (PDF) of dia (PowerPoint) met "
                                "figuur, kerncijfers, definities, bron en handreikingen.")
    ind = load_catalogue().indicators[sel.indicator]
    area_name = None
    area = ui.known_area(sel, table.data["code"], f"de cijfers van {sel.gemeente_name} ({sel.year})")
    if area:
        row = table.row(area)
        area_name = str(row["name"]) if row is not None else None
    st.caption(
        f"Indicator: {ind.label} · {LEVEL_LABELS[sel.level].lower()}en · {sel.year}. "
        + (f"Gebiedsprofiel en ontwikkeling gaan over {area_name} (gekozen op de kaart)."
           if area_name else
           "Geen gebied gekozen: het gebiedsprofiel en de ontwikkeling gaan over de gemeente als "
           "geheel. Kies op de kaart een gebied om dat te veranderen.")
        + " Deze keuzes maakt u in de zijbalk.")

    if not views:
        st.info("Kies minstens één weergave.")
        st.stop()

    # ------------------------------------------------------------ worksheet notes: only when ticked
    may_read_notes = auth.rights(sel.gemeente).read
    note_sections = (_note_choices(sel.gemeente) if "lokale_kaart" in views and may_read_notes
                     else [])

    # ------------------------------------------------------------ the items (preview = pack)
    sources = briefing_data.repository_sources(table_loader=lambda y, s: ui.load_table(y, s)[0],
                                               geo_loader=lambda y, lv, g: ui.load_geo(y, lv, g)[0],
                                               may_read_notes=lambda g: auth.rights(g).read)
    sig = (tuple(views), sel.year, sel.gemeente, sel.level, sel.indicator, area,
           briefing_data.notes_signature(sel.gemeente, may_read=may_read_notes), tuple(note_sections))
    cached = st.session_state.get(ITEMS)
    if not cached or cached["sig"] != sig:
        bar = st.progress(0.0, text="Weergaven samenstellen…")
        try:
            items = briefing.build_items(views, sel.year, sel.gemeente, sel.level, sel.indicator,
                                         area, sources=sources, note_sections=note_sections,
                                         progress=lambda f, m, bar=bar: bar.progress(f, text=m))
        except ValueError as exc:
            bar.empty()
            st.error(str(exc))
            st.stop()
        bar.empty()
        st.session_state[ITEMS] = cached = {"sig": sig, "items": items}
    items = cached["items"]

    # ------------------------------------------------------------ make the pack
    st.markdown("## Downloaden")
    reason = static_export_status()
    if reason:
        st.warning(reason + " De briefing wordt dan gemaakt met een tekst in plaats van de figuren.",
                   icon=":material/image_not_supported:")
    pack_sig = sig + (title,)
    c_pdf, c_pptx = st.columns(2)
    for col, fmt, label in ((c_pdf, "pdf", "PDF maken"), (c_pptx, "pptx", "PowerPoint maken")):
        with col:
            if st.button(label, key=f"briefing_maak_{fmt}", icon=":material/description:" if fmt == "pdf"
                         else ":material/slideshow:", type="primary" if fmt == "pdf" else "secondary"):
                bar = st.progress(0.0, text="Beginnen…")
                started = datetime.now()
                try:
                    data = briefing.build_pack(views, sel.year, sel.gemeente, sel.level, sel.indicator,
                                               area, fmt=fmt, title=title, sources=sources,
                                               items=items, exported_at=started,
                                               note_sections=note_sections,
                                               progress=lambda f, m, bar=bar: bar.progress(f, text=m))
                except Exception as exc:  # noqa: BLE001 - shown, the page goes on
                    st.error(f"De {fmt.upper()} kon niet worden gemaakt ({type(exc).__name__}: {exc}).")
                else:
                    st.session_state[PACK[fmt]] = {
                        "sig": pack_sig, "data": data,
                        "name": f"{_slug(title or briefing.pack_title(sel.year, name))}.{fmt}",
                        "seconds": (datetime.now() - started).total_seconds()}
                bar.empty()
            got = st.session_state.get(PACK[fmt])
            if got and got["sig"] == pack_sig:
                st.download_button(f"{fmt.upper()} downloaden ({len(got['data']) / 1e6:.1f} MB)",
                                   got["data"], file_name=got["name"], mime=MIME[fmt],
                                   key=f"briefing_download_{fmt}", icon=":material/download:",
                                   on_click="ignore")
                st.caption(f"Gemaakt in {got['seconds']:.0f} s.")

    # ------------------------------------------------------------ preview
    st.markdown("## Wat staat erin")
    fictitious = any(i.fictitious for i in items)
    if fictitious:
        st.caption(f"Elke pagina en dia draagt het label: {FICTITIOUS_LABEL}.")
    for n, item in enumerate(items, start=1):
        with st.container(border=True):
            st.markdown(f"**{n}. {ui.md_escape(item.title)}**")
            if item.subtitle:
                st.caption(item.subtitle)
            st.markdown("\n".join(f"- {ui.md_escape(s)}" for s in item.key_figures) or "–")
            extra = []
            if item.figure is None:
                extra.append("geen figuur: de tabel staat in de briefing")
            if item.notes:
                extra.append(f"{len(item.notes)} aangevinkte notitie(s) uit het werkblad, letterlijk "
                             "overgenomen")
            if extra:
                st.caption("; ".join(extra).capitalize() + ".")
    sources_lines = list(dict.fromkeys(i.source_line for i in items if i.source_line))
    for line in sources_lines:
        st.caption(line)

    st.markdown("## Handreikingen in de briefing")
    st.caption("De PDF sluit af met deze lijst; de PowerPoint zet de handreikingen per weergave in "
               "de notities bij de dia's.")
    listed = briefing.pack_resources(items)
    if not listed:
        st.caption("Bij deze weergaven hoort geen handreiking uit de catalogus.")
    for r in listed:
        st.markdown(f"- **[{ui.md_escape(r['title'])}]({r['url']})** · {ui.md_escape(r['publisher'])}  \n"
                    f"  {ui.md_escape(r['why'])}")
