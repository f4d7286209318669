"""Dutch number formats in every table of every page and in every CSV download, whatever the
language of the visitor's browser: a table shows ``10.210`` and ``27,8`` (through a Styler, not
the browser's "localized" format, which gives ``10,210`` and ``27.8`` in an English browser),
and a CSV has ``10210`` and ``27,8`` (never ``10210,0``)."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
import streamlit as st
from apptest_tools import run_page

PAGES = ["kaart.py", "herkomst.py", "gebiedsprofiel.py", "ontwikkeling.py", "lokale_kaart.py"]  # briefing: no table
#: an English-looking number: a decimal point (not a Dutch thousands dot before three digits),
#: or thousands commas (this app shows three decimals only for values up to 1)
ENGLISH = re.compile(r"^-?\d+\.(\d{1,2}|\d{4,})$|^-?0\.\d+$|^-?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")


def _display_values(proto) -> list[str]:
    """The cells of a Styler's display values (Arrow IPC in the dataframe proto)."""
    raw = proto.arrow_data.styler.display_values
    table = pa.ipc.open_stream(raw).read_all()
    return [str(v) for col in table.columns for v in col.to_pylist() if v is not None]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_table_shows_dutch_numbers_whatever_the_browser_language(page):
    at = run_page(page, timeout=60, niveau="wijk")
    frames = at.dataframe
    assert frames, f"{page}: geen tabel"
    for df in frames:
        proto = df.proto
        numeric = [c for c in df.value.columns if str(df.value[c].dtype).startswith(("int", "float", "Int", "Float"))]
        if not numeric:
            continue
        # the browser's own format would follow its language: not for a table of this size
        assert '"localized"' not in proto.columns, (page, proto.columns)
        assert proto.arrow_data.HasField("styler"), (page, list(df.value.columns))
        cells = _display_values(proto)
        english = [c for c in cells if ENGLISH.match(c)]
        assert english == [], (page, english[:10])
        # numbers are there, the Dutch way (a comma for decimals, a dot for thousands)
        assert any(re.match(r"^−?\d{1,3}(\.\d{3})*(,\d+)?%?$", c) for c in cells), (page, cells[:10])


@pytest.mark.slow
def test_csv_downloads_of_every_page_use_the_one_dutch_dialect(monkeypatch):
    """Every 'Tabel downloaden (CSV)' (lokale kaart included): ``;``, decimal comma, whole
    numbers without ``,0``."""
    got: list[tuple[str, bytes]] = []
    original = st.download_button

    def record(label, data, *args, **kwargs):
        if str(kwargs.get("mime", "")) == "text/csv" or str(kwargs.get("file_name", "")).endswith(".csv"):
            got.append((str(kwargs.get("file_name")), data() if callable(data) else data))
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", record)
    for page in ("kaart.py", "lokale_kaart.py"):
        run_page(page, timeout=60, niveau="wijk")
    assert len(got) >= 3, [n for n, _ in got]
    for name, data in got:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else str(data)
        lines = text.splitlines()
        assert ";" in lines[0], name
        cells = [c for line in lines[1:] for c in line.split(";")]
        assert not [c for c in cells if re.fullmatch(r"-?\d+,0", c)], (name, [c for c in cells if c.endswith(",0")][:5])
        assert not [c for c in cells if re.fullmatch(r"-?\d+\.\d+", c)], name
