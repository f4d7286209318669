"""The CBS loader through the real cbsodata package against the stand-in OData server:
exact numbers, $filter/$select, paging, both origin schemes, faults, cache behaviour."""

from __future__ import annotations

import math
import threading
import time
from urllib.parse import unquote

import pandas as pd
import pytest

from buurtmonitor import synthetic
from buurtmonitor.harmonise import indicator_frame
from buurtmonitor.model import MISSING_EMPTY
from devtools.standins.cbs_odata import KWB2024_CSV, KWB2024_DIR, CbsODataServer, table_from_generated
from devtools.standins.shared_data import require_shared
from loaders import cbs, repository
from loaders.cache import ParquetStore
from loaders.settings import get_settings

ORIGIN_KEYS = {"inwoners": "AantalInwoners_5", "herkomst_nederland": "Nederland_17",
               "herkomst_europa": "EuropaExclusiefNederland_18", "herkomst_buiten_europa": "BuitenEuropa_19",
               "geb_nl_herkomst_nederland": "Nederland_20", "geb_nl_herkomst_europa": "EuropaExclusiefNederland_21",
               "geb_nl_herkomst_buiten_europa": "BuitenEuropa_22",
               "geb_buiten_nl_herkomst_europa": "EuropaExclusiefNederland_23",
               "geb_buiten_nl_herkomst_buiten_europa": "BuitenEuropa_24"}


@pytest.fixture(scope="module")
def kwb_csv() -> pd.DataFrame:
    shared = require_shared(f"{KWB2024_DIR}/{KWB2024_CSV}")
    df = pd.read_csv(shared / KWB2024_DIR / KWB2024_CSV, sep=";", encoding="utf-8-sig", dtype=str)
    df["code"] = df["Codering_3"].str.strip()
    return df.set_index("code")


@pytest.fixture
def live(cbs_kwb2024, cbs_env, empty_cache_dir):
    cbs_env(cbs=cbs_kwb2024, BUURTMONITOR_RETRIES="2", BUURTMONITOR_BACKOFF="0.01")
    return cbs_kwb2024


def _expected(raw: str | float) -> float:
    return math.nan if pd.isna(raw) or str(raw).strip() in ("", ".") else float(raw)


def assert_counts_equal(table, csv: pd.DataFrame, codes):
    d = table.data.set_index("code")
    for code in codes:
        for var, key in ORIGIN_KEYS.items():
            exp, got = _expected(csv.at[code, key]), d.at[code, var]
            assert (math.isnan(exp) and math.isnan(got)) or exp == got, (code, var, exp, got)


@pytest.mark.slow
def test_ede_wijken_exact(live, kwb_csv):
    table = cbs.load(2024, "GM0228")
    wijken = table.data[table.data["level"] == "wijk"]
    assert len(wijken) == 17
    assert_counts_equal(table, kwb_csv, wijken["code"])
    ede = table.data.set_index("code").loc["GM0228"]
    assert ede["inwoners"] == 123532 and ede["herkomst_buiten_europa"] == 16558
    assert ede["name"] == "Ede" and ede["gemeente_name"] == "Ede"
    assert table.meta.table_id == "85984NED" and table.meta.scheme == "herkomst"
    assert table.meta.resolved_keys["herkomst_nederland"] == "Nederland_17"
    assert table.meta.resolved_keys["geb_nl_herkomst_nederland"] == "Nederland_20"
    assert "NL00" in set(table.data["code"])


@pytest.mark.slow
@pytest.mark.parametrize("gemeente", ["GM0363", "GM0034", "GM0228", "GM0014", "GM1680"])
def test_buurten_exact_for_any_gemeente(live, kwb_csv, gemeente):
    table = cbs.load(2024, gemeente)
    num = gemeente[2:]
    expected = [c for c in kwb_csv.index if c.startswith("BU" + num)]
    buurten = table.data[table.data["level"] == "buurt"]
    assert sorted(buurten["code"]) == sorted(expected)
    assert_counts_equal(table, kwb_csv, expected)
    # codes and names are stripped, buurten know their wijk
    assert not buurten["code"].str.contains(" ").any()
    assert (buurten["wijk_code"].str[2:8] == buurten["code"].str[2:8]).all()


def test_filter_and_select_sent(live):
    cbs.load(2024, "GM0228")
    data_requests = [unquote(r) for r in live.request_log if "TypedDataSet" in r]
    assert data_requests, live.request_log
    for r in data_requests:
        assert "$filter=" in r and "startswith(WijkenEnBuurten,'BU0228')" in r
        assert "$select=" in r and "Nederland_17" in r
    assert not any("UntypedDataSet" in r for r in live.request_log)


