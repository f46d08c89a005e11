"""`--backend ray`: one Ray actor per GPU (or per CPU worker) pulling cell groups from the driver's queue.

Each actor loads the data once, keeps it on its device and writes its own shard file in the output folder (which
must be shared storage on a multi-machine cluster) after every group; the driver only hands out work, so a
killed run restarted with the same command skips every finished cell, like the local backend. A worker lost with
its node gives its group back to the queue (less any cell its shard already holds) and is replaced by a new
actor with a new shard file, which joins as soon as the cluster has room for it; the survivors go on meanwhile.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from typing import Any

from nasbench_suite.errors import UserInputError
from nasbench_suite.train.run import RunSpec, check_device, pending, provenance
from nasbench_suite.train.shards import finished_runs


class TrainWorker:
    """A Ray actor: trains the groups it is given and rewrites its shard after each."""

    def __init__(self, spec: RunSpec, shard: tuple[int, int], rank: int) -> None:
        import torch

        from nasbench_suite.data import load_cifar10
        from nasbench_suite.train.protocols import get_protocol
        from nasbench_suite.train.shards import ShardWriter
        from nasbench_suite.train.trainer import DeviceData

        torch.set_num_threads(spec.threads or 1)
        self.spec = spec
        protocol = get_protocol(spec.protocol_name)
        data = load_cifar10(spec.dataset)
        device = "cuda" if spec.device.startswith("cuda") else "cpu"  # Ray sets CUDA_VISIBLE_DEVICES per actor
        self.path = spec.out / f"ray-shard-{shard[0]}-of-{shard[1]}-worker-{rank}.h5"
        self.writer = ShardWriter(self.path, protocol, data.name, data.sha256, spec.seeds, device,
                                  {**provenance(spec, "ray", shard), "worker": rank})
        self.data = DeviceData(data, protocol, device)

    def train(self, seed: int, cells: list[int]) -> list[Any]:
        from nasbench_suite.train.trainer import train_reference, train_stacked

        if self.spec.stacked():
            results = train_stacked(cells, seed, self.data)
        else:
            results = [train_reference(cells[0], seed, self.data)]
        self.writer.add(results)
        return results

    def shard_path(self) -> str:
        return str(self.path)


def run_ray(spec: RunSpec, shard: tuple[int, int] = (0, 1), address: str | None = None, workers: int = 0,
            progress: bool = True) -> list[Path]:
    """Train this shard's cells on Ray actors; returns the shard files written."""
    import numpy as np
    from tqdm import tqdm

    try:
        import ray
    except ImportError:
        raise UserInputError("--backend ray needs Ray: pip install 'nasbench-suite[ray]'") from None
    from nasbench_suite.data import load_cifar10
    from nasbench_suite.train.protocols import get_protocol

    protocol = get_protocol(spec.protocol_name)
    cuda = spec.device.startswith("cuda")
    if cuda and address is None:
        check_device(spec.device)
    data = load_cifar10(spec.dataset)
    spec = RunSpec(**{**spec.__dict__, "archs": np.asarray(spec.archs)[shard[0]::shard[1]],
                      "out": spec.out.resolve()})
    spec.out.mkdir(parents=True, exist_ok=True)
    work = pending(spec, protocol, data)
    if not work:  # everything finished already: no cluster needed
        return _shard_files(spec, shard)
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "runtime_env": {"env_vars": {k: v for k, v in os.environ.items()
                                                               if k.startswith("NASBENCH_SUITE_")}}}
        if address is None:
            kwargs["num_cpus"] = max(workers, 1) if workers and not cuda else None
        ray.init(address=address, **kwargs)
    try:
        resources = ray.cluster_resources()
        count = workers or int(resources.get("GPU", 0) if cuda else resources.get("CPU", 1))
        if count < 1:
            raise UserInputError("the Ray cluster has no GPU; use --device cpu or a cluster with GPUs")
        actor_cls = ray.remote(num_cpus=0 if cuda else 1, num_gpus=1 if cuda else 0)(TrainWorker)
        idle = [actor_cls.remote(spec, shard, rank) for rank in range(count)]
        total = len(spec.archs) * len(spec.seeds)
        queue = list(work)
        running: dict[Any, tuple[Any, tuple[int, list[int]]]] = {}  # task -> (actor, its work item)
        joining: dict[Any, Any] = {}  # a replacement's first call -> the replacement
        ranks = itertools.count(count)

        def replace(actor: Any, exc: Exception) -> None:
            """Swap a worker Ray lost (with its node) for a new one; one whose __init__ failed is a real error."""
            if exc.actor_init_failed:
                raise exc
            ray.kill(actor)  # it may only be unreachable: make sure it writes nothing more
            new = actor_cls.remote(spec, shard, next(ranks))
            joining[new.shard_path.remote()] = new

        with tqdm(total=total, initial=total - sum(len(c) for _, c in work), unit="cell", disable=not progress,
                  desc=f"train {protocol.name} (ray, {count} workers)", dynamic_ncols=True) as bar:
            while queue or running:
                while idle and queue:
                    actor, item = idle.pop(), queue.pop(0)
                    running[actor.train.remote(*item)] = (actor, item)
                done, _ = ray.wait([*running, *joining], num_returns=1)
                for ref in done:
                    if ref in joining:
                        actor = joining.pop(ref)
                        try:
                            ray.get(ref)
                            idle.append(actor)
                        except ray.exceptions.RayActorError as exc:
                            replace(actor, exc)  # lost before it could start
                        continue
                    actor, (seed, cells) = running.pop(ref)
                    try:
                        bar.update(len(ray.get(ref)))
                        idle.append(actor)
                    except ray.exceptions.RayActorError as exc:
                        replace(actor, exc)
                        finished = finished_runs(spec.out, protocol, data.name, data.sha256)
                        lost = [c for c in cells if (c, seed) not in finished]
                        if lost:
                            queue.insert(0, (seed, lost))
                        bar.update(len(cells) - len(lost))
                        bar.write(f"a Ray worker was lost ({type(exc).__name__}); {len(lost)} cell(s) of seed "
                                  f"{seed} go back to the queue; a replacement joins when the cluster has room",
                                  file=sys.stderr)
        for actor in joining.values():
            ray.kill(actor)  # never placed: the cluster had no room left for it
        return _shard_files(spec, shard)
    finally:
        if started:
            ray.shutdown()


def _shard_files(spec: RunSpec, shard: tuple[int, int]) -> list[Path]:
    """Every worker's shard of this shard position, those of lost workers included."""
    return sorted(spec.out.glob(f"ray-shard-{shard[0]}-of-{shard[1]}-worker-*.h5"))
