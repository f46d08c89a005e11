"""The NB201 space: conventions identical to NAS-Bench-201's, canonical classes, encodings, variation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench_suite.space import EDGES, NB201, NUM_ARCHS, OPS, format_arch_str, parse_arch_str
from nasbench_suite.space.nb201 import EXPECTED_FORM

op_tuples = st.tuples(*[st.integers(0, 4)] * 6)


def test_round_trips_for_every_cell():
    for index in range(NUM_ARCHS):
        ops = NB201.to_ops(index)
        text = NB201.to_str(ops)
        assert NB201.to_index(text) == index
        assert NB201.to_ops(text) == ops
        assert NB201.to_index(tuple(OPS[o] for o in ops)) == index
    assert (NB201.indices_of([NB201.to_ops(i) for i in range(NUM_ARCHS)]) == np.arange(NUM_ARCHS)).all()


def test_index_order_is_the_published_order(external_dir):
    for name in ("naswot_arch_score_acc.csv", "mini_nb201_12epoch_accs.csv"):
        frame = pd.read_csv(external_dir / "derived" / name, usecols=["nb201_index", "arch_str"])
        assert [NB201.to_str(int(i)) for i in frame["nb201_index"]] == list(frame["arch_str"])


def test_canonical_classes_match_nas_bench_201():
    assert len(NB201.unique_indices()) == 6466
    canon = NB201.canonical_indices
    assert (canon[canon] == canon).all()  # representatives represent themselves
    # all-`none` cells compute zero whatever else they hold: cutting 0->3, 1->3, 2->3 makes them one class
    zero_out = [i for i in range(NUM_ARCHS) if NB201.to_ops(i)[3:] == (0, 0, 0)]
    assert len({canon[i] for i in zero_out}) == 1
    # swapping the two middle paths (nodes 1 and 2 cannot swap: 1 feeds 2) keeps distinct cells distinct
    assert NB201.canonical((3, 0, 0, 0, 0, 3)) != NB201.canonical((0, 3, 0, 0, 0, 3))


def test_cells_differing_only_on_dead_edges_share_a_key():
    # with 1->2 and 1->3 `none`, node 1 feeds nothing: the op on 0->1 cannot matter
    keys = {NB201.canonical_indices[NB201.to_index((op, 2, 0, 1, 0, 1))] for op in range(5)}
    assert len(keys) == 1
    assert NB201.canonical((3, 2, 0, 1, 0, 1)) != NB201.canonical((3, 2, 0, 1, 1, 1))


@given(op_tuples)
def test_string_parse_round_trip(ops):
    assert parse_arch_str(format_arch_str(ops)) == ops


@pytest.mark.parametrize("bad, part", [
    ("|nor_conv_3x3~0|+|none~0|none~1|", "2 node groups"),
    ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv'"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "input '1', not 0"),
    ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end"),
    ("|none~0|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "has 2 edges, not 1"),
    ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "lacks '~input'"),
])
def test_bad_strings_name_the_problem(bad, part):
    with pytest.raises(ValueError) as info:
        parse_arch_str(bad)
    assert part in str(info.value) and EXPECTED_FORM in str(info.value)


@settings(max_examples=200)
@given(op_tuples, st.integers(0, 200), st.sampled_from(["|", "~", "+", "_", "0", "1", "x"]))
def test_corrupted_strings_fail_cleanly(ops, position, char):
    text = format_arch_str(ops)
    position %= len(text)
    corrupted = text[:position] + char + text[position + 1:]
    try:
        parsed = parse_arch_str(corrupted)
    except ValueError as exc:
        assert str(exc).endswith(f"expected {EXPECTED_FORM}") and "\n" not in str(exc)
    else:  # a substitution can still spell a valid cell (e.g. replace a char by itself)
        assert format_arch_str(parsed) == corrupted


@pytest.mark.parametrize("bad", [-1, NUM_ARCHS, 10**9])
def test_index_out_of_range(bad):
    with pytest.raises(ValueError, match=r"expected 0\.\.15624"):
        NB201.to_ops(bad)


def test_bad_tuples():
    with pytest.raises(ValueError, match="6 entries"):
        NB201.to_ops((1, 2, 3))
    with pytest.raises(ValueError, match="unknown op"):
        NB201.to_ops(("conv",) * 6)
    with pytest.raises(ValueError, match="out of range"):
        NB201.to_ops((5, 0, 0, 0, 0, 0))


def test_encodings():
    archs = np.arange(50)
    onehot = NB201.encode(archs, "onehot")
    assert onehot.shape == (50, 30) and (onehot.sum(axis=1) == 6).all()
    assert (onehot.reshape(50, 6, 5).argmax(axis=2) == NB201.ops_of(archs)).all()
    adjacency = NB201.encode(archs, "adjacency")
    assert adjacency.shape == (50, 64 + 8 * 7)
    sequence = NB201.encode(archs, "sequence")
    assert sequence.shape == (50, 12)
    path = NB201.encode([(3, 3, 3, 3, 3, 3), (0, 0, 0, 0, 0, 0), (0, 0, 0, 1, 0, 0)], "path")
    assert path.shape == (3, 84)
    assert path[0].sum() == 3  # one conv3x3 sequence per path length 1, 2 (two paths share it) and 3
    assert path[1].sum() == 0  # no path survives `none`
    assert path[2].sum() == 1 and path[2][0] == 1  # only the direct skip path 0->3
    with pytest.raises(ValueError, match="valid: onehot"):
        NB201.encode(archs, "nope")


def test_neighbours_mutation_crossover_sampling():
    arch = NB201.to_ops(6111)
    neighbours = NB201.neighbours(arch)
    assert len(neighbours) == 24 and len(set(neighbours)) == 24
    assert all(sum(a != b for a, b in zip(arch, n)) == 1 for n in neighbours)
    rng = np.random.default_rng(0)
    assert all(NB201.mutate(arch, rng) in neighbours for _ in range(100))
    a, b = (0,) * 6, (4,) * 6
    for _ in range(20):
        child = NB201.crossover_one_point(a, b, rng)
        cut = child.index(4)
        assert child == (0,) * cut + (4,) * (6 - cut) and 1 <= cut <= 5
        assert set(NB201.crossover_uniform(a, b, rng)) <= {0, 4}
    first = [NB201.sample(np.random.default_rng(7)) for _ in range(3)]
    assert first == [NB201.sample(np.random.default_rng(7)) for _ in range(3)]
    draws = np.array([NB201.sample(rng) for _ in range(5000)])
    assert np.allclose(np.bincount(draws.ravel(), minlength=5) / draws.size, 0.2, atol=0.02)


def test_edges_follow_the_string_order():
    assert EDGES == ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
    assert NB201.to_str((1, 2, 3, 4, 0, 1)) == \
        "|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|skip_connect~2|"


def test_string_lookup_needs_no_parsing_and_bad_strings_still_say_why(monkeypatch):
    import nasbench_suite.space.nb201 as nb201

    strings = [NB201.to_str(i) for i in range(0, NUM_ARCHS, 97)]

    def no_parsing(text):
        raise AssertionError("a valid official string was parsed instead of looked up")

    monkeypatch.setattr(nb201, "parse_arch_str", no_parsing)
    assert [NB201.to_index(s) for s in strings] == list(range(0, NUM_ARCHS, 97))
    monkeypatch.undo()
    with pytest.raises(ValueError, match="bad arch string .*unknown op 'conv'"):
        NB201.to_index(strings[0].replace("skip_connect", "conv").replace("avg_pool_3x3", "conv"))


@pytest.mark.parametrize("call, message", [
    (lambda: NB201.ops_of(np.array([-1])), r"1 of 1 arch indices are out of range, e\.g\. -1; expected 0\.\.15624"),
    (lambda: NB201.ops_of([3, NUM_ARCHS]), "out of range"),
    (lambda: NB201.ops_of(np.array([1.5])), "arch indices must be integers, got float64"),
    (lambda: NB201.indices_of([(0, 0, 0, 0, 0, 5)]), r"op id 5 out of range; expected 0\.\.4"),
    (lambda: NB201.indices_of([(0, 0, 0, 0, 0, -1)]), "op id -1 out of range"),
    (lambda: NB201.encode(np.array([[0, 0, 0, 0, 0, 7]])), "op id 7 out of range"),
    (lambda: NB201.encode(np.array([-2])), "out of range"),
])
def test_indices_and_op_ids_are_checked_not_wrapped(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# The rules below were written for the mutants of space/ that survived the suite (results/mutation/README.md).

def test_every_encoding_is_float32():
    """Predictors get float32 features whatever the encoding (float64 would double every feature matrix)."""
    for kind in ("onehot", "adjacency", "path", "sequence"):
        assert NB201.encode(np.array([0, 1234, 15624]), kind).dtype == np.float32, kind


@pytest.mark.parametrize("call, message", [
    (lambda: NB201.ops_of([0, -1]), r"^1 of 2 arch indices are out of range, e\.g\. -1; expected 0\.\.15624$"),
    (lambda: NB201.ops_of(np.array([0.5])), r"; expected integers 0\.\.15624$"),
    (lambda: NB201.check_ops(np.zeros((2, 5), dtype=int)),
     r"^op ids must be an integer array of shape \(n, 6\), got int64 of shape \(2, 5\)$"),
    (lambda: NB201.check_ops(np.zeros((2, 6))), r"^op ids must be an integer array of shape \(n, 6\), got float64"),
    (lambda: NB201.to_index((0, 0, 0, 0, 0, 9)),
     r"^op id 9 out of range; expected 0\.\.4 or one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
     r"avg_pool_3x3$"),
    (lambda: NB201.encode([0], "graph"), r"^unknown encoding 'graph'; valid: onehot, adjacency, path, sequence$"),
    (lambda: parse_arch_str(7), r"^arch string must be a str, got int; expected "),
    (lambda: parse_arch_str("|+|none~0|none~1|+|none~0|none~1|none~2|"), r"node 1 group '\|' must start and end"),
    (lambda: parse_arch_str("||+|none~0|none~1|+|none~0|none~1|none~2|"), r"edge '' of node 1 lacks '~input'"),
    (lambda: parse_arch_str("|none~0~1|+|none~0|none~1|+|none~0|none~1|none~2|"),
     r"edge 'none~0~1' of node 1 has input '0~1', not 0"),
    (lambda: parse_arch_str("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
     r"unknown op 'conv' in edge 'conv~0' \(valid ops: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3\)"),
])
def test_input_errors_name_the_problem_and_the_expected_form_exactly(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unknown_space_lists_the_valid_ones():
    from nasbench_suite.space import get_space

    with pytest.raises(ValueError, match=r"^unknown space 'nb101'; valid: nb201, nbgraph, nbgraph-proteins$"):
        get_space("nb101")
