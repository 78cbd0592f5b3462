"""SpiNNaker2 multicast routing: key allocation, per-router tables, ordered-covering compression,
and the property the tables must have: every spike reaches exactly its destination PEs, before
and after compression, with no drop and no loop."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spikec.errors import ProgramError, ResourceLimitError
from spikec.targets.spinnaker2.routing import (
    ROUTER_ENTRIES,
    RoutingEntry,
    RoutingTables,
    assign_keys,
    build_tables,
    check_delivery,
    compress,
    deliver,
    deliver_block,
    destinations_from_synapses,
)

E, N, W, S = 1, 2, 4, 8  # link bits, LINK_NAMES order


def _build(core_of, dests, *, ppc, width, height):
    alloc = assign_keys(np.asarray(core_of))
    return alloc, build_tables(alloc, dests, pes_per_chip=ppc, width=width, height=height)


def _assert_exact(tables, alloc, dests, core_of):
    """Every block, and every unit's own key, reaches exactly its destinations."""
    check_delivery(tables, alloc, dests)
    for unit, pe in enumerate(np.asarray(core_of).tolist()):
        want = frozenset(int(d) for d in dests.get(pe, ()))
        if want:
            assert deliver(tables, int(alloc.keys[unit]), pe) == want


# --- keys ---------------------------------------------------------------------------------


def test_keys_are_unique_aligned_blocks_per_pe():
    core_of = np.array([3, 0, 3, 3, 7, 0, 3, 3, 3, 3, 3, 3])  # PE 3: 9 units, PE 0: 2, PE 7: 1
    alloc = assign_keys(core_of)
    assert alloc.pes.tolist() == [0, 3, 7]
    assert alloc.counts.tolist() == [2, 9, 1]
    assert len(set(alloc.keys.tolist())) == core_of.size
    for pe, n in zip(alloc.pes.tolist(), alloc.counts.tolist()):
        key, mask = alloc.block(pe)
        free = (~mask) & 0xFFFFFFFF
        assert free == (1 << (n - 1).bit_length()) - 1  # low ceil(log2 n) bits free
        assert key & free == 0  # aligned
        mine = alloc.keys[core_of == pe].astype(np.int64)
        assert np.all((mine & mask) == key)
        assert sorted((mine & free).tolist()) == list(range(n))  # index within the PE, in order
    assert alloc.keys[core_of == 3].tolist() == sorted(alloc.keys[core_of == 3].tolist())
    with pytest.raises(ProgramError):
        alloc.block(5)


def test_destinations_from_synapses_groups_by_source_pe():
    core_of = np.array([0, 0, 1, 2, 2])
    dests = destinations_from_synapses(core_of, pre=[0, 1, 1, 3, 4], post=[2, 3, 2, 0, 4])
    assert {k: v.tolist() for k, v in dests.items()} == {0: [1, 2], 2: [0, 2]}


# --- hand-built tables --------------------------------------------------------------------


def test_default_routing_needs_no_entry_on_straight_crossings():
    # 3x1 chips, 2 PEs each; PE 0 (chip 0) -> PE 4 (chip 2): chip 1 only passes it on
    core_of = [0, 0, 1]
    dests = {0: [4]}
    alloc, t = _build(core_of, dests, ppc=2, width=3, height=1)
    assert t.counts().tolist() == [1, 0, 1]
    assert t.entries[0][0].link_names == ("E",) and t.entries[0][0].local_pes == ()
    assert t.entries[2][0].links == 0 and t.entries[2][0].local_pes == (0,)
    assert t.through[1] == (alloc.block(0),)
    _assert_exact(t, alloc, dests, core_of)
    # PE 1 sends nothing, so its key matches nothing on its own chip: dropped, an error
    with pytest.raises(ProgramError, match="dropped"):
        deliver(t, int(alloc.keys[2]), 1)


def test_turns_and_branches_need_entries_straight_legs_do_not():
    # 3x3 chips, 1 PE each; chip (0,0) -> chip (2,2): X leg then Y leg
    dests = {0: [8]}
    alloc, t = _build([0], dests, ppc=1, width=3, height=3)
    assert t.counts().tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 1]
    assert t.entries[2][0].link_names == ("N",)  # the turn at (2,0)
    _assert_exact(t, alloc, dests, [0])


