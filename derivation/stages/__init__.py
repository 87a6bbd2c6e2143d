"""The derivation stages, one module each, named after the spec's stages (specs: derivation.md)."""
