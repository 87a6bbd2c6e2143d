from tests.replay.witness_data import real_run  # noqa: F401  (session-scoped: the real store is unpacked and run once)
