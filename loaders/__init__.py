"""Everything that touches the network or files: CBS, PDOK, imports, cache, notes."""
