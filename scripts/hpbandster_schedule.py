"""Check bohb:schedule=hpbandster against hpbandster itself (pip install hpbandster): run hpbandster 0.7.4's BOHB
as NAS-Bench-201's exps/algos/BOHB.py configures it (eta 3, budgets 12..200, num_samples 4, random_fraction 0,
min_bandwidth 0.3, one worker that ignores the budget and returns 100 - valid_acc@12), then replay its new cells
through our strategy with the same values and compare the whole sequence of (cell, budget) and the incumbent.

    python scripts/hpbandster_schedule.py [--iterations 9] [--seed 0]

The new cells themselves (model sampling) come from each side's own random numbers, so ours are replaced by
hpbandster's; everything else (brackets, budgets, promotions, their order, the incumbent) must match.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np

import nasbench_suite as ns
from nasbench_suite.space import NB201
from nasbench_suite.strategies import Context, make_strategy


def hpbandster_run(values: np.ndarray, iterations: int, seed: int) -> tuple[list[tuple[tuple, float]], tuple]:
    """hpbandster's (cell, budget) sequence and incumbent cell; `values` = per-cell valid_acc@12."""
    import ConfigSpace
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers.bohb import BOHB

    import Pyro4

    # ConfigSpace >= 1 hands out numpy strings, which Pyro's default serializer (serpent) refuses
    Pyro4.config.SERIALIZER = "pickle"
    Pyro4.config.SERIALIZERS_ACCEPTED.add("pickle")
    np.random.seed(seed)
    space = ConfigSpace.ConfigurationSpace(seed=seed)
    names = [f"{dst}<-{src}" for src, dst in NB201.edges]
    for name in names:
        space.add(ConfigSpace.CategoricalHyperparameter(name, list(NB201.ops)))

    def to_ops(config: dict) -> tuple:
        return tuple(NB201.ops.index(config[name]) for name in names)

    class TableWorker(Worker):
        def compute(self, config, budget, **kwargs):
            return {"loss": 100 - float(values[NB201.to_index(to_ops(config))]), "info": None}

    server = hpns.NameServer(run_id="check", host="127.0.0.1", port=None)
    host, port = server.start()
    worker = TableWorker(nameserver=host, nameserver_port=port, run_id="check")
    worker.run(background=True)
    bohb = BOHB(configspace=space, run_id="check", nameserver=host, nameserver_port=port, eta=3, min_budget=12,
                max_budget=200, num_samples=4, random_fraction=0.0, bandwidth_factor=3, min_bandwidth=0.3, ping_interval=1)
    result = bohb.run(n_iterations=iterations, min_n_workers=1)
    bohb.shutdown(shutdown_workers=True)
    server.shutdown()
    configs = result.get_id2config_mapping()
    runs = sorted(result.get_all_runs(), key=lambda r: r.time_stamps["submitted"])
    sequence = [(to_ops(configs[r.config_id]["config"]), round(float(r.budget), 3)) for r in runs]
    return sequence, to_ops(configs[result.get_incumbent_id()]["config"])


def ours(values: np.ndarray, new_cells: list[tuple], queries: int) -> tuple[list[tuple[tuple, float]], tuple]:
    strategy = make_strategy("bohb:schedule=hpbandster", Context(rng=np.random.default_rng(0), fidelities=(12,)))
    feed = iter(new_cells)
    strategy.sample = lambda budget: next(feed)  # hpbandster's own draws, in order
    sequence = []
    for _ in range(queries):
        trial = strategy.ask()
        bracket, budget = strategy.pending[-1][1]
        sequence.append((trial.arch, round(budget, 3)))
        strategy.tell(trial, float(values[NB201.to_index(trial.arch)]))
    return sequence, strategy.recommend()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    values = ns.open_table("nb201-cifar10").values("valid_acc", 12)  # seed mean: both sides see the same values
    theirs, their_incumbent = hpbandster_run(values, args.iterations, args.seed)
    seen_first: dict = {}
    new_cells = []
    budgets = sorted({b for _, b in theirs})
    for i, (cell, budget) in enumerate(theirs):  # a cell at its bracket's first rung is a new draw
        if (cell, budget) not in seen_first and (budget == budgets[0] or not any(
                c == cell and b < budget for c, b in theirs[:i])):
            new_cells.append(cell)
        seen_first[(cell, budget)] = i
    mine, my_incumbent = ours(values, new_cells, len(theirs))
    print(f"hpbandster: {len(theirs)} evaluations in {args.iterations} iterations; budgets "
          f"{', '.join(f'{b:g}' for b in budgets)}")
    print("budget sequence:", " ".join(f"{b:.0f}" for _, b in theirs))
    same = sum(a == b for a, b in zip(theirs, mine))
    print(f"(cell, budget) sequence identical: {same}/{len(theirs)}; incumbent identical: "
          f"{their_incumbent == my_incumbent}")


if __name__ == "__main__":
    main()
