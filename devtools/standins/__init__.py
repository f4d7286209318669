"""Stand-in servers for the CBS OData v3 and v4 APIs and PDOK OGC API Features (tests, benchmarks).

    from devtools.standins import CbsODataServer, CbsOData4Server, PdokServer
"""

from devtools.standins._base import FAULT_KINDS, StandinServer
from devtools.standins.cbs_odata import (
    CbsODataServer,
    CbsTable,
    FilterError,
    compile_filter,
    table_from_generated,
    table_from_shared_kwb2024,
)
from devtools.standins.cbs_odata4 import CbsOData4Server, V4Table, v4_table
from devtools.standins.origin_extracts import origin_extract, shared_origin_v3_tables, v3_table
from devtools.standins.pdok import (
    PdokServer,
    features_from_shared_ede_wijken,
    features_from_shared_gemeenten_2022,
)
from devtools.standins.shared_data import SHARED_DATA, require_shared, shared_data_dir

__all__ = [
    "FAULT_KINDS",
    "StandinServer",
    "CbsODataServer",
    "CbsTable",
    "FilterError",
    "compile_filter",
    "table_from_generated",
    "table_from_shared_kwb2024",
    "CbsOData4Server",
    "V4Table",
    "v4_table",
    "origin_extract",
    "shared_origin_v3_tables",
    "v3_table",
    "PdokServer",
    "features_from_shared_ede_wijken",
    "features_from_shared_gemeenten_2022",
    "SHARED_DATA",
    "require_shared",
    "shared_data_dir",
]
