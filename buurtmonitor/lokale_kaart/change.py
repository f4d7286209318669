"""Change signals between two KWB years for the lokale kaart.

:func:`compare_years` compares the origin composition of the same areas in two years of
the *same* classification scheme. Across the CBS break 2022 → 2023 (migratieachtergrond
→ herkomst) there is no signal: :class:`SchemeBreakError` is raised.

Per area (present in both years, complete counts, population > 0):

* population change: ``Δt = t_b − t_a`` and ``100·Δt/t_a`` (%);
* per group: share ``pₖ = xₖ/t`` (t = the given total, else the sum of the groups) in
  both years and the change ``100·(p_b,k − p_a,k)`` in percentage points (pp);
* compositional change ``C = 100 · ½·Σₖ |p_b,k − p_a,k|`` in pp: the dissimilarity between
  the area's two compositions (the share of residents that would have to be "swapped" to
  turn one year's composition into the other's);
* flags (thresholds are parameters) with the threshold and the reason in plain Dutch, e.g.
  "Aandeel herkomst buiten Europa steeg 6,2 procentpunt (drempel 5)".

Areas with fewer than ``min_population`` residents in either year get no flags but the
status "te klein voor een betrouwbaar signaal". Areas present in only one year (new or
changed boundaries/codes) are listed and not compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from buurtmonitor import formatting as fmt
from buurtmonitor.lokale_kaart.segregation import group_label

STATUS_SIGNAL = "signaal"
STATUS_NO_SIGNAL = "geen signaal"
STATUS_TOO_SMALL = "te klein voor een betrouwbaar signaal"

SIGNAL_SHARE = "aandeel"
SIGNAL_POPULATION = "inwoners"
SIGNAL_COMPOSITION = "samenstelling"

DEFAULT_SHARE_THRESHOLD_PP = 5.0
DEFAULT_POPULATION_THRESHOLD_PCT = 10.0
DEFAULT_COMPOSITION_THRESHOLD_PP = 5.0
DEFAULT_MIN_POPULATION = 200

SCHEME_LABELS = {"herkomst": "herkomst (vanaf 2023)",
                 "migratieachtergrond": "migratieachtergrond (tot en met 2022)"}


class SchemeBreakError(ValueError):
    """The two years use different origin classifications; ``str(exc)`` is Dutch."""


def _nl_threshold(x: float) -> str:
    """A threshold as typed: "5", "7,5"."""
    return fmt.number(x, 0) if float(x).is_integer() else fmt.number(x, 2).rstrip("0")


def caveat_text(min_population: int = DEFAULT_MIN_POPULATION) -> str:
    """Dutch caveat shown with every change result."""
    return (
        "Let op: CBS rondt de aantallen per buurt af op vijftallen. In een buurt met "
        f"{fmt.number(min_population, 0)} inwoners kan een aandeel daardoor in elk jaar al ruim 1 "
        "procentpunt afwijken, en het verschil tussen twee jaren dus het dubbele, zonder "
        "dat er echt iets verandert; bij kleinere buurten nog meer. "
        f"Gebieden met minder dan {fmt.number(min_population, 0)} inwoners krijgen daarom geen "
        "signaal. Een signaal is een aanleiding om te kijken, geen bewijs: nieuwbouw, sloop, "
        "een opvanglocatie of studentenhuisvesting kan de samenstelling snel veranderen. "
        "Gebieden waarvan de code of grens tussen beide jaren is veranderd, worden niet "
        "vergeleken."
    )


@dataclass(frozen=True)
class ChangeResult:
    """Result of :func:`compare_years`.

    ``areas``: one row per compared area: ``code``, ``total_a``, ``total_b``,
    ``pop_change``, ``pop_change_pct``, ``composition_change_pp``, ``status``
    (:data:`STATUS_SIGNAL` / :data:`STATUS_NO_SIGNAL` / :data:`STATUS_TOO_SMALL`),
    ``n_flags``, ``reasons`` (the flag reasons joined with "; ").
    ``shares``: long form, one row per area and group: ``code``, ``group``, ``label``,
    ``share_a_pct``, ``share_b_pct``, ``change_pp``.
    ``flags``: one row per flag: ``code``, ``signal`` (aandeel/inwoners/samenstelling),
    ``group`` (or None), ``value``, ``threshold``, ``unit``, ``reason`` (Dutch).
    ``not_compared``: ``[{"code", "reason"}]`` (missing value or no residents).
    """

    areas: pd.DataFrame
    shares: pd.DataFrame
    flags: pd.DataFrame
    year_a: int
    year_b: int
    scheme: str
    groups: list[str]
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    not_compared: list[dict[str, str]] = field(default_factory=list)
    groups_not_compared: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    caveat: str = ""

    @property
    def boundary_changes(self) -> list[dict[str, str]]:
        """Areas in one year only, with a Dutch reason."""
        return ([{"code": c, "reason": f"alleen in {self.year_a} (grens of code gewijzigd)"}
                 for c in self.only_in_a]
                + [{"code": c, "reason": f"alleen in {self.year_b} (grens of code gewijzigd)"}
                   for c in self.only_in_b])

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        def clean(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for rec in frame.to_dict(orient="records"):
                for k, v in rec.items():
                    if isinstance(v, (float, np.floating)):
                        rec[k] = float(v) if math.isfinite(v) else None
                    elif isinstance(v, np.integer):
                        rec[k] = int(v)
                    elif isinstance(v, np.bool_):
                        rec[k] = bool(v)
                out.append(rec)
            return out

        return {"year_a": self.year_a, "year_b": self.year_b, "scheme": self.scheme,
                "groups": self.groups, "areas": clean(self.areas),
                "shares": clean(self.shares), "flags": clean(self.flags),
                "only_in_a": self.only_in_a, "only_in_b": self.only_in_b,
                "boundary_changes": self.boundary_changes,
                "not_compared": self.not_compared,
                "groups_not_compared": self.groups_not_compared,
                "thresholds": self.thresholds, "caveat": self.caveat}


def _frame(counts: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    f = counts[list(groups)].apply(pd.to_numeric, errors="coerce").astype(float)
    f.index = f.index.astype(str)
    return f


def _totals(total: pd.Series | None, frame: pd.DataFrame) -> pd.Series:
    if total is None:
        return frame.sum(axis=1, skipna=False)
    t = pd.to_numeric(pd.Series(total), errors="coerce").astype(float)
    t.index = t.index.astype(str)
    return t.reindex(frame.index)


def compare_years(counts_a: pd.DataFrame, counts_b: pd.DataFrame, *,
                  year_a: int, year_b: int, scheme_a: str, scheme_b: str,
                  total_a: pd.Series | None = None, total_b: pd.Series | None = None,
                  groups: Sequence[str] | None = None,
                  labels: Mapping[str, str] | None = None,
                  share_threshold_pp: float = DEFAULT_SHARE_THRESHOLD_PP,
                  population_threshold_pct: float = DEFAULT_POPULATION_THRESHOLD_PCT,
                  composition_threshold_pp: float = DEFAULT_COMPOSITION_THRESHOLD_PP,
                  min_population: int = DEFAULT_MIN_POPULATION) -> ChangeResult:
    """Change signals per area between ``year_a`` (earlier) and ``year_b`` (later).

    ``counts_a``/``counts_b``: index = area code, columns = origin groups (persons, NaN =
    suppressed). ``groups``: the columns to compare (default: those in both frames).
    A flag is raised when ``|change| ≥ threshold``. Raises :class:`SchemeBreakError` when
    the schemes differ, ``ValueError`` (Dutch) for unusable input.
    """
    if scheme_a != scheme_b:
        la, lb = SCHEME_LABELS.get(scheme_a, scheme_a), SCHEME_LABELS.get(scheme_b, scheme_b)
        raise SchemeBreakError(
            f"Geen veranderingssignaal: {year_a} gebruikt de indeling naar {la} en "
            f"{year_b} de indeling naar {lb}. CBS is in 2023 overgestapt van "
            "migratieachtergrond naar herkomst; de groepen zijn anders afgebakend, dus een "
            "verschil tussen deze jaren zegt niets over echte verandering in de buurt. "
            "Vergelijk alleen jaren met dezelfde indeling.")
    if year_a >= year_b:
        raise ValueError(f"Het eerste jaar ({year_a}) moet vóór het tweede jaar ({year_b}) "
                         "liggen.")
    if groups is None:
        groups = [g for g in counts_a.columns if g in counts_b.columns]
        not_compared_groups = sorted({*map(str, counts_a.columns), *map(str, counts_b.columns)}
                                     - set(map(str, groups)))
    else:
        groups = list(groups)
        absent = [g for g in groups if g not in counts_a.columns or g not in counts_b.columns]
        if absent:
            raise ValueError(f"Groep(en) niet in beide jaren aanwezig: {', '.join(absent)}.")
        not_compared_groups = []
    if not groups:
        raise ValueError("De twee jaren hebben geen gemeenschappelijke groepen.")

    fa, fb = _frame(counts_a, groups), _frame(counts_b, groups)
    ta, tb = _totals(total_a, fa), _totals(total_b, fb)
    codes_a, codes_b = list(fa.index), list(fb.index)
    set_a, set_b = set(codes_a), set(codes_b)
    only_a = [c for c in codes_a if c not in set_b]
    only_b = [c for c in codes_b if c not in set_a]
    common = [c for c in codes_a if c in set_b]

    thresholds = {"share_pp": float(share_threshold_pp),
                  "population_pct": float(population_threshold_pct),
                  "composition_pp": float(composition_threshold_pp),
                  "min_population": float(min_population)}
    not_compared: list[dict[str, str]] = []
    area_rows: list[dict[str, Any]] = []
    share_rows: list[dict[str, Any]] = []
    flag_rows: list[dict[str, Any]] = []
    glabels = {g: group_label(g, labels) for g in groups}
    dimension = "migratieachtergrond" if scheme_a == "migratieachtergrond" else "herkomst"

    for code in common:
        xa, xb = fa.loc[code].to_numpy(), fb.loc[code].to_numpy()
        t0, t1 = float(ta.loc[code]), float(tb.loc[code])
        reason = None
        for yr, x, t in ((year_a, xa, t0), (year_b, xb, t1)):
            if np.isnan(x).any() or math.isnan(t):
                miss = [glabels[g] for g, v in zip(groups, x) if math.isnan(v)]
                what = ", ".join(miss) if miss else "aantal inwoners"
                reason = f"ontbrekende waarde in {yr} (geheim of niet beschikbaar): {what}"
                break
            if t <= 0:
                reason = f"geen inwoners in {yr}"
                break
        if reason:
            not_compared.append({"code": code, "reason": reason})
            continue
        pa, pb = xa / t0, xb / t1
        dpp = 100.0 * (pb - pa)
        comp = 0.5 * float(np.abs(dpp).sum())
        dpop = t1 - t0
        dpct = 100.0 * dpop / t0
        small = min(t0, t1) < min_population
        reasons: list[str] = []
        if not small:
            for g, d in zip(groups, dpp):
                if abs(d) >= share_threshold_pp - 1e-9:
                    verb = "steeg" if d > 0 else "daalde"
                    text = (f"Aandeel {glabels[g]} {verb} {fmt.number(abs(d))} procentpunt "
                            f"(drempel {_nl_threshold(share_threshold_pp)})")
                    flag_rows.append({"code": code, "signal": SIGNAL_SHARE, "group": g,
                                      "value": float(d), "threshold": float(share_threshold_pp),
                                      "unit": "procentpunt", "reason": text})
                    reasons.append(text)
            if abs(dpct) >= population_threshold_pct - 1e-9:
                verb = "steeg" if dpct > 0 else "daalde"
                text = (f"Aantal inwoners {verb} {fmt.number(abs(dpct))}% (van {fmt.number(t0, 0)} naar "
                        f"{fmt.number(t1, 0)}; drempel {_nl_threshold(population_threshold_pct)}%)")
                flag_rows.append({"code": code, "signal": SIGNAL_POPULATION, "group": None,
                                  "value": float(dpct),
                                  "threshold": float(population_threshold_pct),
                                  "unit": "procent", "reason": text})
                reasons.append(text)
            if len(groups) > 1 and comp >= composition_threshold_pp - 1e-9:
                text = (f"Samenstelling naar {dimension} veranderde {fmt.number(comp)} procentpunt "
                        f"(helft van de som van alle verschuivingen in aandelen; drempel "
                        f"{_nl_threshold(composition_threshold_pp)})")
                flag_rows.append({"code": code, "signal": SIGNAL_COMPOSITION, "group": None,
                                  "value": comp, "threshold": float(composition_threshold_pp),
                                  "unit": "procentpunt", "reason": text})
                reasons.append(text)
        status = STATUS_TOO_SMALL if small else (STATUS_SIGNAL if reasons else STATUS_NO_SIGNAL)
        area_rows.append({"code": code, "total_a": t0, "total_b": t1, "pop_change": dpop,
                          "pop_change_pct": dpct, "composition_change_pp": comp,
                          "status": status, "n_flags": len(reasons),
                          "reasons": "; ".join(reasons)})
        for g, s0, s1, d in zip(groups, pa, pb, dpp):
            share_rows.append({"code": code, "group": g, "label": glabels[g],
                               "share_a_pct": 100.0 * s0, "share_b_pct": 100.0 * s1,
                               "change_pp": float(d)})

    areas = pd.DataFrame(area_rows, columns=["code", "total_a", "total_b", "pop_change",
                                             "pop_change_pct", "composition_change_pp",
                                             "status", "n_flags", "reasons"])
    shares = pd.DataFrame(share_rows, columns=["code", "group", "label", "share_a_pct",
                                               "share_b_pct", "change_pp"])
    flags = pd.DataFrame(flag_rows, columns=["code", "signal", "group", "value", "threshold",
                                             "unit", "reason"])
    return ChangeResult(areas=areas, shares=shares, flags=flags, year_a=int(year_a),
                        year_b=int(year_b), scheme=scheme_a, groups=list(groups),
                        only_in_a=only_a, only_in_b=only_b, not_compared=not_compared,
                        groups_not_compared=not_compared_groups, thresholds=thresholds,
                        caveat=caveat_text(min_population))
