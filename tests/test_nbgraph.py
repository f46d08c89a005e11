"""NAS-Bench-Graph: the space and its source hash, the imported tables, the query-budget protocol, and every strategy
running on NB201 and NAS-Bench-Graph through the same `Space` interface (issue 32)."""

import hashlib
import pickle

import numpy as np
import pytest

from nasbench_suite import UserInputError, open_table
from nasbench_suite.importers.nbgraph import DATASETS, LOCAL, import_dataset, read_bench
from nasbench_suite.runner.presets import get_preset
from nasbench_suite.runner.simulate import run
from nasbench_suite.space import NB201, NBGRAPH, NBGRAPH_PROTEINS, Space
from nasbench_suite.strategies import STRATEGIES, get_strategy
from nasbench_suite.strategies._library import LibraryStrategy

SUITE_STRATEGIES = sorted(n for n in STRATEGIES if not issubclass(get_strategy(n), LibraryStrategy))
# sha256[:16] of the cells and fidelities each strategy queried (seeds 0 and 1, 40 queries, default preset on
# nb201-cifar10), measured on the code before `Space` became an interface (commit d347bae): NB201 searches must
# draw random numbers exactly as before, or every committed NB201 result changes.
NB201_QUERIES_BEFORE_SPACE = {
    "bananas": "43db500bfd8d334a", "bo": "f4a7f616e9e6312d", "bohb": "82e61c675b54ff08", "ga": "96bdfc11f56a2167",
    "hyperband": "4accc4e6f4c34841", "local-search": "f4412530181281bf", "optuna-tpe": "10dcebca5d5cd92f",
    "qlearning": "54efe0d6375ef885", "random": "9870ca4ec2afd598", "rea": "872594dddbf36923",
    "reinforce": "fab2f9e0fb4a7f9f", "sh": "ceb6c60f28247ff6", "tpe": "c30956110a454f0c",
    "zero-cost": "7f01cd61f7f6821a"}


def test_nbgraph_classes_are_the_papers_26206_unique_architectures():
    """Qin et al. 2022 (abstract; repository README): 26,206 unique GNN architectures; the 9 four-skip cells (one per
    link pattern) are empty networks outside every class."""
    assert NBGRAPH.size == 9 * 9**4 and NBGRAPH_PROTEINS.size == 9 * 5**4
    for space, classes in ((NBGRAPH, 26_206), (NBGRAPH_PROTEINS, 2_021)):
        tabulated = space.source_hashes >= 0
        assert (~tabulated).sum() == 9
        assert len(np.unique(space.source_hashes[tabulated])) == classes
        assert len(space.unique_indices()) == classes + 9


@pytest.mark.parametrize("a, b", [
    ("0001:gcn,gin,sage,fc", "0001:gcn,sage,gin,fc"),  # nodes 2 and 3 both read node 0: interchangeable
    ("0012:gin,gcn,fc,sage", "0012:gcn,gin,sage,fc"),  # two chains of two nodes swapped
    ("0000:sage,gat,gin,gcn", "0000:gat,gcn,gin,sage"),  # four parallel nodes in any order
    ("0111:skip,gcn,gin,gcn", "0000:skip,gcn,gcn,gin"),  # a skip with successors moved in front
])
def test_nbgraph_isomorphic_cells_share_the_source_hash(a, b):
    hashes = NBGRAPH.source_hashes
    assert hashes[NBGRAPH.to_index(a)] == hashes[NBGRAPH.to_index(b)] >= 0
    assert NBGRAPH.canonical_indices[NBGRAPH.to_index(a)] == NBGRAPH.canonical_indices[NBGRAPH.to_index(b)]


def test_nbgraph_hash_is_link_then_ops_in_base_10_of_the_full_op_list():
    """architecture.py's hash_arch: link index, then each op's position in gnn_list as a base-10 digit; proteins'
    cells use the 9-op list's positions too (its published keys do)."""
    assert NBGRAPH.source_hashes[NBGRAPH.to_index("0123:gcn,gin,fc,cheb")] == 8 * 10**4 + 1273
    assert NBGRAPH_PROTEINS.source_hashes[NBGRAPH_PROTEINS.to_index("0000:gcn,gcn,gcn,gcn")] == 1111
    assert NBGRAPH.source_hashes[NBGRAPH.to_index("0000:skip,skip,skip,skip")] == -1


