"""The application layer: Streamlit pieces shared by the pages, and the command line.

May use both the pure domain (:mod:`buurtmonitor`) and the I/O layer (:mod:`loaders`).
"""
