"""A GENERATED stand-in of CBS table 85458NED with countries of origin (fictitious numbers).

The shared extract of 85458NED is truncated after its first three Herkomstland members
(Totaal, Nederland, Buiten Nederland), so it has no country detail. This module makes a table
of the same shape as CBS serves it (dimensions Geslacht, Leeftijd, Herkomstland, Geboorteland,
RegioS, Perioden; measure ``Bevolking_1``) with countries as members, for two made-up gemeenten
(``GM0001`` "Testgemeente Noord (fictief)", ``GM0002`` "Testgemeente Zuid (fictief)") and the
country. Every number is made up; nothing here comes from CBS.

* GM0001: Eritrea is a group (180 → 215 → 260 inhabitants), Syrië's 2024 count is suppressed
  (empty), Polen has no born-in-NL / born-abroad split (empty cells).
* GM0002: 30 inhabitants with herkomst Eritrea (below the group threshold of 50).
"""

from __future__ import annotations

from devtools.standins.origin_extracts import OriginExtract, OriginMeasure

YEARS = (2022, 2023, 2024)
GEMEENTEN = {"GM0001": "Testgemeente Noord (fictief)", "GM0002": "Testgemeente Zuid (fictief)"}
#: country title -> (europe?, count per year in GM0001, share born abroad)
COUNTRIES = {
    "Marokko": (False, (1210, 1225, 1240), 0.35),
    "Turkije": (False, (1100, 1105, 1118), 0.38),
    "Duitsland": (True, (700, 702, 698), 0.55),
    "Polen": (True, (620, 680, 745), 0.80),
    "Syrië": (False, (400, 455, None), 0.85),
    "Eritrea": (False, (180, 215, 260), 0.75),
    "Oekraïne": (True, (40, 310, 355), 0.95),
    "Suriname": (False, (300, 301, 303), 0.40),
    "Indonesië": (False, (290, 285, 280), 0.20),
    "Verenigde Staten van Amerika": (False, (120, 125, 131), 0.60),
    "Somalië": (False, (70, 72, 75), 0.60),
    "Vietnam": (False, (12, 12, 14), 0.60),
}
NEDERLAND = (20000, 20100, 20150)
REST_EUROPE, REST_OUTSIDE = 500, 700       # countries CBS does not name (in the aggregates only)
GM0002_FACTOR = 1 / 6                        # GM0002 is a smaller copy; Eritrea there: 30


def _born_abroad(count: float | None, share: float) -> float | None:
    return None if count is None else float(round(count * share))


def _counts(code: str) -> dict[tuple[str, str, int], float | None]:
    """(herkomstland title, geboorteland title, year) -> count."""
    f = 1.0 if code == "GM0001" else GM0002_FACTOR
    out: dict[tuple[str, str, int], float | None] = {}
    for i, y in enumerate(YEARS):
        eur = buiten = 0.0
        eur_abroad = buiten_abroad = 0.0
        for title, (europe, counts, share) in COUNTRIES.items():
            c = counts[i]
            c = None if c is None else float(round(c * f)) if title != "Eritrea" or code == "GM0001" else 30.0
            ab = _born_abroad(c, share)
            out[(title, "Totaal", y)] = c
            if title == "Polen" and code == "GM0001":
                out[(title, "Persoon geboren in Nederland", y)] = None
                out[(title, "Persoon geboren buiten Nederland", y)] = None
            else:
                out[(title, "Persoon geboren in Nederland", y)] = None if c is None else c - (ab or 0.0)
                out[(title, "Persoon geboren buiten Nederland", y)] = ab
            real = c if c is not None else (counts[i - 1] or 0) * f      # the aggregates stay complete
            real_ab = ab if ab is not None else round(real * share)
            if europe:
                eur += real
                eur_abroad += real_ab
            else:
                buiten += real
                buiten_abroad += real_ab
        eur += REST_EUROPE * f
        buiten += REST_OUTSIDE * f
        eur_abroad += round(REST_EUROPE * f * 0.5)
        buiten_abroad += round(REST_OUTSIDE * f * 0.5)
        nl = float(round(NEDERLAND[i] * f))
        for title, tot, ab in (("Europa (exclusief Nederland)", eur, eur_abroad),
                               ("Buiten Europa", buiten, buiten_abroad),
                               ("Buiten Nederland", eur + buiten, eur_abroad + buiten_abroad),
                               ("Nederland", nl, None),
                               ("Totaal", nl + eur + buiten, eur_abroad + buiten_abroad)):
            out[(title, "Totaal", y)] = float(tot)
            out[(title, "Persoon geboren buiten Nederland", y)] = None if ab is None else float(ab)
            out[(title, "Persoon geboren in Nederland", y)] = float(tot - (ab or 0.0))
    return out


def generated_extract() -> OriginExtract:
    """The generated 85458NED (module doc) as an :class:`OriginExtract` for ``v3_table`` /
    ``v4_table`` of the stand-ins."""
    origins = ["Totaal", "Nederland", "Buiten Nederland", "Europa (exclusief Nederland)", "Buiten Europa",
               *COUNTRIES]
    births = ["Totaal", "Persoon geboren in Nederland", "Persoon geboren buiten Nederland"]
    dims = {
        "Geslacht": [("T001038", "Totaal mannen en vrouwen")],
        "Leeftijd": [("10000", "Totaal")],
        "Herkomstland": [(f"H{i:06d}", t) for i, t in enumerate(origins, 1)],
        "Geboorteland": [("T001638", "Totaal"), ("A051735", births[1]), ("A051736", births[2])],
        "RegioS": [("NL01", "Nederland"), *GEMEENTEN.items()],
        "Perioden": [(f"{y}JJ00", str(y)) for y in YEARS],
    }
    okey = dict((t, k) for k, t in dims["Herkomstland"])
    bkey = dict((t, k) for k, t in dims["Geboorteland"])
    rows = []
    per_region = {code: _counts(code) for code in GEMEENTEN}
    country = {k: sum((c.get(k) or 0.0) for c in per_region.values()) * 10 for k in per_region["GM0001"]}
    per_region = {"NL01": country, **per_region}
    for o in origins:
        for b in births:
            for code in ("NL01", *GEMEENTEN):
                for y in YEARS:
                    v = per_region[code].get((o, b, y))
                    rows.append({"ID": len(rows), "Geslacht": "T001038", "Leeftijd": "10000", "Herkomstland": okey[o],
                                 "Geboorteland": bkey[b], "RegioS": code, "Perioden": f"{y}JJ00",
                                 "Bevolking_1": None if v is None else int(v)})
    kinds = {d: "Dimension" for d in dims}
    kinds.update(RegioS="GeoDimension", Perioden="TimeDimension")
    return OriginExtract(table_id="85458NED", title="Bevolking; herkomstland, geboorteland, leeftijd, regio, "
                         "1 januari (GEGENEREERD, fictieve cijfers)", dimensions=dims, dimension_kinds=kinds,
                         measures=[OriginMeasure("Bevolking_1", "Bevolking", "aantal", 0, "Long")], rows=rows)
