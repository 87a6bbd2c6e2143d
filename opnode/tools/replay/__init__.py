"""``opnode replay``: record an L1 range with everything derivation asks for, replay it offline and explain it.

- :mod:`.format`: the recording file (gzip-compressed JSON lines with per-record checksums) and the checks that
  make a corrupt file an error instead of a replay.
- :mod:`.store`: a recording's content in memory, verified as it is filled (by the recorder or from a file).
- :mod:`.sources`: the pipeline's L1 and L2 providers over a store.
- :mod:`.session`: one derivation run over a store, shared by recorder and replayer so both derive alike.
- :mod:`.recorder`, :mod:`.live`: recording against live RPCs (or any async source).
- :mod:`.replayer`, :mod:`.compare`, :mod:`.inspect`, :mod:`.render`: replay, comparison with the real L2 blocks,
  the channel ↔ L1 ↔ L2 mapping, and their text and JSON output.
"""
