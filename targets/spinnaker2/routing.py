"""SpiNNaker2 multicast routing: keys, per-router tables, table compression, and a checker.

The model follows the SpiNNaker toolchains (PACMAN / SpiNNMachine), cut down to what spikec
needs:

- Chips sit on a ``width x height`` 2D mesh (no torus wrap).  Each chip has ONE multicast
  router whose table holds at most ``entries`` key/mask entries (16,384 on SpiNNaker2,
  SpiNNMachine) and ``pes_per_chip`` processing elements (152).  A PE is a global index ``c``;
  its chip is ``c // pes_per_chip`` and its local index ``c % pes_per_chip``; chip ``k`` is at
  ``(k % width, k // width)``.
- Links: a 4-link mesh, E (+x), N (+y), W (-x), S (-y).  SpiNNaker1 has a 6-link triangular
  mesh; SpiNNaker2 boards join chips in a plain 2D mesh, so four links are used throughout.
- Keys: every source PE owns an aligned block of 32-bit keys, one per neuron
  (``base | neuron_index_within_pe``); one key/mask covers the block.  Routing is per source
  PE (one entry per key block), as sPyNNaker does, not per neuron.
- Routes: dimension order, X then Y.  The multicast tree of a source PE is the union of the
  X-Y paths to its destination chips; it never visits a chip twice.
- Default routing: a packet that matches no entry leaves on the link opposite the one it came
  in on.  A chip that the tree only crosses straight (in on one link, out on the opposite
  one, nothing delivered locally) therefore needs no entry.  A packet from a local PE that
  matches nothing is dropped (an error).
- Tables are ordered; the first matching entry wins.  ``compress`` merges entries with the
  same route into covering key/masks, in the spirit of "ordered covering" (Mundy, Heathcote,
  Garside 2016; PACMAN's router compressors): the table is kept sorted from specific to
  general, a merged entry goes after every entry at least as specific, and it may overlap
  blocks of other routes only where an earlier entry already catches them, and never a block
  that must be default-routed through the chip.  Candidate merges are all entries of a route,
  then, where that is not allowed, the two halves split on the highest differing key bit
  (a binary trie over the keys), recursively; merging repeats until nothing changes.

Everything that must be true of the result is checked by ``deliver`` / ``deliver_block`` /
``check_delivery``, which walk the tables as the hardware would.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...errors import ProgramError, ResourceLimitError
from .spec import SPINNAKER2_CHIP

__all__ = [
    "LINK_NAMES",
    "ROUTER_ENTRIES",
    "KeyAllocation",
    "RoutingEntry",
    "RoutingTables",
    "CompressionResult",
    "assign_keys",
    "destinations_from_synapses",
    "build_tables",
    "compress",
    "deliver",
    "deliver_block",
    "check_delivery",
]

#: Entries per SpiNNaker2 router (the chip's ``router_entries``, with its source, in :mod:`.spec`).
ROUTER_ENTRIES = SPINNAKER2_CHIP.router_entries.value
#: Link names by link index; link ``i`` sends to the neighbour at ``_STEP[i]``.
LINK_NAMES = ("E", "N", "W", "S")
_STEP = ((1, 0), (0, 1), (-1, 0), (0, -1))
_E, _N, _W, _S = 0, 1, 2, 3
_FULL = 0xFFFFFFFF
_KEY_BITS = 32


def _opposite(link: int) -> int:
    return (link + 2) % 4


def _bit_indices(bits: int) -> tuple[int, ...]:
    """Indices of the set bits of a non-negative int, lowest first."""
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KeyAllocation:
    """Routing keys of every unit and the key block (key, mask) of every source PE.

    Attributes:
        keys: uint32 key of each unit, units in global order.
        pes: sorted ids of the PEs that hold at least one unit.
        base: uint32 first key of each PE's block (parallel to ``pes``).
        mask: uint32 mask of each PE's block; its low ``ceil(log2(n))`` bits are zero.
        counts: number of units on each PE.
    """

    keys: np.ndarray
    pes: np.ndarray
    base: np.ndarray
    mask: np.ndarray
    counts: np.ndarray

    def block(self, pe: int) -> tuple[int, int]:
        """(key, mask) of PE ``pe``'s key block; ``ProgramError`` if the PE holds no unit."""
        i = int(np.searchsorted(self.pes, pe))
        if i >= self.pes.size or int(self.pes[i]) != pe:
            raise ProgramError(f"PE {pe} holds no unit, so it has no key block")
        return int(self.base[i]), int(self.mask[i])


