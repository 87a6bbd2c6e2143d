"""The L1 contracts of the devnet, built by the project: a deposit contract (OptimismPortal stand-in) and a
SystemConfig stand-in, written in EVM assembly (:mod:`.asm`) and documented next to their source."""
