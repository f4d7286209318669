"""The words for a segregation measure (buurtmonitor.lokale_kaart.interpretation): one place
for the page, the pack and the worksheet; the national place first, the rule of thumb of the
literature second; each measure its own bands (data/lokale_kaart.toml)."""

from __future__ import annotations

from buurtmonitor.lokale_kaart import interpretation, segregation


def national(value: float, distribution: list[float], key: str = "dissimilarity") -> segregation.NationalComparison:
    rank = segregation.rank_against(value, distribution)
    return segregation.NationalComparison(ranks={key: rank}, n_gemeenten=len(distribution),
                                          median={key: sorted(distribution)[len(distribution) // 2]})


def test_each_measure_has_its_own_bands():
    d, h, mg = (interpretation.bands(k) for k in ("dissimilarity", "theil_h", "multigroup_dissimilarity"))
    assert d and h and mg
    assert [b[1] for b in d] == [0.3, 0.6, 1.0]
    assert [b[1] for b in h] == [0.1, 0.25, 1.0]
    assert d != h and d != mg
    # the same 0,2 reads differently for D and for Theil's H
    assert interpretation.band_of("dissimilarity", 0.2) == "laag"
    assert interpretation.band_of("theil_h", 0.2) == "matig"
    assert interpretation.band_of("theil_h", 0.3) == "hoog"
    assert interpretation.band_of("dissimilarity", 1.0) == "hoog"
    assert interpretation.band_of("dissimilarity", None) is None


def test_rank_first_and_a_contradicting_rule_of_thumb_is_said():
    """Ede's case: D = 0,29 is "laag" by the rule of thumb, but only 7 of 162 gemeenten are
    higher: the words start with the place and say the rule of thumb misleads here."""
    dist = [0.1] * 150 + [0.291] + [0.35] * 7 + [0.2] * 4
    r = interpretation.read("dissimilarity", 0.291, national(0.291, dist))
    text = r.sentence()
    assert text.startswith("Plaats 8 van 162 gemeenten")
    assert "bij de hoogste 10% van de gemeenten" in text
    assert text.index("Plaats") < text.index("“laag”")
    assert r.contradicts() and "zegt hier weinig" in text and "waarde hoog" in text
    assert r.rank_text() == "plaats 8 van 162 gemeenten"


def test_no_contradiction_when_place_and_band_agree():
    dist = [0.1 + i / 1000 for i in range(100)]
    r = interpretation.read("dissimilarity", 0.12, national(0.12, dist))
    assert not r.contradicts() and "zegt hier weinig" not in r.sentence()
    assert "in de middengroep" in r.sentence() or "lager dan bij de meeste" in r.sentence()


def test_without_national_comparison_the_reason_comes_first():
    r = interpretation.read("theil_h", 0.3, None, why_no_rank="Geen landelijke vergelijking (fictieve gegevens).")
    assert not r.has_rank and r.rank_text() == ""
    assert r.sentence().startswith("Geen landelijke vergelijking (fictieve gegevens).")
    assert "“hoog”" in r.sentence()


def test_place_words_come_from_the_catalogue():
    assert interpretation.place_words(95) == "bij de hoogste 10% van de gemeenten"
    assert interpretation.place_words(5) == "bij de laagste 10% van de gemeenten"
    assert interpretation.place_words(None) is None