def assign_keys(core_of: np.ndarray) -> KeyAllocation:
    """Give every unit a 32-bit multicast key: ``base(pe) | index of the unit on its PE``.

    Blocks are laid out in PE order, each aligned to its own power-of-two size, so PEs that
    are neighbours on a chip get neighbouring keys (which helps compression) and one key/mask
    covers each PE.  ``core_of[u]`` is the PE of unit ``u``; units keep their global order
    within a PE.
    """
    core_of = np.asarray(core_of, dtype=np.int64)
    if core_of.ndim != 1 or (core_of.size and core_of.min() < 0):
        raise ProgramError("core_of must be a 1-D array of non-negative PE indices")
    order = np.argsort(core_of, kind="stable")
    pes, starts, counts = np.unique(core_of[order], return_index=True, return_counts=True)
    rank = np.empty_like(core_of)
    rank[order] = np.arange(core_of.size) - np.repeat(starts, counts)
    base = np.empty(pes.size, dtype=np.int64)
    mask = np.empty(pes.size, dtype=np.int64)
    cursor = 0
    for i, n in enumerate(counts.tolist()):  # per-PE loop: a few thousand at most
        size = 1 << (n - 1).bit_length()
        start = (cursor + size - 1) & ~(size - 1)
        base[i], mask[i] = start, _FULL & ~(size - 1)
        cursor = start + size
    if cursor > 1 << _KEY_BITS:
        raise ResourceLimitError(
            f"the key blocks of {pes.size} PEs need {cursor} keys",
            parameter="routing_keys", limit=1 << _KEY_BITS, fix="use fewer or fuller PEs")
    pe_index = np.searchsorted(pes, core_of)
    keys = (base[pe_index] | rank).astype(np.uint32)
    return KeyAllocation(keys=keys, pes=pes, base=base.astype(np.uint32),
                         mask=mask.astype(np.uint32), counts=counts)


def destinations_from_synapses(core_of: np.ndarray, pre: np.ndarray, post: np.ndarray
                               ) -> dict[int, np.ndarray]:
    """Destination PEs of every source PE: the PEs holding a target of one of its units.

    ``pre``/``post`` are unit indices of the (non-zero) synapses.  Vectorised: one
    ``np.unique`` over (source PE, destination PE) pairs.
    """
    core_of = np.asarray(core_of, dtype=np.int64)
    src = core_of[np.asarray(pre, dtype=np.int64)]
    dst = core_of[np.asarray(post, dtype=np.int64)]
    span = int(core_of.max(initial=0)) + 1
    pairs = np.unique(src * span + dst)
    s, d = pairs // span, pairs % span
    cuts = np.flatnonzero(np.diff(s)) + 1
    return {int(group_s[0]): group_d
            for group_s, group_d in zip(np.split(s, cuts), np.split(d, cuts)) if group_s.size}


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingEntry:
    """One router entry: keys with ``k & mask == key`` go out on ``links`` and to ``pe_bits``.

    ``links`` is a bit set over ``LINK_NAMES`` (bit 0 = E); ``pe_bits`` a bit set over the
    chip's local PE indices (bit ``i`` = local PE ``i``).
    """

    key: int
    mask: int
    links: int
    pe_bits: int

    @property
    def route(self) -> tuple[int, int]:
        """What the entry does with a packet: (links, local PEs), both as bit sets."""
        return self.links, self.pe_bits

    @property
    def local_pes(self) -> tuple[int, ...]:
        """Local PE indices that receive a matching packet."""
        return _bit_indices(self.pe_bits)

    @property
    def link_names(self) -> tuple[str, ...]:
        """Names of the links a matching packet leaves on."""
        return tuple(LINK_NAMES[i] for i in _bit_indices(self.links))