def test_nbgraph_strings_indices_and_errors():
    for index in (0, 12345, NBGRAPH.size - 1):
        assert NBGRAPH.to_index(NBGRAPH.to_str(index)) == index
    assert NBGRAPH_PROTEINS.to_str(0) == "0000:gcn,gcn,gcn,gcn"
    with pytest.raises(UserInputError, match=r"^bad link '0121' in a nbgraph cell; expected 0\.\.8 or one of 0000"):
        NBGRAPH.to_ops("0121:gcn,gin,fc,cheb")
    with pytest.raises(UserInputError, match=r"^bad node1 'gat' in a nbgraph-proteins cell"):
        NBGRAPH_PROTEINS.to_ops("0000:gat,gcn,gcn,gcn")
    assert NBGRAPH.encode(["0123:gcn,gin,fc,cheb"], "path").sum() == 1  # one leaf: one path
    assert NBGRAPH_PROTEINS.encode(np.arange(3), "onehot").shape == (3, 9 + 4 * 5)


@pytest.mark.parametrize("space", [NB201, NBGRAPH, NBGRAPH_PROTEINS], ids=lambda s: s.name)
def test_every_space_keeps_the_interface_contract(space: Space):
    rng = np.random.default_rng(0)
    cells = [space.sample(rng) for _ in range(50)]
    assert np.array_equal(space.indices_of(np.asarray(cells)), [space.to_index(c) for c in cells])
    for cell in cells[:5]:
        assert space.to_ops(space.to_str(cell)) == cell == tuple(space.ops_of([space.to_index(cell)])[0])
        neighbours = space.neighbours(cell)
        assert len(neighbours) == int((space.choices - 1).sum())
        assert space.mutate(cell, rng) in neighbours
    assert set(space.encodings) >= {"onehot", "path"}


@pytest.fixture(scope="module")
def graph_tables():
    return {name: open_table(name) for name in ("nbg-cora", "nbg-proteins")}


def test_nbg_tables_hold_the_source_values_of_each_cells_hash(external_dir, graph_tables):
    for dataset in ("cora", "proteins"):
        bench = read_bench(external_dir / LOCAL.format(dataset), dataset)
        table = graph_tables[f"nbg-{dataset}"]
        hashes = table.space_obj.source_hashes
        rows = np.flatnonzero(hashes >= 0)
        expected = np.array([100 * bench[h]["perf"] for h in hashes[rows]], dtype=np.float32)
        assert np.array_equal(table.values("test_acc")[rows], expected)
        assert np.isnan(table.values("test_acc")[hashes < 0]).all()


def test_embedded_nbg_tables_equal_a_fresh_import(external_dir):
    for dataset in DATASETS:
        fresh, embedded = import_dataset(external_dir, dataset), open_table(f"nbg-{dataset}")
        assert fresh.content_sha256() == embedded.content_sha256(), dataset


def test_nbg_import_refuses_a_file_whose_sha256_is_not_pinned(tmp_path):
    path = tmp_path / LOCAL.format("cora")
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps({0: {"valid_perf": 0.5, "perf": 0.5, "latency": 0.1, "para": 1.0}}))
    with pytest.raises(UserInputError, match=r"cora\.bench: sha256 \w+\.\.\. is not the pinned 5e69b2f9bb08\.\.\."):
        import_dataset(tmp_path, "cora")
    with pytest.raises(UserInputError, match="unknown NAS-Bench-Graph dataset 'mnist'"):
        import_dataset(tmp_path, "mnist")


def test_seconds_budget_on_a_table_without_training_times_is_one_clear_error(graph_tables):
    bench = get_preset("nbgraph").benchmark(graph_tables["nbg-cora"])
    assert bench.describe()["cost"].startswith("none: the table records no training time")
    with pytest.raises(UserInputError, match=r"records no training time .*expected a query budget such as 100q"):
        run(bench, ["random"], 1, "1000")


