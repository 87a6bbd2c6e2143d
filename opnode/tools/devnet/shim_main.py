"""``python -m opnode.tools.devnet.shim_main --anvil URL --port P``: the beacon shim as its own process (the devnet runs
every component as a process it can stop)."""

import argparse
from functools import partial

import trio

from opnode.tools.beacon_shim import BeaconShim


def main() -> None:
    p = argparse.ArgumentParser(description="beacon API shim in front of anvil")
    p.add_argument("--anvil", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seconds-per-slot", type=int, default=1)
    a = p.parse_args()

    async def run():
        shim = BeaconShim(a.anvil, seconds_per_slot=a.seconds_per_slot)
        async with trio.open_nursery() as n:
            url = await n.start(partial(shim.serve, host="127.0.0.1", port=a.port))
            print(f"beacon shim listening on {url}", flush=True)

    try:
        trio.run(run)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