@dataclass(frozen=True, eq=False)
class RoutingTables:
    """The ordered router table of every chip, and what each router must do.

    Attributes:
        width, height, pes_per_chip: the machine.
        entries: per chip (index ``x + y * width``), the ordered table (first match wins).
        required: per chip, one entry per source key block that needs an entry there: the
            route every key of that block must get (the uncompressed table).
        through: per chip, (key, mask) of the source blocks that cross it by default
            routing; no entry may match them.
    """

    width: int
    height: int
    pes_per_chip: int
    entries: tuple[tuple[RoutingEntry, ...], ...]
    required: tuple[tuple[RoutingEntry, ...], ...]
    through: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def n_chips(self) -> int:
        """Number of chips (routers) on the mesh."""
        return self.width * self.height

    def counts(self) -> np.ndarray:
        """Number of entries in each chip's table."""
        return np.array([len(t) for t in self.entries], dtype=np.int64)

    def chip_xy(self, chip: int) -> tuple[int, int]:
        """Mesh coordinates of chip ``chip``."""
        return chip % self.width, chip // self.width

    @cached_property
    def _arrays(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        # (keys, masks) per chip as int64 arrays, for vectorised first-match look-ups
        return tuple((np.array([e.key for e in t], dtype=np.int64),
                      np.array([e.mask for e in t], dtype=np.int64)) for t in self.entries)


def _as_pes(values: Iterable[int]) -> np.ndarray:
    """Sorted unique PE ids from any iterable or array of ints."""
    arr = values if isinstance(values, np.ndarray) else np.fromiter(values, dtype=np.int64)
    return np.unique(arr.astype(np.int64, copy=False).ravel())


def _tree(src_chip: int, dest_chips: dict[int, int], width: int
          ) -> dict[int, tuple[int | None, int, int]]:
    """X-then-Y multicast tree: chip -> (direction of travel on arrival, out links, local PEs).

    The direction of travel is ``None`` at the source chip; the union of the X-Y paths to
    every destination chip visits each chip once, so this is a tree.
    """
    sx, sy = src_chip % width, src_chip // width
    columns: dict[int, list[int]] = {}
    for chip in dest_chips:
        columns.setdefault(chip % width, []).append(chip // width)
    xmin, xmax = min(min(columns), sx), max(max(columns), sx)
    nodes: dict[int, list] = {}  # chip -> [travel, links]
    for x in range(xmin, xmax + 1):  # the X leg, along the source's row
        travel = None if x == sx else (_E if x > sx else _W)
        links = (1 << _E if sx <= x < xmax else 0) | (1 << _W if xmin < x <= sx else 0)
        nodes[x + sy * width] = [travel, links]
    for x, ys in columns.items():  # the Y legs, one per destination column
        ymin, ymax = min(min(ys), sy), max(max(ys), sy)
        nodes[x + sy * width][1] |= (1 << _N if ymax > sy else 0) | (1 << _S if ymin < sy else 0)
        for y in range(sy + 1, ymax + 1):
            nodes[x + y * width] = [_N, 1 << _N if y < ymax else 0]
        for y in range(ymin, sy):
            nodes[x + y * width] = [_S, 1 << _S if y > ymin else 0]
    return {chip: (travel, links, dest_chips.get(chip, 0))
            for chip, (travel, links) in nodes.items()}


def _dest_pe_bits(dests: np.ndarray, pes_per_chip: int) -> dict[int, int]:
    """Destination PEs grouped by chip, as chip -> bit set of local PE indices."""
    chips, local = np.divmod(dests, pes_per_chip)
    uniq, inv = np.unique(chips, return_inverse=True)
    hit = np.zeros((uniq.size, pes_per_chip), dtype=bool)
    hit[inv.ravel(), local] = True
    packed = np.packbits(hit, axis=1, bitorder="little")
    return {int(c): int.from_bytes(row.tobytes(), "little") for c, row in zip(uniq, packed)}


def build_tables(alloc: KeyAllocation, destinations: Mapping[int, Iterable[int]], *,
                 pes_per_chip: int, width: int, height: int) -> RoutingTables:
    """Build the uncompressed router tables: one entry per (source PE, chip) where needed.

    ``destinations[pe]`` lists the PEs that must receive every spike of source PE ``pe``
    (``destinations_from_synapses`` computes it).  A source with no destination sends no
    packet and gets no entry.  Chips the tree only crosses straight get no entry (default
    routing); they are recorded in ``through`` so that compression leaves those keys alone.
    """
    n_chips = width * height
    if min(width, height, pes_per_chip) < 1:
        raise ProgramError("width, height and pes_per_chip must be positive")
    entries: list[list[RoutingEntry]] = [[] for _ in range(n_chips)]
    through: list[list[tuple[int, int]]] = [[] for _ in range(n_chips)]
    for src in sorted(destinations):  # per source PE; the work inside is per chip
        dests = _as_pes(destinations[src])
        if dests.size == 0:
            continue
        key, mask = alloc.block(int(src))
        top = max(int(src), int(dests.max()))
        if dests.min() < 0 or top >= n_chips * pes_per_chip:
            raise ResourceLimitError(
                f"PE {top} lies beyond the {width}x{height} chips of {pes_per_chip} PEs",
                parameter="pes", limit=n_chips * pes_per_chip,
                fix="use more chips (--chips) or more PEs per chip, or place onto fewer PEs")
        tree = _tree(int(src) // pes_per_chip, _dest_pe_bits(dests, pes_per_chip), width)
        for chip, (travel, links, pe_bits) in tree.items():
            if travel is not None and pe_bits == 0 and links == 1 << travel:
                through[chip].append((key, mask))
            else:
                entries[chip].append(RoutingEntry(key, mask, links, pe_bits))
    tables = tuple(tuple(sorted(t, key=lambda e: e.key)) for t in entries)
    return RoutingTables(width=width, height=height, pes_per_chip=pes_per_chip, entries=tables,
                         required=tables, through=tuple(tuple(t) for t in through))


# --------------------------------------------------------------------------------------------
# Compression (ordered covering)
# --------------------------------------------------------------------------------------------


class _ChipCompressor:
    """Ordered covering of one chip's table.

    Invariant kept after every merge: for every required block, the first entry of the table
    that intersects it contains the whole block and has the block's route; no entry
    intersects a default-routed ("through") block.  Both are sufficient for every key that
    can arrive at this router to be routed as before.  Keys that never arrive here are free
    ("don't care"), which is where merged entries get their room.
    """

    def __init__(self, required: tuple[RoutingEntry, ...], through: tuple[tuple[int, int], ...]):
        routes = sorted({e.route for e in required})
        self.routes = routes
        rid = {r: i for i, r in enumerate(routes)}
        n = len(required)
        self.ck = np.array([e.key for e in required], dtype=np.int64)
        self.cm = np.array([e.mask for e in required], dtype=np.int64)
        self.cr = np.array([rid[e.route] for e in required], dtype=np.int64)
        self.tk = np.array([k for k, _ in through], dtype=np.int64)
        self.tm = np.array([m for _, m in through], dtype=np.int64)
        cap = 2 * n + 1  # every merge adds one entry and removes at least two
        self.ek = np.zeros(cap, dtype=np.int64)
        self.em = np.zeros(cap, dtype=np.int64)
        self.er = np.zeros(cap, dtype=np.int64)
        self.ek[:n], self.em[:n], self.er[:n] = self.ck, self.cm, self.cr
        self.n_ids = n
        self.handler = np.arange(n, dtype=np.int64)  # entry id that handles each block
        gens = [_KEY_BITS - int(m).bit_count() for m in self.cm.tolist()]
        self.gen = gens + [0] * (cap - n)
        self.order = sorted(range(n), key=lambda i: (gens[i], int(self.ck[i])))
        self._reindex()

    def _reindex(self) -> None:
        """Refresh the position of every live entry and the generality list used to insert."""
        self.pos = np.full(self.ek.size, -1, dtype=np.int64)
        self.pos[self.order] = np.arange(len(self.order))
        self.order_arr = np.array(self.order, dtype=np.int64)
        self.order_gen = [self.gen[i] for i in self.order]

    def _cover(self, ids: np.ndarray) -> tuple[int, int]:
        """Smallest key/mask containing all entries ``ids``."""
        ks, ms = self.ek[ids], self.em[ids]
        kand, kor = np.bitwise_and.reduce(ks), np.bitwise_or.reduce(ks)
        mask = int(np.bitwise_and.reduce(ms)) & ~int(kor ^ kand) & _FULL
        return int(kand) & mask, mask

    def _check(self, key: int, mask: int, ids: np.ndarray, route: int):
        """(insert position, blocks the merge takes over) if merging ``ids`` keeps the
        invariant, else None."""
        if self.tk.size and np.any(((self.tk ^ key) & mask & self.tm) == 0):
            return None  # would capture a default-routed key
        p = bisect_right(self.order_gen, _KEY_BITS - mask.bit_count())
        hits = np.flatnonzero(((self.ck ^ key) & mask & self.cm) == 0)
        hpos = self.pos[self.handler[hits]]
        member = np.isin(self.handler[hits], ids)
        other = self.cr[hits] != route
        if np.any(hpos[other] >= p):
            return None  # another route's block is caught only by a later entry
        later = ~other & ~member & (hpos >= p)
        if np.any((mask & ~self.cm[hits[later]]) != 0):
            return None  # only part of a same-route block would be captured
        lo = int(hpos[member].min()) + 1
        if lo < p:  # entries that now move ahead of the merged blocks must not touch them
            between = self.order_arr[lo:p]
            between = between[~np.isin(between, ids)]
            if between.size:
                mk, mm, mp = self.ck[hits[member]], self.cm[hits[member]], hpos[member]
                touch = ((mk[:, None] ^ self.ek[between][None, :]) & mm[:, None]
                         & self.em[between][None, :]) == 0
                if np.any(touch & (self.pos[between][None, :] > mp[:, None])):
                    return None
        return p, hits[member | later]

    def _apply(self, key: int, mask: int, ids: np.ndarray, route: int, taken: np.ndarray) -> None:
        new = self.n_ids
        self.n_ids += 1
        self.ek[new], self.em[new], self.er[new] = key, mask, route
        self.gen[new] = _KEY_BITS - mask.bit_count()
        self.handler[taken] = new
        # entries that now handle no block (merged, or emptied by the merge) are dead
        alive = np.bincount(self.handler, minlength=self.ek.size) > 0
        order = [i for i in self.order if alive[i]]
        gens = [self.gen[i] for i in order]
        order.insert(bisect_right(gens, self.gen[new]), new)
        self.order = order
        self._reindex()

    def _merge(self, ids: np.ndarray, route: int) -> bool:
        """Merge ``ids`` (same route, sorted by key) if allowed, else split on the highest
        differing key bit and try both halves.  Returns whether anything was merged."""
        ids = ids[self.pos[ids] >= 0]
        if ids.size < 2:
            return False
        key, mask = self._cover(ids)
        found = self._check(key, mask, ids, route)
        if found is not None:
            self._apply(key, mask, ids, route, found[1])
            return True
        keys = self.ek[ids]
        diff = int(np.bitwise_or.reduce(keys) ^ np.bitwise_and.reduce(keys))
        if diff == 0:
            return False
        high = (keys >> (diff.bit_length() - 1)) & 1
        low_done = self._merge(ids[high == 0], route)
        high_done = self._merge(ids[high == 1], route)
        return low_done or high_done

    def run(self) -> list[RoutingEntry]:
        """Merge until no merge is allowed; return the ordered table."""
        changed = True
        while changed:
            changed = False
            live = self.order_arr
            routes, sizes = np.unique(self.er[live], return_counts=True)
            for route in routes[np.argsort(-sizes, kind="stable")].tolist():
                ids = self.order_arr[self.er[self.order_arr] == route]
                ids = ids[np.argsort(self.ek[ids], kind="stable")]
                changed |= self._merge(ids, route)
        return [RoutingEntry(int(self.ek[i]), int(self.em[i]), *self.routes[int(self.er[i])])
                for i in self.order]


@dataclass(frozen=True, eq=False)
class CompressionResult:
    """Compressed tables and the entry counts per chip before and after compression."""

    tables: RoutingTables
    before: np.ndarray
    after: np.ndarray
    entries_limit: int

    def summary(self) -> dict[str, int]:
        """Totals and maxima over chips, for reports."""
        return {"entries_before": int(self.before.sum()), "entries_after": int(self.after.sum()),
                "max_before": int(self.before.max(initial=0)),
                "max_after": int(self.after.max(initial=0)), "entries_limit": self.entries_limit}


def compress(tables: RoutingTables, entries_limit: int = ROUTER_ENTRIES, *,
             check_limit: bool = True) -> CompressionResult:
    """Compress every chip's table by ordered covering and check it fits ``entries_limit``.

    Starts from ``tables.required`` (so compressing twice gives the same result).  With
    ``check_limit``, raises ``ResourceLimitError`` naming the fullest chip if any table still
    has more than ``entries_limit`` entries.
    """
    new = tuple(tuple(_ChipCompressor(req, thr).run()) if len(req) > 1 else req
                for req, thr in zip(tables.required, tables.through))
    out = RoutingTables(width=tables.width, height=tables.height,
                        pes_per_chip=tables.pes_per_chip, entries=new,
                        required=tables.required, through=tables.through)
    result = CompressionResult(out, np.array([len(t) for t in tables.required], dtype=np.int64),
                               out.counts(), entries_limit)
    if check_limit:
        _check_fit(result)
    return result


def _check_fit(result: CompressionResult) -> None:
    over = np.flatnonzero(result.after > result.entries_limit)
    if over.size == 0:
        return
    worst = int(over[np.argmax(result.after[over])])
    x, y = result.tables.chip_xy(worst)
    raise ResourceLimitError(
        f"the router table of chip ({x},{y}) needs {int(result.after[worst])} entries after "
        f"compression ({int(result.before[worst])} before); {over.size} chip(s) over the limit",
        node=f"chip ({x},{y})", parameter="router_entries", limit=result.entries_limit,
        fix="use more chips, fewer PEs per chip, or a placement that keeps each source's "
            "targets on fewer chips")


# --------------------------------------------------------------------------------------------
# Checking: walk the tables as the routers would
# --------------------------------------------------------------------------------------------


def _first_hit(tables: RoutingTables, chip: int, key: int, mask: int) -> int:
    """Index of the first entry of ``chip`` that intersects cube (key, mask); -1 if none."""
    ks, ms = tables._arrays[chip]
    hit = np.flatnonzero(((ks ^ key) & ms & mask) == 0)
    return int(hit[0]) if hit.size else -1


class _Split(Exception):
    """Raised inside a walk when an entry decides on a key bit the walked block leaves free."""

    def __init__(self, bit: int):
        super().__init__(bit)
        self.bit = bit


def _walk(tables: RoutingTables, key: int, mask: int, chip: int) -> frozenset[int]:
    """Global PEs reached by the keys of cube (key, mask) sent from ``chip``, if all of them
    take the same path; raises ``_Split`` with a deciding bit otherwise.

    Raises ``ProgramError`` if a packet is dropped, leaves the mesh, or reaches a chip twice.
    """
    delivered: set[int] = set()
    seen: set[int] = set()
    stack: list[tuple[int, int | None]] = [(chip, None)]
    while stack:
        chip, travel = stack.pop()
        if chip in seen:
            raise ProgramError(f"key {key:#x} reaches chip {tables.chip_xy(chip)} twice (loop "
                               "or duplicate delivery)")
        seen.add(chip)
        i = _first_hit(tables, chip, key, mask)
        if i >= 0:
            entry = tables.entries[chip][i]
            free = entry.mask & ~mask & _FULL
            if free:
                raise _Split(1 << (free.bit_length() - 1))
            links = entry.links
            base = chip * tables.pes_per_chip
            delivered.update(base + p for p in entry.local_pes)
        elif travel is None:
            raise ProgramError(f"key {key:#x} matches no entry on its source chip "
                               f"{tables.chip_xy(chip)} and is dropped")
        else:
            links = 1 << travel  # default route: straight on
        x, y = tables.chip_xy(chip)
        for link in _bit_indices(links):
            nx, ny = x + _STEP[link][0], y + _STEP[link][1]
            if not (0 <= nx < tables.width and 0 <= ny < tables.height):
                raise ProgramError(f"key {key:#x} leaves the mesh at chip ({x},{y}) on link "
                                   f"{LINK_NAMES[link]}")
            stack.append((nx + ny * tables.width, link))
    return frozenset(delivered)


def _walk_block(tables: RoutingTables, key: int, mask: int, chip: int) -> frozenset[int]:
    """Like ``_walk`` but splits the cube where the tables do, and requires every part to
    reach the same PEs."""
    try:
        return _walk(tables, key, mask, chip)
    except _Split as split:
        low = _walk_block(tables, key, mask | split.bit, chip)
        high = _walk_block(tables, key | split.bit, mask | split.bit, chip)
        if low != high:
            raise ProgramError(f"keys {key:#x} and {key | split.bit:#x} of one block reach "
                               f"different PEs ({len(low)} vs {len(high)})") from None
        return low


def deliver(tables: RoutingTables, key: int, source_pe: int) -> frozenset[int]:
    """Global PEs that receive a packet with ``key`` sent by PE ``source_pe``.

    First match wins on each router; no match means straight on (an error on the source
    chip).  Raises ``ProgramError`` on a drop, a loop, or a packet leaving the mesh.
    """
    return _walk(tables, int(key) & _FULL, _FULL, int(source_pe) // tables.pes_per_chip)


def deliver_block(tables: RoutingTables, key: int, mask: int, source_pe: int) -> frozenset[int]:
    """Global PEs that receive EVERY key of block (key, mask) sent by ``source_pe``.

    Exact over all keys of the block without enumerating them: where an entry splits the
    block, both halves are followed.  Raises ``ProgramError`` if the keys of the block do
    not all reach the same PEs, or on a drop, a loop, or a packet leaving the mesh.
    """
    return _walk_block(tables, int(key) & int(mask), int(mask),
                       int(source_pe) // tables.pes_per_chip)


def check_delivery(tables: RoutingTables, alloc: KeyAllocation,
                   destinations: Mapping[int, Iterable[int]]) -> None:
    """Check that every key block reaches exactly its destination PEs; ``ProgramError`` if not."""
    for src in sorted(destinations):
        want = frozenset(_as_pes(destinations[src]).tolist())
        if not want:
            continue
        key, mask = alloc.block(int(src))
        got = deliver_block(tables, key, mask, int(src))
        if got != want:
            raise ProgramError(f"the spikes of PE {src} reach {len(got)} PEs instead of "
                               f"{len(want)}: missing {sorted(want - got)[:8]}, "
                               f"extra {sorted(got - want)[:8]}")
