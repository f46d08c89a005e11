"""Named training protocols; each is stored as JSON in every table it produced, so tables say how they were made.

`nb201-200`/`nb201-12` are NAS-Bench-201's hyperparameters (SGD Nesterov 0.9, lr 0.1 cosine to 0, wd 5e-4,
batch 256, crop+flip); `fast` (5 epochs) ranks cells at 2.5% of the cost; `micro` fits hundreds of cells on a CPU.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench_suite.errors import UserInputError


@dataclass(frozen=True)
class Protocol:
    """Everything that decides a training result besides the cell, the seed and the data."""

    name: str
    epochs: int
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    warmup_epochs: int = 0  # linear warm-up from 0, then cosine to eta_min; updated every step
    eta_min: float = 0.0
    label_smoothing: float = 0.0
    channels: int = 16
    cells_per_stage: int = 5
    split: str = "train45k"
    train_images: int | None = None  # stratified subset sizes (None = the whole split)
    valid_images: int | None = None
    test_images: int | None = None
    eval_batch_size: int = 1000
    augment: bool = True  # random crop 32 with 4-pixel zero padding + horizontal flip
    drop_last: bool = True  # static batch shapes (needed by CUDA graphs); both trainer paths do the same
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Protocol":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown or "name" not in data or "epochs" not in data:
            raise UserInputError(f"protocol JSON must have name and epochs and only the fields "
                                 f"{', '.join(sorted(fields))}; unknown: {', '.join(sorted(unknown)) or 'none'}")
        return cls(**data)


PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("nb201-200", epochs=200, description="NAS-Bench-201 hp=200: SGD Nesterov 0.9, lr 0.1 cosine to 0, "
             "wd 5e-4, batch 256, 200 epochs, crop+flip, C=16 N=5"),
    Protocol("nb201-12", epochs=12, description="NAS-Bench-201 hp=12: as nb201-200 with a 12-epoch schedule"),
    Protocol("fast", epochs=5, description="ranking proxy for nb201-200: NAS-Bench-201's recipe (batch 256, lr 0.1 "
             "cosine to 0, wd 5e-4, crop+flip, C=16 N=5) on a 5-epoch schedule = 2.5% of nb201-200's steps"),
    Protocol("micro", epochs=2, batch_size=50, lr=0.1, channels=8, cells_per_stage=1, train_images=1000,
             valid_images=200, test_images=500, eval_batch_size=500,
             description="CPU-sized: C=8, N=1, 1,000 training images (stratified), 2 epochs at batch 50, "
             "200 validation and 500 test images; about 15-25 s per cell on one shared CPU core"),
)}


def get_protocol(name_or_file: str | Path) -> Protocol:
    """A named protocol or one read from a JSON file."""
    text = str(name_or_file)
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        try:
            return Protocol.from_json(json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise UserInputError(f"protocol file {path} is not valid protocol JSON: {exc}") from None
    raise UserInputError(f"unknown protocol {text!r}; choose one of {', '.join(PROTOCOLS)} or a .json file")
