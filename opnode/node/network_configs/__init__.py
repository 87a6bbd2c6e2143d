"""Bundled rollup.json files of the named networks (from the superchain registry)."""
