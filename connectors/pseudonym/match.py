"""Matching pseudonymised records: a blocked index and a region-wise Dice scorer.

Works on what the kit produces and on what the gateway stores after re-keying: exact tokens are
only compared for equality (a re-keyed token is as good as the original) and Bloom filters only
through Dice coefficients of their regions, which a secret permutation of the bit positions
*within each region* leaves unchanged (see ``connectors.pseudonym.rekey``).

Score of two records, in [0, 1]:

1. per region (names, demo = birth year ± 1 and sex, day, place, id) the Dice coefficient when
   both records have bits there, else a neutral "missing" value;
2. their weighted mean (names weigh most);
3. each shared exact token (at most ``max_tokens_counted``) closes ``token_weight`` of the gap
   to 1: a shared phone number is evidence the filters do not carry.

Blocking, so that a query never scans the whole index (the union of three lookups):

* exact tokens: a 64-bit digest of every token, in a sorted array;
* loose LSH tables: ``tables`` samples of ``bits_per_key`` bits of the names region (similar
  names) combined with the birth year: probed at the query's year ± ``year_window`` and at
  "unknown year";
* strict LSH tables: ``strict_tables`` samples of ``strict_bits_per_key`` bits (near-identical
  names), probed at year ± ``strict_year_window``, or at every year when the query has none.

Keys are ``table | sampled bits | year`` in one sorted ``uint64`` array per segment, so a
year window is one contiguous range found with ``searchsorted``. The birth year used here is
the plain ``birth_year`` the gateway keeps for age bands; without it, records fall back to
the "unknown year" keys and are still found.

The index is a small log-structured set of immutable segments: ``add`` writes to a buffer,
full buffers become segments, and segments of similar size are merged, so a long series of
``add`` costs O(n log n) overall and a query touches O(log n) segments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from connectors.pseudonym.bloom import DEFAULT_BITS, REGIONS, bloom_from_text, region_layout
from connectors.pseudonym.encoder import LinkageEncoding

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

DEFAULT_THRESHOLD = 0.56


def _default_weights() -> dict[str, float]:
    return {"names": 1.0, "demo": 0.4, "sex": 0.3, "day": 0.3, "place": 0.2, "id": 0.5}


def _default_neutral() -> dict[str, float]:
    return {"names": 0.0, "demo": 0.6, "sex": 0.5, "day": 0.5, "place": 0.5, "id": 0.5}


@dataclass(frozen=True)
class MatchConfig:
    """Scoring and blocking parameters; the defaults are the tuned ones (docs/linkage.md)."""

    threshold: float = DEFAULT_THRESHOLD
    # Evidence of a region present on both sides: weight × (Dice − neutral); none if missing.
    region_weights: Mapping[str, float] = field(default_factory=_default_weights)
    region_neutral: Mapping[str, float] = field(default_factory=_default_neutral)
    # Evidence of shared exact tokens (a phone number the filters do not carry).
    token_weight: float = 0.15
    # Tokens are correlated (names + year, family + given + year ...): count at most this many.
    max_tokens_counted: int = 1
    # Agreeing on a common name is weaker evidence than on a rare one: subtract this much per
    # doubling of the number of namesakes (names Dice >= namesake_dice) the query has.
    frequency_weight: float = 0.03
    namesake_dice: float = 0.9
    bits: int = DEFAULT_BITS
    # Blocking: loose tables (similar names, birth year ± year_window or unknown) and strict
    # tables (near-identical names, year ± strict_year_window, any year when unknown).
    tables: int = 32
    bits_per_key: int = 24
    strict_tables: int = 8
    strict_bits_per_key: int = 32
    year_window: int = 2
    strict_year_window: int = 10
    seed: int = 20_240_611
    buffer_size: int = 2048


DEFAULT_CONFIG = MatchConfig()


@dataclass(frozen=True, slots=True)
class LinkageRecord:
    """What the matcher needs of one record: exact tokens and a Bloom filter."""

    tokens: tuple[str, ...]
    bloom: bytes
    birth_year: int | None = None
    sex: str | None = None

    @classmethod
    def build(
        cls,
        *,
        pseudonym: str,
        tokens: Iterable[str],
        bloom: bytes,
        birth_year: int | None,
        sex: str | None,
    ) -> LinkageRecord:
        """The pseudonym counts as evidence only when birth year and sex are known.

        Without them it is a token of the name alone, which every namesake shares.
        """
        known = birth_year is not None and sex not in (None, "", "unknown")
        chosen = ([pseudonym] if known and pseudonym else []) + [t for t in tokens if t]
        return cls(tuple(chosen), bloom, birth_year, sex if sex != "unknown" else None)

    @classmethod
    def from_encoding(cls, encoding: LinkageEncoding) -> LinkageRecord:
        return cls.build(
            pseudonym=encoding.pseudonym,
            tokens=encoding.tokens,
            bloom=encoding.bloom,
            birth_year=encoding.birth_year,
            sex=encoding.sex,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LinkageRecord:
        """A row written by ``mno pseudonymise`` (columns pseudonym, tokens, bloom, ...)."""
        year = row.get("birth_year")
        return cls.build(
            pseudonym=str(row.get("pseudonym") or ""),
            tokens=str(row.get("tokens") or "").split(),
            bloom=bloom_from_text(str(row["bloom"])),
            birth_year=int(year) if year not in (None, "") else None,
            sex=str(row.get("sex") or "") or None,
        )


def token_digest(token: str) -> int:
    """64-bit digest used as the index key of an exact token."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def _words(blooms: Sequence[bytes], bits: int) -> U64:
    n_bytes = bits // 8
    if any(len(bloom) != n_bytes for bloom in blooms):
        raise ValueError(f"every Bloom filter must be {n_bytes} bytes")
    buffer = b"".join(blooms)
    return np.frombuffer(buffer, dtype="<u8").astype(np.uint64).reshape(len(blooms), bits // 64)


def _ranges(starts: I64, counts: I64) -> I64:
    """Concatenation of ``arange(s, s + c)`` for each (s, c), without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    offsets = np.repeat(starts - (ends - counts), counts)
    return offsets + np.arange(total, dtype=np.int64)


def _unique(values: I64) -> tuple[I64, I64]:
    """Sorted distinct values and their counts (numpy's hash-based ``unique`` is slower here)."""
    if len(values) == 0:
        return values, np.zeros(0, dtype=np.int64)
    ordered = np.sort(values)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts


class _Scorer:
    """Region-wise popcounts and the score formula, vectorised (float32: it is memory-bound)."""

    def __init__(self, config: MatchConfig) -> None:
        layout = region_layout(config.bits)
        self.word_starts = np.array([layout[region][0] // 64 for region in REGIONS], np.intp)
        self.names_words = layout["names"][1] // 64  # the names region comes first
        self.weights = np.array([config.region_weights[r] for r in REGIONS], dtype=np.float32)
        self.neutral = np.array([config.region_neutral[r] for r in REGIONS], dtype=np.float32)
        self.token_weight = config.token_weight
        self.max_tokens = config.max_tokens_counted
        self.frequency_weight = config.frequency_weight
        # The largest possible evidence: every region and token agreeing. Dividing by it puts
        # scores in [0, 1] without changing their order.
        self.scale = float(
            self.weights @ (1.0 - self.neutral) + self.token_weight * self.max_tokens
        )

    def popcounts(self, words: U64) -> F32:
        """[n, regions] number of set bits per region."""
        # No BLAS here (a matmul would do it, but threaded OpenBLAS thrashes on small shapes).
        counts: F32 = np.add.reduceat(
            np.bitwise_count(words), self.word_starts, axis=1, dtype=np.float32
        )
        return counts

    def evidence(
        self, words_a: U64, words_b: U64, pop_a: F32, pop_b: F32, shared: I64
    ) -> tuple[F32, F32]:
        """(evidence, names Dice) of aligned pairs of filters."""
        common = self.popcounts(words_a & words_b)
        present = (pop_a > 0) & (pop_b > 0)
        dice = 2.0 * common / np.maximum(pop_a + pop_b, 1.0)
        # A region empty on either side says nothing: it contributes its neutral value.
        evidence: F32 = (((dice - self.neutral) * present) * self.weights).sum(axis=1)
        if self.token_weight:
            evidence += np.float32(self.token_weight) * np.minimum(shared, self.max_tokens)
        return evidence, dice[:, 0]

    def names_dice(self, words_a: U64, words_b: U64, names_a: F32, names_b: F32) -> F32:
        """Dice of the names regions only (the first, cheapest pass)."""
        end = self.names_words
        common = np.bitwise_count(words_a[:, :end] & words_b[:, :end]).sum(axis=1, dtype=np.float32)
        dice: F32 = 2.0 * common / np.maximum(names_a + names_b, 1.0)
        return dice

    def names_floor(self, pops: F32, has_tokens: npt.NDArray[np.bool_], threshold: float) -> F32:
        """Lowest names Dice that can still reach ``threshold``, given what each query has.

        A region empty in the query contributes nothing whatever the candidate: candidates
        below the floor are dropped before the full evidence is computed (exact, no recall
        lost).
        """
        possible = (pops[:, 1:] > 0) @ (self.weights[1:] * (1.0 - self.neutral[1:]))
        possible = possible + self.token_weight * min(self.max_tokens, 1) * has_tokens
        floor: F32 = ((threshold * self.scale - possible) / self.weights[0] - 1e-4).astype(
            np.float32
        )
        return floor

    def finish(self, evidence: F32, namesakes: I64) -> F64:
        """Scores in [0, 1] from evidence and the number of namesakes of each query."""
        adjusted = evidence - self.frequency_weight * np.log2(np.maximum(namesakes, 1))
        value: F64 = np.clip(adjusted.astype(np.float64) / self.scale, 0.0, 1.0)
        return value


_YEAR_BITS = 12
_YEAR_MAX = (1 << _YEAR_BITS) - 1
_YEAR_BASE = 1800


def _year_codes(records: Sequence[LinkageRecord]) -> I64:
    """12-bit code of each birth year; 0 when unknown."""
    return np.array(
        [
            min(max(record.birth_year - _YEAR_BASE, 1), _YEAR_MAX) if record.birth_year else 0
            for record in records
        ],
        dtype=np.int64,
    )


class _Sampler:
    """Blocking keys: bit samples of the names region, with the birth year in the low bits.

    A key is ``table (8 bits) | sampled name bits (<= 32) | year code (12 bits)``. *Loose*
    tables sample few bits (similar names) and are probed at the query's birth year ± window
    and at "unknown year"; *strict* tables sample many bits (near-identical names) and are
    probed at every year, which finds a person whose year was mistyped or is missing.
    """

    def __init__(self, config: MatchConfig) -> None:
        for bits in (config.bits_per_key, config.strict_bits_per_key):
            if not 1 <= bits <= 32:
                raise ValueError("bits per key must be between 1 and 32")
        offset, size = region_layout(config.bits)["names"]
        rng = np.random.default_rng(config.seed)
        self.families: list[tuple[npt.NDArray[np.intp], U64, int]] = []
        for tables, bits in (
            (config.tables, config.bits_per_key),
            (config.strict_tables, config.strict_bits_per_key),
        ):
            samples = [rng.choice(size, size=bits, replace=False) for _ in range(tables)]
            positions = offset + np.array(samples, dtype=np.int64).reshape(tables, bits)
            self.families.append(
                ((positions // 64).astype(np.intp), (positions % 64).astype(np.uint64), tables)
            )
        self.loose = config.tables
        self.tables = config.tables + config.strict_tables
        self.window = config.year_window
        self.strict_window = config.strict_year_window
        self.tag = (np.arange(self.tables, dtype=np.uint64) << np.uint64(56))[None, :]

    def _name_keys(self, words: U64) -> U64:
        """[n, tables] sampled name bits, table tag included, year bits zero."""
        parts = []
        one = np.uint64(1)
        for word, shift, tables in self.families:
            keys = np.zeros((words.shape[0], tables), dtype=np.uint64)
            for j in range(word.shape[1]):
                keys |= ((words[:, word[:, j]] >> shift[:, j]) & one) << np.uint64(j + _YEAR_BITS)
            parts.append(keys)
        return np.concatenate(parts, axis=1) | self.tag

    def keys(self, words: U64, years: I64) -> U64:
        """[n, tables] keys under which each record is indexed."""
        return self._name_keys(words) | years.astype(np.uint64)[:, None]

    def probes(self, words: U64, years: I64) -> tuple[U64, U64]:
        """[n, probes] inclusive key ranges (low, high) to look up for each record."""
        names = self._name_keys(words)
        loose = names[:, : self.loose]
        known = (years > 0)[:, None]
        # Known year: the window [year - w, year + w] (contiguous codes) and "unknown" (code 0).
        # Unknown year: "unknown" only, the second range stays empty (low > high); records with
        # a year are then found through the strict tables (near-identical names, any year).
        # Probing every year of the loose tables would bring every similar name in the index.
        first_low = np.where(known, np.clip(years - self.window, 1, _YEAR_MAX)[:, None], 0)
        first_high = np.where(known, np.clip(years + self.window, 1, _YEAR_MAX)[:, None], 0)
        second_low = np.where(known, 0, 1)
        second_high = np.zeros_like(second_low)
        low = np.stack(
            [loose | first_low.astype(np.uint64), loose | second_low.astype(np.uint64)], axis=2
        ).reshape(len(years), -1)
        high = np.stack(
            [loose | first_high.astype(np.uint64), loose | second_high.astype(np.uint64)], axis=2
        ).reshape(len(years), -1)
        # Strict tables: a wide window when the year is known (a mistyped digit, an age
        # guessed years off), every year when it is not.
        strict = names[:, self.loose :]
        wide = np.where(known[:, 0], years - self.strict_window, 0).clip(0, _YEAR_MAX)
        wide_high = np.where(known[:, 0], years + self.strict_window, _YEAR_MAX).clip(0, _YEAR_MAX)
        return (
            np.concatenate([low, strict | wide.astype(np.uint64)[:, None]], axis=1),
            np.concatenate([high, strict | wide_high.astype(np.uint64)[:, None]], axis=1),
        )


class _Segment:
    """An immutable slice of the index: filters, sorted blocking keys, sorted token digests."""

    __slots__ = ("start", "words", "years", "pops", "lsh_keys", "lsh_rows", "tok_keys", "tok_rows")

    def __init__(
        self,
        start: int,
        words: U64,
        years: I64,
        token_keys: U64,
        token_rows: I64,
        sampler: _Sampler,
        scorer: _Scorer,
    ) -> None:
        self.start = start
        self.words = words
        self.years = years
        self.pops: F32 = scorer.popcounts(words)
        keys = sampler.keys(words, years).ravel()
        order = np.argsort(keys)
        self.lsh_keys: U64 = keys[order]
        self.lsh_rows: I64 = (order // sampler.tables).astype(np.int64)
        order = np.argsort(token_keys)
        self.tok_keys: U64 = token_keys[order]
        self.tok_rows: I64 = token_rows[order]

    @property
    def size(self) -> int:
        return int(self.words.shape[0])

    @staticmethod
    def lookup(sorted_keys: U64, rows: I64, low: U64, high: U64) -> tuple[I64, I64]:
        """(probe index, local row) of every entry whose key is in a probe's [low, high]."""
        # Sorted needles make the binary searches walk memory in order: much faster.
        order = np.argsort(low)
        first = np.empty(len(low), dtype=np.int64)
        last = np.empty(len(low), dtype=np.int64)
        first[order] = np.searchsorted(sorted_keys, low[order], side="left")
        last[order] = np.searchsorted(sorted_keys, high[order], side="right")
        counts = np.maximum(last - first, 0)
        positions = _ranges(first, counts)
        probe_index = np.repeat(np.arange(len(low), dtype=np.int64), counts)
        return probe_index, rows[positions]


def score(a: LinkageRecord, b: LinkageRecord, config: MatchConfig = DEFAULT_CONFIG) -> float:
    """Similarity of two records in [0, 1] (the formula in the module docstring)."""
    scorer = _Scorer(config)
    words = _words([a.bloom, b.bloom], config.bits)
    pops = scorer.popcounts(words)
    shared = np.array([len(set(a.tokens) & set(b.tokens))])
    evidence, _ = scorer.evidence(words[:1], words[1:], pops[:1], pops[1:], shared)
    # Without an index there is no name frequency: no namesake adjustment.
    return float(scorer.finish(evidence, np.ones(1, dtype=np.int64))[0])


SubjectId = Hashable


class Index:
    """Records of subjects, searchable one by one (``query``) or in bulk (``candidate_scores``)."""

    def __init__(self, config: MatchConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self._sampler = _Sampler(config)
        self._scorer = _Scorer(config)
        self._subjects: list[SubjectId] = []
        self._segments: list[_Segment] = []
        self._buffer: list[LinkageRecord] = []
        self._buffer_tokens: list[tuple[int, int]] = []  # (digest, global row)
        self._buffer_segment: _Segment | None = None

    def __len__(self) -> int:
        return len(self._subjects)

    def subject(self, row: int) -> SubjectId:
        return self._subjects[row]

    # -- building -------------------------------------------------------------------------

    def add(self, subject_id: SubjectId, record: LinkageRecord) -> None:
        """Index one record of a subject (a subject may have several records)."""
        if len(record.bloom) * 8 != self.config.bits:
            raise ValueError(f"the Bloom filter must have {self.config.bits} bits")
        row = len(self._subjects)
        self._subjects.append(subject_id)
        self._buffer.append(record)
        self._buffer_tokens.extend((token_digest(token), row) for token in set(record.tokens))
        self._buffer_segment = None
        if len(self._buffer) >= self.config.buffer_size:
            self._flush()

    def add_many(self, items: Iterable[tuple[SubjectId, LinkageRecord]]) -> None:
        """Index many records at once (one segment per chunk, far faster than ``add``)."""
        self._flush()
        chunk: list[tuple[SubjectId, LinkageRecord]] = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= 262_144:
                self._add_chunk(chunk)
                chunk = []
        if chunk:
            self._add_chunk(chunk)

    def _add_chunk(self, chunk: Sequence[tuple[SubjectId, LinkageRecord]]) -> None:
        start = len(self._subjects)
        records = [record for _, record in chunk]
        self._subjects.extend(subject for subject, _ in chunk)
        tokens = [
            (token_digest(token), start + offset)
            for offset, record in enumerate(records)
            for token in set(record.tokens)
        ]
        self._push(start, records, tokens)

    def _segment(
        self, start: int, records: Sequence[LinkageRecord], tokens: Sequence[tuple[int, int]]
    ) -> _Segment:
        words = _words([record.bloom for record in records], self.config.bits)
        years = _year_codes(records)
        keys = np.fromiter((key for key, _ in tokens), dtype=np.uint64, count=len(tokens))
        rows = np.fromiter((row - start for _, row in tokens), dtype=np.int64, count=len(tokens))
        return _Segment(start, words, years, keys, rows, self._sampler, self._scorer)

    def _push(
        self, start: int, records: Sequence[LinkageRecord], tokens: Sequence[tuple[int, int]]
    ) -> None:
        self._segments.append(self._segment(start, records, tokens))
        # Merge segments of similar size: O(log n) segments, O(n log n) total work.
        while len(self._segments) >= 2 and self._segments[-2].size <= 2 * self._segments[-1].size:
            newer = self._segments.pop()
            older = self._segments.pop()
            self._segments.append(
                _Segment(
                    older.start,
                    np.concatenate([older.words, newer.words]),
                    np.concatenate([older.years, newer.years]),
                    np.concatenate([older.tok_keys, newer.tok_keys]),
                    np.concatenate([older.tok_rows, newer.tok_rows + (newer.start - older.start)]),
                    self._sampler,
                    self._scorer,
                )
            )

    def _flush(self) -> None:
        if not self._buffer:
            return
        start = len(self._subjects) - len(self._buffer)
        records, tokens = self._buffer, self._buffer_tokens
        self._buffer, self._buffer_tokens, self._buffer_segment = [], [], None
        self._push(start, records, tokens)

    def _all_segments(self) -> list[_Segment]:
        segments = list(self._segments)
        if self._buffer:
            if self._buffer_segment is None:
                start = len(self._subjects) - len(self._buffer)
                self._buffer_segment = self._segment(start, self._buffer, self._buffer_tokens)
            segments.append(self._buffer_segment)
        return segments

    # -- one query ------------------------------------------------------------------------

    def query(
        self, record: LinkageRecord, *, threshold: float | None = None, limit: int = 10
    ) -> list[tuple[SubjectId, float]]:
        """Subjects whose best record scores at least ``threshold``, best first."""
        threshold = self.config.threshold if threshold is None else threshold
        words = _words([record.bloom], self.config.bits)
        pops = self._scorer.popcounts(words)
        low, high = self._sampler.probes(words, _year_codes([record]))
        token_probes = np.array(
            sorted({token_digest(token) for token in record.tokens}), dtype=np.uint64
        )
        floor = self._scorer.names_floor(pops, np.array([bool(record.tokens)]), threshold)[0]
        namesakes = 0
        found_rows: list[I64] = []
        found_evidence: list[F32] = []
        for segment in self._all_segments():
            _, lsh_rows = segment.lookup(segment.lsh_keys, segment.lsh_rows, low[0], high[0])
            _, token_rows = segment.lookup(
                segment.tok_keys, segment.tok_rows, token_probes, token_probes
            )
            if len(lsh_rows) == 0 and len(token_rows) == 0:
                continue
            rows, _ = _unique(np.concatenate([lsh_rows, token_rows]))
            shared = np.zeros(len(rows), dtype=np.int64)
            if len(token_rows):
                hit_rows, hit_counts = _unique(token_rows)
                shared[np.searchsorted(rows, hit_rows)] = hit_counts
            names = self._scorer.names_dice(
                segment.words[rows, : self._scorer.names_words],
                words,
                segment.pops[rows, 0],
                pops[:, 0],
            )
            namesakes += int((names >= self.config.namesake_dice).sum())
            survive = names >= floor
            rows, shared = rows[survive], shared[survive]
            evidence, _ = self._scorer.evidence(
                segment.words[rows], words, segment.pops[rows], pops, shared
            )
            found_rows.append(rows + segment.start)
            found_evidence.append(evidence)
        if not found_rows:
            return []
        scores = self._scorer.finish(
            np.concatenate(found_evidence), np.full(1, namesakes, dtype=np.int64)
        )
        keep = scores >= threshold
        per_subject: dict[SubjectId, float] = {}
        for row, value in zip(
            np.concatenate(found_rows)[keep].tolist(), scores[keep].tolist(), strict=True
        ):
            subject = self._subjects[row]
            if value > per_subject.get(subject, -1.0):
                per_subject[subject] = value
        ranked = sorted(per_subject.items(), key=lambda item: -item[1])
        return ranked[:limit]

    # -- batch ----------------------------------------------------------------------------

    def candidate_scores(
        self, records: Sequence[LinkageRecord], *, threshold: float | None = None
    ) -> tuple[I64, I64, F64]:
        """(query index, indexed row, score) of every pair scoring at least ``threshold``."""
        threshold = self.config.threshold if threshold is None else threshold
        self._flush()
        # Queries go by chunks so that candidate arrays stay a few hundred megabytes at most.
        # (Threads were tried: no gain, the work is bound by memory bandwidth.)
        chunk_size = 4096
        results = []
        for chunk_start in range(0, len(records), chunk_size):
            chunk = records[chunk_start : chunk_start + chunk_size]
            left, right, scores = self._score_queries(chunk, threshold)
            results.append((left + chunk_start, right, scores))
        if not results:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        return (
            np.concatenate([left for left, _, _ in results]),
            np.concatenate([right for _, right, _ in results]),
            np.concatenate([scores for _, _, scores in results]),
        )

    def _score_queries(
        self, chunk: Sequence[LinkageRecord], threshold: float
    ) -> tuple[I64, I64, F64]:
        words = _words([record.bloom for record in chunk], self.config.bits)
        pops = self._scorer.popcounts(words)
        probes = self._sampler.probes(words, _year_codes(chunk))
        token_pairs = [
            (token_digest(token), offset)
            for offset, record in enumerate(chunk)
            for token in set(record.tokens)
        ]
        token_probes = np.fromiter(
            (key for key, _ in token_pairs), dtype=np.uint64, count=len(token_pairs)
        )
        token_owner = np.fromiter(
            (offset for _, offset in token_pairs), dtype=np.int64, count=len(token_pairs)
        )
        has_tokens = np.array([bool(record.tokens) for record in chunk])
        floor = self._scorer.names_floor(pops, has_tokens, threshold)
        lefts: list[I64] = [np.zeros(0, np.int64)]
        rights: list[I64] = [np.zeros(0, np.int64)]
        evidences: list[F32] = [np.zeros(0, np.float32)]
        namesakes = np.zeros(len(chunk), dtype=np.int64)
        for segment in self._segments:
            left, right, evidence, namesake = self._score_chunk(
                segment, words, pops, floor, probes, token_probes, token_owner
            )
            lefts.append(left)
            rights.append(right + segment.start)
            evidences.append(evidence)
            # How common the query's name is: candidates with (nearly) the same names.
            namesakes += np.bincount(namesake, minlength=len(chunk))
        left = np.concatenate(lefts)
        scores = self._scorer.finish(np.concatenate(evidences), namesakes[left])
        keep = scores >= threshold
        return left[keep], np.concatenate(rights)[keep], scores[keep]

    def _score_chunk(
        self,
        segment: _Segment,
        words: U64,
        pops: F32,
        floor: F32,
        probes: tuple[U64, U64],
        token_probes: U64,
        token_owner: I64,
    ) -> tuple[I64, I64, F32, I64]:
        """(left, right, evidence) of candidates above the names floor, and the left index
        of every namesake candidate."""
        low, high = probes
        per_record = low.shape[1]
        probe, rows = segment.lookup(segment.lsh_keys, segment.lsh_rows, low.ravel(), high.ravel())
        size = np.int64(segment.size)
        codes, _ = _unique((probe // per_record) * size + rows)
        token_probe, token_rows = segment.lookup(
            segment.tok_keys, segment.tok_rows, token_probes, token_probes
        )
        shared = np.zeros(len(codes), dtype=np.int64)
        if len(token_rows):
            token_codes, counts = _unique(token_owner[token_probe] * size + token_rows)
            codes, _ = _unique(np.concatenate([codes, token_codes]))
            shared = np.zeros(len(codes), dtype=np.int64)
            shared[np.searchsorted(codes, token_codes)] = counts
        left = codes // size
        right = codes % size
        names = np.zeros(len(codes), dtype=np.float32)
        # Gather in slices: words[left] for tens of millions of pairs would not fit in memory.
        step = 1 << 16
        end = self._scorer.names_words
        for start in range(0, len(codes), step):
            part = slice(start, start + step)
            names[part] = self._scorer.names_dice(
                words[left[part], :end],
                segment.words[right[part], :end],
                pops[left[part], 0],
                segment.pops[right[part], 0],
            )
        namesake = left[names >= self.config.namesake_dice]
        survive = names >= floor[left]
        left, right, shared = left[survive], right[survive], shared[survive]
        evidence = np.zeros(len(left), dtype=np.float32)
        for start in range(0, len(left), step):
            part = slice(start, start + step)
            evidence[part], _ = self._scorer.evidence(
                words[left[part]],
                segment.words[right[part]],
                pops[left[part]],
                segment.pops[right[part]],
                shared[part],
            )
        return left, right, evidence, namesake


def greedy_one_to_one(left: I64, right: I64, scores: F64) -> list[tuple[int, int, float]]:
    """Best pairs first; a record joins at most one pair (each register lists a person once)."""
    order = np.lexsort((right, left, -scores))
    used_left: set[int] = set()
    used_right: set[int] = set()
    result: list[tuple[int, int, float]] = []
    for a, b, value in zip(
        left[order].tolist(), right[order].tolist(), scores[order].tolist(), strict=True
    ):
        if a in used_left or b in used_right:
            continue
        used_left.add(a)
        used_right.add(b)
        result.append((a, b, value))
    return result


def match_sets(
    left: Sequence[LinkageRecord],
    right: Sequence[LinkageRecord],
    *,
    config: MatchConfig = DEFAULT_CONFIG,
    threshold: float | None = None,
    one_to_one: bool = True,
) -> list[tuple[int, int, float]]:
    """Pairs (left index, right index, score) of two sets of records that match."""
    index = Index(config)
    index.add_many(enumerate(right))
    rows_left, rows_right, scores = index.candidate_scores(left, threshold=threshold)
    if one_to_one:
        return greedy_one_to_one(rows_left, rows_right, scores)
    order = np.lexsort((rows_right, rows_left, -scores))
    return list(
        zip(
            rows_left[order].tolist(),
            rows_right[order].tolist(),
            scores[order].tolist(),
            strict=True,
        )
    )
