"""``python -m buurtmonitor export`` (real subprocesses) against the stand-in CBS (real KWB
2024 extract) and PDOK (Ede's wijken): every format opens and holds what it should, and
a failure gives a Dutch message, a non-zero exit code and no output file.

Image formats need Chromium and are skipped without it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR
from devtools.standins.shared_data import require_shared

REPO = Path(__file__).resolve().parents[1]
IND = "pct_herkomst_buiten_europa"
TITLE = "Herkomst buiten Europa per wijk, Ede, 2024"
EDE_WIJKEN = 17


def _browser() -> str | None:
    path = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


needs_browser = pytest.mark.skipif(
    _browser() is None,
    reason="geen Chromium gevonden (BROWSER_PATH of /usr/bin/chromium): PNG/SVG/PDF/PPTX met "
           "figuren kunnen hier niet worden gemaakt")


@pytest.fixture(scope="module")
def env(cbs_kwb2024_server, pdok_ede_server, tmp_path_factory):
    """Environment for the subprocesses; one cache for the module (CBS is asked once)."""
    cbs_kwb2024_server.reset()
    pdok_ede_server.reset()
    base = tmp_path_factory.mktemp("cli_export")
    e = {**os.environ, "CBS_ODATA_URL": cbs_kwb2024_server.url, "PDOK_URL": pdok_ede_server.url,
         "BUURTMONITOR_CACHE_DIR": str(base / "cache"), "BUURTMONITOR_DATA_DIR": str(base / "data"),
         "BUURTMONITOR_RETRIES": "1", "BUURTMONITOR_BACKOFF": "0.01"}
    e.pop("BUURTMONITOR_OFFLINE", None)
    return e


def export(env: dict, fmt: str, out: Path, indicator: str = IND, timeout: int = 180,
           **extra: str) -> subprocess.CompletedProcess:
    started = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "buurtmonitor", "export", "--year", "2024", "--gemeente", "GM0228",
         "--indicator", indicator, "--format", fmt, "--out", str(out)],
        cwd=REPO, env={**env, **extra}, capture_output=True, text=True, timeout=timeout)
    res.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return res


def ok(res: subprocess.CompletedProcess, out: Path) -> bytes:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert out.is_file() and out.stat().st_size > 0
    assert not list(out.parent.glob(f".{out.name}.*")), "tijdelijk bestand achtergebleven"
    return out.read_bytes()


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


# ----------------------------------------------------------------------------- tables
def test_csv_values_equal_cbs(env, tmp_path):
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}")
    out = tmp_path / "ede.csv"
    data = ok(export(env, "csv", out), out)
    assert data.startswith("\ufeff".encode())
    df = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig", dtype={"Code": str})
    src = pd.read_csv(shared / KWB2024_DIR / KWB2024_CSV, sep=";", encoding="utf-8-sig", dtype=str)
    src["code"] = src["Codering_3"].str.strip()
    src = src.set_index("code")
    wijken = df[df["Soort"] == "Wijk"]
    assert len(wijken) == EDE_WIJKEN and set(wijken["Code"]) == {c for c in src.index if c.startswith("WK0228")}
    for _, row in df.iterrows():
        num = int(src.at[row["Code"], "BuitenEuropa_19"])
        den = int(src.at[row["Code"], "AantalInwoners_5"])
        assert row["Herkomst buiten Europa (aantal)"] == num, row["Code"]
        assert row["n"] == den, row["Code"]
        assert row["Herkomst buiten Europa (%)"] == pytest.approx(round(100 * num / den, 1), abs=1e-9)
    gem = df[df["Code"] == "GM0228"].iloc[0]
    assert gem["Herkomst buiten Europa (%)"] == 13.4
    assert df["bron"].str.startswith("Bron: CBS").all() and "let_op" not in df.columns


def test_xlsx_has_data_and_metadata(env, tmp_path):
    import openpyxl

    out = tmp_path / "ede.xlsx"
    data = ok(export(env, "xlsx", out), out)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Gegevens", "Metadata"]
    rows = list(wb["Gegevens"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Code", "Naam", "Soort") and len(rows) == 1 + EDE_WIJKEN + 2
    meta = {r[0]: r[1] for r in wb["Metadata"].iter_rows(values_only=True) if r[0]}
    assert meta["Titel"] == TITLE and meta["Bron"].startswith("Bron: CBS")
    assert meta["CBS-tabellen"] == "85984NED" and meta["Jaren"] == "2024"


# ----------------------------------------------------------------------------- images
@needs_browser
def test_png_print_resolution_not_blank(env, tmp_path):
    import numpy as np
    from PIL import Image

    out = tmp_path / "ede.png"
    res = export(env, "png", out)
    im = Image.open(io.BytesIO(ok(res, out))).convert("RGB")
    assert im.width >= 2400
    px = np.asarray(im)
    assert px.std() > 20  # not one colour
    coloured = (np.abs(px.astype(int) - 255).sum(axis=2) > 60).mean()
    assert coloured > 0.15, coloured  # the wijken are filled
    print(f"png: {res.seconds:.1f} s")


@needs_browser
def test_svg_parses_and_has_source(env, tmp_path):
    out = tmp_path / "ede.svg"
    data = ok(export(env, "svg", out), out)
    root = ET.fromstring(data)
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    assert "Bron: CBS" in text and TITLE in text


@needs_browser
def test_pdf_has_title_and_source(env, tmp_path):
    out = tmp_path / "ede.pdf"
    text = pdf_text(ok(export(env, "pdf", out), out))
    assert TITLE in text and "Bron: CBS" in text


@needs_browser
def test_pptx_one_slide_per_view_with_pictures(env, tmp_path):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    out = tmp_path / "ede.pptx"
    prs = Presentation(io.BytesIO(ok(export(env, "pptx", out), out)))
    slides = list(prs.slides)
    pictured = [s for s in slides[1:] if any(sh.shape_type == MSO_SHAPE_TYPE.PICTURE for sh in s.shapes)]
    assert len(pictured) == 2 and len(slides) == 4  # title, map, the table of every wijk, herkomst
    texts = ["\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in slides]
    assert TITLE in texts[1] and "Herkomst per wijk, Ede, 2024" in texts[3]
    assert "alle gebieden" in texts[2]                                 # the table of every wijk
    assert all("Bron: CBS" in t for t in texts)
    assert "13,4%" in texts[1]


def test_html_works_without_browser(env, tmp_path):
    out = tmp_path / "ede.html"
    data = ok(export(env, "html", out, BROWSER_PATH="/nonexistent"), out).decode("utf-8")
    assert "<html" in data and "plotly" in data.lower()
    assert TITLE in data and "Bron: CBS" in data and "13,4%" in data


# ----------------------------------------------------------------------------- failures
def test_bad_indicator_dutch_message_no_file(env, tmp_path):
    out = tmp_path / "kaart.png"
    res = export(env, "png", out, indicator="bestaat_niet")
    assert res.returncode != 0
    assert "Onbekende indicator 'bestaat_niet'" in res.stderr
    assert "python -m buurtmonitor indicators" in res.stderr
    assert "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_indicator_of_the_other_scheme(env, tmp_path):
    out = tmp_path / "kaart.csv"
    res = export(env, "csv", out, indicator="pct_niet_westers")
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "2022 → 2023" in res.stderr and "pct_herkomst_buiten_europa" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_browser_png_dutch_message_no_file(env, tmp_path):
    out = tmp_path / "kaart.png"
    res = export(env, "png", out, BROWSER_PATH="/nonexistent")
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "niet beschikbaar" in res.stderr and "--format html" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_file_untouched_on_failure(env, tmp_path):
    out = tmp_path / "kaart.png"
    out.write_bytes(b"vorige versie")
    res = export(env, "png", out, BROWSER_PATH="/nonexistent")
    assert res.returncode != 0
    assert out.read_bytes() == b"vorige versie"
    assert [p.name for p in tmp_path.iterdir()] == ["kaart.png"]


def test_missing_folder(env, tmp_path):
    out = tmp_path / "bestaat-niet" / "kaart.csv"
    res = export(env, "csv", out)
    assert res.returncode != 0 and "bestaat niet" in res.stderr and "Traceback" not in res.stderr
    assert not out.parent.exists()
