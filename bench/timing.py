"""Small helpers shared by the benchmark sections."""

import statistics
import time


def best_of(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` rounds (the least disturbed run on a shared machine)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return min(times)


def median(xs):
    return statistics.median(xs)


def header(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 100 - len(title)))
