"""Exports as bytes: ExportItem, CSV/XLSX, static images (kaleido), PDF and PPTX packs."""