def test_suppressed_values_missing_not_zero(live, kwb_csv):
    """Empty cells (suppressed or not yet published) stay missing with a reason, never 0."""
    table = cbs.load(2024, "GM0363")
    d = table.data.set_index("code")
    empty = [c for c in d.index if c.startswith("BU") and pd.isna(kwb_csv.at[c, "Koopwoningen_47"])]
    assert empty, "the extract has empty Koopwoningen cells for Amsterdam buurten"
    for c in empty:
        assert math.isnan(d.at[c, "koopwoningen_pct"])
        assert table.missing.loc[d.index.get_loc(c), "koopwoningen_pct"] == MISSING_EMPTY
    f = indicator_frame(table, "pct_koopwoningen").set_index("code")
    assert f.loc[empty, "value"].isna().all() and f.loc[empty, "missing"].notna().all()
    # bijstand is not published in this release at all: missing everywhere, not 0
    assert d["bijstand"].isna().all()
    # real zeros stay zeros (a buurt with 0 residents of non-European origin)
    zero = [c for c in d.index if c.startswith("BU") and kwb_csv.at[c, "BuitenEuropa_19"] == "0"]
    assert zero and (d.loc[zero, "herkomst_buiten_europa"] == 0).all()


@pytest.mark.slow
def test_all_gemeenten_paged(live, kwb_csv):
    live.page_size = 50
    try:
        table = cbs.load(2024, "gemeenten")
    finally:
        live.page_size = 10000
    d = table.data
    assert (d["level"] == "gemeente").sum() == 172 and (d["level"] == "land").sum() == 1
    assert sum("$skip=" in unquote(r) for r in live.request_log) >= 3
    gm = [c for c in kwb_csv.index if c.startswith("GM")]
    assert_counts_equal(table, kwb_csv, gm)


@pytest.mark.parametrize("kind", ["500", "503", "reset", "truncated", "incomplete"])
def test_transient_faults_are_retried(live, kind):
    live.fail_next(1, kind, path_contains="TypedDataSet")
    table = cbs.load(2024, "GM0228")
    assert (table.data["level"] == "wijk").sum() == 17
    # the failed page was asked again, that page only
    assert len(live.requests_to("TypedDataSet")) == 2


@pytest.mark.slow
def test_a_retry_repeats_one_page_not_the_download(live):
    """Paged download (pages of 50 rows): a fault on the third page repeats that page only."""
    live.page_size = 50
    try:
        live.fail_next(1, "503", path_contains="WmoClientenRelatief_101&$skip=100")  # data page 3
        table = cbs.load(2024, "gemeenten")
    finally:
        live.page_size = 10000
    assert (table.data["level"] == "gemeente").sum() == 172
    pages = live.requests_to("TypedDataSet")
    assert len(pages) == len(set(pages)) + 1
    assert sum("$skip=100" in unquote(r) for r in pages) == 2


@pytest.mark.slow
def test_one_slow_cbs_download_does_not_stall_another_session(live):
    """Two sessions load two uncached gemeenten at once; the first one's data request takes
    3 s. The second must not wait for it (a process-wide lock around CBS calls made it)."""
    live.fail_next(1, "slow", path_contains="BU0228", delay=3)
    took: dict[str, float] = {}
    errors: list[BaseException] = []

    def session(gemeente: str) -> None:
        t0 = time.monotonic()
        try:
            got = repository.load_table(2024, gemeente)
            assert got.origin == "cbs" and got.table.row(gemeente) is not None
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        took[gemeente] = time.monotonic() - t0

    slow = threading.Thread(target=session, args=("GM0228",))
    slow.start()
    deadline = time.monotonic() + 5
    while not live.requests_to("BU0228") and time.monotonic() < deadline:
        time.sleep(0.01)               # the slow request is on its way
    session("GM0034")
    slow.join()
    assert not errors, errors
    assert took["GM0034"] < 1.5, took
    assert took["GM0228"] >= 3.0, took


@pytest.mark.slow
def test_thirty_percent_random_faults(live, cbs_env):
    """30 % of all requests answer 503 or are reset: at least 9 of 10 loads succeed (every
    request is retried on its own, up to the default 4 times)."""
    cbs_env(BUURTMONITOR_RETRIES="4", BUURTMONITOR_BACKOFF="0.001")
    live.fail_randomly(0.3, ("503", "reset"), seed=11)
    ok = 0
    for gemeente in ("GM0228", "GM0034", "GM0363", "GM0014", "GM1680") * 2:
        try:
            ok += int(cbs.load(2024, gemeente).row(gemeente)["inwoners"] > 0)
        except cbs.CbsUnavailable:
            pass
    assert ok >= 9
    assert len(live.request_log) > 40           # faults were really injected and retried


