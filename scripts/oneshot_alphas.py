"""The architecture distribution a DARTS/GDAS search checkpoint ended with: softmax(alpha) per edge, and max |alpha|.

    python scripts/oneshot_alphas.py runs/oneshot/cpu/darts/seed0/checkpoint.pt
"""

from __future__ import annotations

import argparse

import torch

from nasbench_suite.errors import UserInputError
from nasbench_suite.oneshot.search import load_checkpoint
from nasbench_suite.space import NB201


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    args = ap.parse_args()
    try:
        state, config = load_checkpoint(args.checkpoint)  # tensors and plain types only; one line if unreadable
    except UserInputError as exc:
        raise SystemExit(f"error: {exc}") from None
    alphas = state["method"].get("alphas")
    if alphas is None:
        raise SystemExit(f"error: {args.checkpoint} holds no architecture parameters (method "
                         f"{config.method}: only DARTS and GDAS have them)")
    print(f"{config.method} seed {config.seed} ({config.setting}), epoch {state['epochs_done']} of "
          f"{config.epochs}: max |alpha| {alphas.abs().max().item():.3f}")
    print("edge  " + "  ".join(f"{op:>13}" for op in NB201.ops))
    for (i, j), row in zip(NB201.edges, torch.softmax(alphas, -1).tolist()):
        print(f"{j}<-{i}  " + "  ".join(f"{p:13.3f}" for p in row))


if __name__ == "__main__":
    main()