def test_local_only_delivery():
    dests = {0: [0, 1], 2: [1]}
    alloc, t = _build([0, 2], dests, ppc=3, width=2, height=1)
    assert t.counts().tolist() == [2, 0]
    assert {e.key: (e.links, e.local_pes) for e in t.entries[0]} == {
        alloc.block(0)[0]: (0, (0, 1)), alloc.block(2)[0]: (0, (1,))}
    _assert_exact(t, alloc, dests, [0, 2])


def test_multicast_from_the_centre_to_every_chip():
    # 3x3 chips, 2 PEs each; the centre chip's PE 8 -> local PE 0 of every chip and PE 9
    dests = {8: [2 * c for c in range(9)] + [9]}
    alloc, t = _build([8] * 5, dests, ppc=2, width=3, height=3)
    assert t.counts().tolist() == [1] * 9
    centre = t.entries[4][0]
    assert set(centre.link_names) == {"E", "N", "W", "S"} and centre.local_pes == (0, 1)
    assert set(t.entries[3][0].link_names) == {"N", "S"}  # X leg chips branch N and S
    assert t.entries[7][0].link_names == ()  # end of a Y leg: local only
    _assert_exact(t, alloc, dests, [8] * 5)


def test_compression_merges_same_routes_and_puts_exceptions_first():
    # 2x1 chips of 16 PEs; every PE of chip 0 sends to PE 16 except PE 5, which sends to PE 17
    core_of = np.repeat(np.arange(16), 4)
    dests = {pe: [17 if pe == 5 else 16] for pe in range(16)}
    alloc, t = _build(core_of, dests, ppc=16, width=2, height=1)
    assert t.counts().tolist() == [16, 16]
    assert t.counts().max() > 2  # does not fit a 2-entry router uncompressed
    with pytest.raises(ResourceLimitError):
        compress(t, entries_limit=1)
    res = compress(t, entries_limit=2)
    assert res.after.tolist() == [1, 2]
    exception, general = res.tables.entries[1]
    assert exception.key == alloc.block(5)[0] and exception.local_pes == (1,)
    assert general.local_pes == (0,) and general.mask != 0xFFFFFFFF
    assert res.summary() == {"entries_before": 32, "entries_after": 3, "max_before": 16,
                             "max_after": 2, "entries_limit": 2}
    _assert_exact(res.tables, alloc, dests, core_of)


def test_compression_never_captures_a_default_routed_block():
    # 3x1 chips of 4 PEs; PEs 0, 1, 3 deliver on chip 1, PE 2 crosses chip 1 to chip 2
    core_of = [0, 1, 2, 3]
    dests = {0: [4], 1: [4], 2: [8], 3: [4]}
    alloc, t = _build(core_of, dests, ppc=4, width=3, height=1)
    assert t.counts().tolist() == [4, 3, 1] and t.through[1] == (alloc.block(2),)
    res = compress(t)
    assert res.after.tolist() == [1, 2, 1]  # blocks 0-1 merge; block 3 cannot join them
    for e in res.tables.entries[1]:
        key, mask = alloc.block(2)
        assert (key ^ e.key) & e.mask & mask != 0  # no entry touches PE 2's keys
    _assert_exact(res.tables, alloc, dests, core_of)


def test_table_over_the_limit_after_compression_names_the_chip():
    # every source PE needs its own route on chip 1: nothing to merge
    core_of = [0, 1, 2, 3]
    dests = {pe: [4 + pe] for pe in range(4)}
    _, t = _build(core_of, dests, ppc=4, width=2, height=1)
    with pytest.raises(ResourceLimitError) as err:
        compress(t, entries_limit=3)
    assert err.value.node == "chip (1,0)" and err.value.parameter == "router_entries"
    assert err.value.limit == 3 and "4 entries" in str(err.value) and "more chips" in err.value.fix
    assert compress(t, entries_limit=3, check_limit=False).after.tolist() == [1, 4]


def test_pe_outside_the_mesh_is_a_resource_error():
    alloc = assign_keys(np.array([0]))
    with pytest.raises(ResourceLimitError, match="beyond"):
        build_tables(alloc, {0: [8]}, pes_per_chip=4, width=2, height=1)