def test_slow_server_times_out_with_clear_message(live, cbs_env):
    cbs_env(BUURTMONITOR_TIMEOUT="0.3", BUURTMONITOR_RETRIES="0")
    live.fail_next(5, "slow", path_contains="DataProperties", delay=1.5)
    with pytest.raises(cbs.CbsUnavailable, match="niet op tijd"):
        cbs.load(2024, "GM0228")


@pytest.mark.slow
def test_persistent_failure_leaves_cache_unchanged(live, cbs_env, empty_cache_dir):
    first = repository.load_table(2024, "GM0228")
    assert first.origin == "cbs"
    store = ParquetStore(empty_cache_dir)
    before = {p.name: p.read_bytes() for p in empty_cache_dir.iterdir()}
    live.fail_next(50, "503")
    with pytest.raises(repository.DataUnavailable, match="CBS .* niet bruikbaar"):
        repository.load_table(2024, "GM0034")
    after = {p.name: p.read_bytes() for p in empty_cache_dir.iterdir()}
    assert before == after
    # the cached copy is served with a warning when CBS fails
    live.clear_faults()
    live.fail_next(50, "reset")
    got = repository.load_table(2024, "GM0228", refresh=True)
    assert got.origin == "cache" and "niet bereikbaar" in got.warning
    assert store.get_table("kwb_2024_GM0228") is not None


def test_offline_after_one_load(live, cbs_env):
    repository.load_table(2024, "GM0228")
    cbs_env(cbs="http://127.0.0.1:9")
    got = repository.load_table(2024, "GM0228")
    assert got.origin == "cache"
    assert got.table.data.set_index("code").at["GM0228", "inwoners"] == 123532


@pytest.mark.slow
def test_corrupt_cache_entry_is_fetched_again(live, empty_cache_dir):
    repository.load_table(2024, "GM0228")
    (path,) = empty_cache_dir.glob("kwb_2024_GM0228.*.parquet")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    got = repository.load_table(2024, "GM0228")
    assert got.origin == "cbs"
    assert got.table.data.set_index("code").at["GM0228", "inwoners"] == 123532


def test_unknown_gemeente(live):
    with pytest.raises(LookupError, match="GM0999"):
        cbs.load(2024, "GM0999")


# ------------------------------------------------------------------ generated tables
def _server_with_generated(year: int, table_id: str, title: str | None = None) -> CbsODataServer:
    raw = synthetic.generate(year)
    infos = [dict(raw.table_infos[0], Identifier=table_id,
                  Title=title or f"Kerncijfers wijken en buurten {year}")]
    table = table_from_generated(table_id=table_id, table_infos=infos, data_properties=raw.data_properties,
                                 dimensions={"WijkenEnBuurten": raw.dimension}, rows=raw.rows)
    return CbsODataServer([table])


def test_migratieachtergrond_scheme_with_drifting_suffixes(cbs_env, empty_cache_dir):
    """An old-scheme year (2019) served under its real table id: keys resolved by stem."""
    raw = synthetic.generate(2019)
    with _server_with_generated(2019, "84583NED") as srv:
        cbs_env(cbs=srv)
        table = cbs.load(2019, "GM9901")
    assert table.meta.scheme == "migratieachtergrond"
    keys = table.meta.resolved_keys
    assert keys["westers"].startswith("WestersTotaal_") and keys["marokko"].startswith("Marokko_")
    # suffixes differ from the 2024-style generated table: they are not hard-coded
    assert keys["inwoners"] == "AantalInwoners_5"
    assert keys["huishoudens"] != [p["Key"] for p in synthetic.data_properties(2024)
                                   if p.get("Key", "").startswith("HuishoudensTotaal")][0]
    d = table.data.set_index("code")
    by_key = {r["Codering_3"].strip(): r for r in raw.rows}
    for code in ("GM9901", "WK990103", "BU99010201"):
        assert d.at[code, "westers"] == by_key[code][keys["westers"]]
        assert d.at[code, "nederlandse_achtergrond"] == (
            by_key[code][keys["inwoners"]] - by_key[code][keys["westers"]] - by_key[code][keys["niet_westers"]])
    assert d["herkomst_nederland"].isna().all()


def test_year_found_in_cbs_catalogue(cbs_env, empty_cache_dir):
    with _server_with_generated(2024, "86999NED", "Kerncijfers wijken en buurten 2025") as srv:
        cbs_env(cbs=srv)
        assert cbs.table_id_for_year(2025) == "86999NED"
        assert cbs.discover_tables() == {2025: "86999NED"}


def test_settings_from_env(cbs_env, tmp_path):
    cbs_env(cbs="http://127.0.0.1:8000/mirror", pdok="http://127.0.0.1:8001", BUURTMONITOR_CACHE_DIR=str(tmp_path))
    s = get_settings()
    assert s.cbs_scheme_and_host == (False, "127.0.0.1:8000/mirror")
    assert s.pdok_url == "http://127.0.0.1:8001" and s.cache_dir == tmp_path