def _queried(runs) -> str:
    digest = hashlib.sha256()
    for one in runs:
        digest.update(one.arch.tobytes())
        digest.update(one.fidelity.tobytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def nb201_default():
    table = open_table("nb201-cifar10")
    preset = get_preset("default").for_table(table)
    return preset, preset.benchmark(table), table.column("proxy_naswot")


@pytest.mark.parametrize("strategy", SUITE_STRATEGIES)
def test_nb201_searches_query_the_same_cells_as_before_the_space_interface(strategy, nb201_default):
    preset, bench, proxy = nb201_default
    runs = run(bench, [strategy], [0, 1], "40q", default_fidelity=preset.search_fidelity,
               fidelities=preset.multi_fidelities, proxy=proxy)
    assert _queried(runs) == NB201_QUERIES_BEFORE_SPACE[strategy]


@pytest.mark.parametrize("table_name", ["nb201-cifar10", "nbg-cora", "nbg-proteins"])
@pytest.mark.parametrize("strategy", SUITE_STRATEGIES)
def test_every_strategy_runs_on_nb201_and_nbgraph_through_the_same_code(strategy, table_name):
    table = open_table(table_name)
    preset = get_preset("nbgraph" if table.space != "nb201" else "default").for_table(table)
    bench = preset.benchmark(table)
    proxy = table.column("proxy_naswot") if table.space == "nb201" else -table.column("params_m")  # any free score
    (one,) = run(bench, [strategy], [3], "30q", default_fidelity=preset.search_fidelity,
                 fidelities=preset.multi_fidelities, proxy=proxy)
    assert one.queries == 30 and np.isfinite(one.reported[-1])
    assert ((one.arch >= 0) & (one.arch < table.space_obj.size)).all()


def test_hw_pareto_runs_on_a_graph_table_at_its_one_epoch_with_a_query_budget(graph_tables):
    from nasbench_suite.multiobjective import HWProblem, get_hw_preset, run_all

    table = graph_tables["nbg-proteins"]
    preset = get_hw_preset("hw-pareto").with_device("latency_ms").for_table(table)
    assert (preset.search_epoch, preset.report_epoch) == (1, 1)
    problem = HWProblem(table, preset, "nbg-proteins")
    runs, results = run_all(problem, ["random", "mo-rea"], 1, "20q", jobs=1)
    assert all(r.run.queries == 20 for r in results.values())
    with pytest.raises(UserInputError, match="records no training time"):
        run_all(problem, ["random"], 1, "200000", jobs=1)


def test_analyze_runs_on_a_graph_table_naming_each_positions_values(graph_tables, tmp_path):
    from nasbench_suite.analysis.run import analyze

    summary = analyze(graph_tables["nbg-proteins"], "valid_acc", out_dir=tmp_path, boot=10, progress=False)
    assert summary["redundancy"]["classes_in_space"] == 2_021 + 9 and summary["redundancy"]["disconnected_cells"] == 0
    shares = (tmp_path / "op_distribution.csv").read_text()
    assert "link,0123," in shares and "node4,arma," in shares and "link,gcn," not in shares


def test_surrogate_fits_a_graph_table_on_its_own_encodings_and_refuses_nb201_only_features(graph_tables):
    from nasbench_suite.surrogate import Surrogate

    table = graph_tables["nbg-proteins"]
    rng = np.random.default_rng(0)
    cells = rng.choice(np.flatnonzero(~np.isnan(table.values("valid_acc"))), 200, replace=False)
    surrogate = Surrogate("xgb", features=("onehot", "path", "params_m"), target="valid_acc@1").fit(table, cells)
    mean, _ = surrogate.predict(cells[:5])
    assert np.isfinite(mean).all()
    with pytest.raises(UserInputError, match=r"^unknown feature 'effective_onehot': not an encoding \(onehot, path\)"):
        Surrogate("xgb", features=("effective_onehot",), target="valid_acc@1").fit(table, cells)
    with pytest.raises(UserInputError, match="model 'gin' reads NB201 cells as graphs"):
        Surrogate("gin", features=("onehot",), target="valid_acc@1").fit(table, cells)