def test_checker_catches_split_blocks_loops_and_drops():
    def tables(chip0, chip1):
        entries = (tuple(chip0), tuple(chip1))
        return RoutingTables(width=2, height=1, pes_per_chip=1, entries=entries,
                             required=entries, through=((), ()))

    half = RoutingEntry(0x0, 0xFFFFFFFE, links=0, pe_bits=1)  # keys 0,1 local
    rest = RoutingEntry(0x0, 0xFFFFFFFC, links=E, pe_bits=0)  # keys 2,3 east, then dropped
    t = tables([half, rest], [])
    assert deliver_block(t, 0x0, 0xFFFFFFFE, 0) == {0}
    with pytest.raises(ProgramError):  # key 2 leaves east, then leaves the mesh
        deliver_block(t, 0x0, 0xFFFFFFFC, 0)
    split = tables([half, rest], [RoutingEntry(0x0, 0xFFFFFFFC, links=0, pe_bits=1)])
    with pytest.raises(ProgramError, match="different PEs"):
        deliver_block(split, 0x0, 0xFFFFFFFC, 0)
    loop = tables([RoutingEntry(0, 0xFFFFFFFF, links=E, pe_bits=0)],
                  [RoutingEntry(0, 0xFFFFFFFF, links=W, pe_bits=1)])
    with pytest.raises(ProgramError, match="twice"):
        deliver(loop, 0, 0)


# --- properties ---------------------------------------------------------------------------


@st.composite
def _networks(draw):
    width, height = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ppc = draw(st.integers(1, 4))
    n_pes = width * height * ppc
    core_of = draw(st.lists(st.integers(0, n_pes - 1), min_size=1, max_size=40))
    dests = {pe: draw(st.sets(st.integers(0, n_pes - 1), max_size=n_pes))
             for pe in sorted(set(core_of))}
    return core_of, dests, ppc, width, height


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_networks())
def test_delivery_is_exact_before_and_after_compression(net):
    core_of, dests, ppc, width, height = net
    alloc, t = _build(core_of, dests, ppc=ppc, width=width, height=height)
    _assert_exact(t, alloc, dests, core_of)
    res = compress(t, check_limit=False)
    _assert_exact(res.tables, alloc, dests, core_of)
    assert np.all(res.after <= res.before)
    assert res.before.tolist() == t.counts().tolist()
    again = compress(res.tables, check_limit=False)  # compression starts from the requirement
    assert again.after.tolist() == res.after.tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_shared_routes_with_scattered_exceptions_compress(seed, n_routes):
    # 64 source PEs on chip 0 of a 2x2 mesh, routes drawn from a few, with one much more common
    rng = np.random.default_rng(seed)
    ppc = 64
    core_of = np.repeat(np.arange(ppc), 3)
    choice = rng.choice(n_routes, size=ppc, p=[0.7] + [0.3 / (n_routes - 1)] * (n_routes - 1))
    targets = [rng.choice(np.arange(ppc, 4 * ppc), size=5, replace=False) for _ in range(n_routes)]
    dests = {pe: targets[choice[pe]] for pe in range(ppc)}
    alloc, t = _build(core_of, dests, ppc=ppc, width=2, height=2)
    res = compress(t, check_limit=False)
    _assert_exact(res.tables, alloc, dests, core_of)
    assert res.after.sum() < res.before.sum()
    # at most one entry per block of a rare route plus a handful for the common one
    rare = int(np.sum(choice != 0))
    assert res.after.max() <= rare + 8


# --- scale --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "local"])
def test_100k_neurons_on_782_pes(kind):
    rng = np.random.default_rng(1)
    n, per, fan = 100_000, 128, 50
    core_of = np.arange(n) // per  # 782 PEs on 6 chips of 152 (3x2 mesh)
    pre = np.repeat(np.arange(n), fan)
    if kind == "random":
        post = rng.integers(0, n, pre.size)
    else:  # targets within +-3000 neurons: sources differ in their destination windows
        post = (pre + rng.integers(-3000, 3001, pre.size)) % n
    start = time.perf_counter()
    alloc = assign_keys(core_of)
    dests = destinations_from_synapses(core_of, pre, post)
    tables = build_tables(alloc, dests, pes_per_chip=152, width=3, height=2)
    res = compress(tables, ROUTER_ENTRIES)
    elapsed = time.perf_counter() - start
    check_delivery(tables, alloc, dests)
    check_delivery(res.tables, alloc, dests)
    print(f"\n{kind}: {alloc.pes.size} PEs, entries {res.summary()}, per chip before "
          f"{res.before.tolist()} after {res.after.tolist()}, {elapsed:.2f} s")
    assert np.all(res.after <= res.before) and res.after.sum() < res.before.sum()
