"""Kaart: one indicator per wijk or buurt of a gemeente (or per gemeente, or per buurt, for the
whole country), with the table alternative, a short "wat zie je" and the guidance beside it.
Layout and widgets only; the map itself is built in buurtmonitor.maps (and
buurtmonitor.maps.national for all buurten of the country)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import export_widgets as ui_export
from app import kaart_herkomst, ui
from app import maps as app_maps
from buurtmonitor import briefing, formatting
from buurtmonitor.catalogue import load_catalogue
from buurtmonitor.exports.items import ExportItem
from buurtmonitor.harmonise import SMALL_N, indicator_frame
from buurtmonitor.maps import areas, classes
from buurtmonitor.maps import choropleth as mapping
from buurtmonitor.maps import national as nat
from buurtmonitor.maps.labels import n_label
from buurtmonitor.model import MISSING_LABELS

cat = load_catalogue()
sel = ui.sidebar(levels=("wijk", "buurt", "gemeente", nat.LEVEL))
figures = kaart_herkomst.source_choice(sel)   # KWB, or figures by origin group (gap map, own data)
if figures != kaart_herkomst.KWB:
    kaart_herkomst.render(sel, figures)
    st.stop()
ind = cat.indicators[sel.indicator]
national = sel.level == "gemeente"
all_buurten = sel.level == nat.LEVEL          # every buurt of the country on one map
data_level = "buurt" if all_buurten else sel.level
place = "Nederland" if national or all_buurten else sel.gemeente_name
level_plural = formatting.level_plural(data_level)

st.title("Kaart")
st.caption(f"{ind.label} per {ui.level_label(data_level).lower()}, {place}, {sel.year}")

# ---------------------------------------------------------------- statistics
table, load_failure = None, None
try:
    what = "alle gemeenten" if national else "alle buurten" if all_buurten else sel.gemeente_name
    with st.spinner(f"Cijfers van {what} laden …", show_time=True):
        if national:
            table, origin, warning = ui.load_national(sel.year, sel.gemeente)
        elif all_buurten:
            table, origin, warning = ui.load_national_buurten(sel.year, sel.gemeente)
        else:
            table, origin, warning = ui.load_table(sel.year, sel.gemeente)
except Exception as exc:  # noqa: BLE001 - shown in Dutch below, guidance stays visible
    load_failure = exc

if table is not None:
    ui.fictitious_banner(table)
    ui.origin_notice(origin, warning)
    if not warning:
        ui.cache_notice(table, origin)

main, side = st.columns([3, 1.15], gap="large")
with side:
    ui.guidance_panel("kaart", ind.id)

with main:
    if table is None:
        ui.show_load_error(load_failure, f"De cijfers van {place} voor {sel.year}")
        st.stop()

    # ------------------------------------------------------------ map options
    frame = indicator_frame(table, ind.id)
    refs = areas.reference_values(frame, sel.gemeente)  # gemeente and Nederland, where known
    with st.expander("Kaartinstellingen: indeling, vergelijking, kleuren, achtergrond", expanded=False):
        c1, c2, c3 = st.columns(3)
        # every setting is in the URL too: a link restores the same map (same class breaks)
        ui.view_param("kaart_methode", "indeling", classes.METHODS, classes.DEFAULT_METHOD,
                      what="De indeling in klassen", label=classes.METHODS.get)
        method = c1.selectbox("Indeling in klassen", list(classes.METHODS), key="kaart_methode",
                              format_func=classes.METHODS.get,
                              help="Kwantielen: evenveel gebieden per klasse. Natuurlijke grenzen: klassen "
                                   "volgens de verdeling van de waarden (Fisher-Jenks). Gelijke intervallen: "
                                   "klassen van gelijke breedte.")
        ui.view_param("kaart_klassen", "klassen", range(classes.K_RANGE[0], classes.K_RANGE[1] + 1),
                      classes.DEFAULT_K, what="Het aantal klassen", parse=int)
        k = c1.slider("Aantal klassen", *classes.K_RANGE, key="kaart_klassen",
                      disabled=method == "continuous")
        compare_opts = ["geen"] + [r for r in ("gemeente", "nederland") if r in refs]
        ui.view_param("kaart_vergelijking", "vergelijking", compare_opts, "geen", what="De vergelijking",
                      label=lambda r: "niets" if r == "geen" else refs[r][0])
        compare = c2.radio(
            "Vergelijken met", compare_opts, key="kaart_vergelijking",
            format_func=lambda r: "niets (oplopende kleuren)" if r == "geen" else
            f"{refs[r][0]} ({formatting.value(refs[r][1], ind.unit)})",
            help="Bij een vergelijking krijgen gebieden onder en boven de referentiewaarde elk een "
                 "eigen kleur; de referentie ligt in het midden van de kleurschaal.")
        diverging = compare != "geen"
        palettes = classes.palette_options(diverging)
        ui.view_param(f"kaart_palet_{'div' if diverging else 'seq'}", "kleuren", palettes, next(iter(palettes)),
                      what="Het kleurenpalet", label=palettes.get)
        palette = c3.selectbox("Kleuren (kleurenblindveilig)", list(palettes), format_func=palettes.get,
                               key=f"kaart_palet_{'div' if diverging else 'seq'}")
        ui.view_param("kaart_online", "achtergrond", (False, True), False, what="De achtergrond",
                      parse=lambda t: {"online": True, "geen": False}[t.lower()],
                      encode=lambda v: "online" if v else "geen",
                      label=lambda v: "online" if v else "geen achtergrond")
        online = c3.toggle("Online achtergrond", key="kaart_online",
                           help="Laadt een achtergrondkaart van CARTO/OpenStreetMap via internet. "
                                "Standaard uit: de kaart werkt dan zonder externe verbindingen.")
    reference = refs[compare] if diverging else None
    online, background_note = app_maps.background(online)

    # ------------------------------------------------------------ boundaries
    level_frame = frame[frame["level"] == data_level]
    geometry, geo_message = None, None
    try:
        with st.spinner(f"Grenzen van de {level_plural} laden …"
                        + (" De eerste keer worden alle buurten van Nederland opgehaald en vereenvoudigd; "
                           "dat kan een minuut duren. Daarna komen ze uit de cache." if all_buurten else ""),
                        show_time=True):
            geometry, geo_origin, geo_warning = app_maps.map_geometry(sel.year, sel.level, sel.gemeente)
        if geo_warning:
            st.warning(geo_warning, icon=":material/inventory_2:")
        if geometry.empty:
            geometry = None
            geo_message = (f"Er is geen kaart: de grenzen van de {level_plural} van {place} ({sel.year}) zijn "
                           "niet te krijgen bij de bron van de grenzen (PDOK). De cijfers staan hieronder in de tabel.")
    except Exception as exc:  # noqa: BLE001 - no boundaries: say so, still show the table
        geo_message = (f"De grenzen van de {level_plural} van {place} ({sel.year}) zijn nu niet beschikbaar, "
                       f"dus de kaart kan niet worden getekend. De cijfers staan hieronder in de tabel. "
                       f"({exc})")

    codes_on_map = geometry.codes if geometry is not None else []
    area = ui.known_area(sel, table.data["code"], f"de cijfers van {place} ({sel.year})")
    selected = area if area in set(level_frame["code"]) else None
    if selected is None and national and sel.gemeente in set(codes_on_map):
        selected = sel.gemeente
    table_df = ui.indicator_table(table, ind.id, data_level)
    filename = (f"buurtmonitor_{ind.id}_{sel.level}_{'NL' if national or all_buurten else sel.gemeente}"
                f"_{sel.year}.csv")

    def area_picker(codes_names: dict[str, str]) -> None:
        """Choose an area without a mouse; shared with the other pages (and in the URL)."""
        options = sorted(codes_names, key=lambda c: str(codes_names[c]))
        st.session_state["kaart_gebied"] = area if area in codes_names else None
        st.selectbox("Gebied uitlichten", options, key="kaart_gebied", placeholder="Kies een gebied …",
                     format_func=lambda c: f"{codes_names[c]} ({c})",
                     on_change=lambda: ui.set_selection(gebied=st.session_state["kaart_gebied"]),
                     help="Het gekozen gebied wordt op de kaart omlijnd en is ook geselecteerd op de "
                          "andere pagina's. U kunt ook op de kaart klikken."
                          + (f" Hier: de buurten van {sel.gemeente_name} (de gemeente in de zijbalk)."
                             if all_buurten else ""))

    # the counts of the text are those of the map (its legend), when a map is drawn
    shown_rows = areas.rows_for(geometry, level_frame) if geometry is not None else level_frame
    boundary_year = geometry.year if geometry is not None else None
    other_boundary_year = boundary_year is not None and int(boundary_year) != int(sel.year)
    boundary_line = (f"De grenzen op deze kaart zijn van {boundary_year}, de cijfers van {sel.year}: "
                     f"{level_plural} die in de tussentijd zijn samengevoegd, gesplitst of nieuw zijn, "
                     "staan op de kaart zonder waarde of ontbreken (ze staan wel in de tabel)."
                     if other_boundary_year else None)

    def what_you_see(meta: dict | None = None, on_map: bool = True) -> None:
        s = areas.summary(shown_rows)
        reasons = ", ".join(f"{n} {MISSING_LABELS.get(r, r).split(' (')[0]}" for r, n in
                            sorted(s["missing_by_reason"].items()))
        lines = [
            f"**Wat zie je?** {ui.md_escape(ind.definition)}",
            f"- **Jaar** {sel.year}: {s['areas']} {level_plural} van {ui.md_escape(place)}"
            f"{' op de kaart' if geometry is not None else ''}, waarvan {s['with_value']} met een waarde"
            + (f" (van {formatting.value(s['min'], ind.unit)} tot {formatting.value(s['max'], ind.unit)})."
               if s["with_value"] else "."),
            f"- **n** is het aantal waarop de waarde berust ({ui.md_escape(n_label(ind, cat))}); samen "
            f"{formatting.integer(s['n_total'])}.",
        ]
        if s["missing"]:
            lines.append(f"- **Zonder waarde: {s['missing']}** {level_plural}"
                         + (f" ({reasons})" if reasons else "")
                         + (". Die zijn grijs gearceerd en tellen nooit als 0." if on_map
                            else ". Die staan in de tabel zonder getal en tellen nooit als 0."))
        else:
            lines.append(f"- Alle {level_plural} {'op de kaart ' if geometry is not None else ''}hebben een waarde.")
        if boundary_line:
            lines.append(f"- **Grenzen van {boundary_year}**: de cijfers zijn van {sel.year}.")
        if s["small_n"]:
            lines.append(f"- **Klein aantal:** {s['small_n']} {level_plural} met n kleiner dan {SMALL_N}; "
                         "de uitkomst is daar onzeker (oranje rand).")
        if meta and meta.get("k"):
            lines.append(f"- **Kleuren:** {classes.METHODS[meta['method']].split(' (')[0].lower()}, "
                         f"{meta['k']} klassen"
                         + (f" (gevraagd {k}; hoogstens één klasse per twee {level_plural})"
                            if meta["k"] < k and method != "continuous" else "") + ".")
        if reference is not None:
            lines.append(f"- **Vergelijking:** kleuren lopen uiteen rond {ui.md_escape(reference[0])} "
                         f"({formatting.value(reference[1], ind.unit)}).")
        st.markdown("\n".join(lines))
        if selected is not None:
            row = level_frame[level_frame["code"] == selected]
            if len(row):
                r = row.iloc[0]
                value = (formatting.value(r["value"], ind.unit) if pd.notna(r["value"])
                         else MISSING_LABELS.get(r["missing"] or "", "geen waarde"))
                st.text(f"Geselecteerd: {r['name']} ({selected}): {value}; n = {formatting.integer(r['n'])}")

    # ------------------------------------------------------------ map + table
    if geometry is None:
        st.warning(geo_message, icon=":material/map:")
        what_you_see(on_map=False)
        st.markdown("## Tabel")
        ui.table_alternative(table_df, filename, key="kaart_tabel_csv")
        st.caption(table.meta.source_line())
    else:
        tab_labels = {"kaart": ":material/map: Kaart", "tabel": ":material/table_view: Tabel (zelfde cijfers)"}
        ui.view_param("kaart_tab", "tab", tab_labels.values(), tab_labels["kaart"], what="Het tabblad",
                      parse=lambda t: tab_labels[t.lower()],
                      encode=lambda v: next(s for s, lab in tab_labels.items() if lab == v),
                      label=lambda v: v.split(": ", 1)[-1])
        tab_map, tab_table = st.tabs(list(tab_labels.values()), key="kaart_tab", on_change="rerun")
        with tab_map:
            if boundary_line:
                st.info(boundary_line, icon=":material/history:")
            view_key = f"kaart-{'NL' if national or all_buurten else sel.gemeente}-{sel.level}"
            alt = (f"Kaart: {ind.label} per {ui.level_label(data_level).lower()}, {place}, {sel.year}. "
                   f"De cijfers staan ook in de tab Tabel.")

            def plotly_figure(geojson_url: str | None = None, names: bool = False):
                return mapping.choropleth(
                    geometry, level_frame, ind, method=method, k=k, reference=reference,
                    selected=selected, fictitious=table.meta.fictitious,  # source line: caption below
                    palette=palette, online=online, level=sel.level, uirevision=view_key,
                    geojson_url=geojson_url, names=names)

            if app_maps.use_canvas_map(geometry) and not online:
                # thousands of areas: drawn on a canvas (README, Performance: ~2 s to a first map, not ~4)
                spec = app_maps.canvas_map_spec(geometry, level_frame, ind, method=method, k=k,
                                          reference=reference, palette=palette, selected=selected,
                                          fictitious=table.meta.fictitious, view_key=view_key, alt=alt,
                                          focus=[(sel.gemeente_name, "BU" + sel.gemeente[2:6])] if all_buurten else None)
                map_meta = spec.meta
                clicked = app_maps.canvas_map(spec, key="kaart_canvas")
                if clicked and clicked != area and clicked in set(geometry.codes):
                    ui.set_selection(gebied=clicked)
                    st.rerun()
            else:  # a large geometry is served once as a file (app.static_route)
                fig = plotly_figure(app_maps.geojson_url(geometry))
                map_meta = fig.layout.meta
                event = st.plotly_chart(
                    fig, key="kaart_map", on_select="rerun", selection_mode="points",
                    config={"displaylogo": False, "scrollZoom": True,
                            "modeBarButtonsToRemove": ["select2d", "lasso2d"]}, alt=alt)
                clicked = mapping.clicked_code(event, geometry.codes)
                if clicked != st.session_state.get("_kaart_last_click"):
                    st.session_state["_kaart_last_click"] = clicked
                    if clicked and clicked != area:
                        ui.set_selection(gebied=clicked)
                        st.rerun()
            st.caption(table.meta.source_line())
            if background_note:
                st.caption(background_note)
            missing_geo = sorted(set(level_frame["code"]) - set(codes_on_map))
            if missing_geo:
                st.info(f"{len(missing_geo)} {level_plural} uit de cijfers hebben geen grens op deze kaart "
                        f"(andere indeling of jaar van de grenzen); ze staan wel in de tabel.", icon=":material/info:")
            def export_item() -> ExportItem:
                inline = plotly_figure(names=True)  # inline geometry and glyphs: an export fetches no file
                if sel.level in ("wijk", "buurt"):
                    return briefing.map_item(sel.year, sel.gemeente, sel.level, sel.indicator,
                                             area=selected, table=table, figure=inline)
                return ExportItem.from_meta(
                    table.meta, title=f"{ind.label} per {ui.level_label(data_level).lower()}, {place}, {sel.year}",
                    subtitle=f"{place} · {sel.year} · {ui.level_label(data_level).lower()}"
                             + (f" · grenzen van {boundary_year}" if other_boundary_year else ""),
                    figure=inline, table=table_df,
                    definitions=[{"id": ind.id, "label": ind.label, "definition": ind.definition, "unit": ind.unit}])

            ui_export.export_buttons(export_item, key="kaart_export",
                                     file_stem=f"kaart-{sel.indicator}-{sel.gemeente}-{sel.year}-{sel.level}")
            pick = level_frame
            if all_buurten:  # thousands of buurten: offer those of the gemeente in the sidebar
                pick = level_frame[(level_frame["code"].str[2:6] == sel.gemeente[2:6])
                                   | (level_frame["code"] == selected)]
            area_picker(dict(zip(pick["code"], pick["name"])))
            what_you_see(map_meta)
        with tab_table:
            st.caption(f"{ind.label} per {ui.level_label(data_level).lower()}, {place}, {sel.year}. "
                       "Gebieden zonder waarde (grijs op de kaart) hebben hier geen getal; de reden staat in "
                       "de kolom Toelichting.")
            ui.table_alternative(table_df, filename, key="kaart_tabel_csv")
            st.caption(table.meta.source_line())
