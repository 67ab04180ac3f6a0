"""Everything that touches the world: readers, ingest, merge, clock, Gold, manifest, live, CLI."""
