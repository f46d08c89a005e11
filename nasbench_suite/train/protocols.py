"""Named training protocols; each is stored as JSON in every table it produced, so tables say how they were made.

`nb201-200`/`nb201-12` are NAS-Bench-201's hyperparameters (SGD Nesterov 0.9, lr 0.1 cosine to 0, wd 5e-4,
batch 256, crop+flip); `fast` (5 epochs) ranks cells at 2.5% of the cost on a GPU; `cpu` is the cheapest protocol
the CPU pilot found faithful; `micro` is a smoke test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench_suite import jsonio
from nasbench_suite.data.cifar10 import CLASSES, NUM_TRAIN
from nasbench_suite.data.splits import SPLITS
from nasbench_suite.errors import UserInputError


def _integer(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _number(low: float, high: float = math.inf, *, above: bool = False, below: bool = False) -> Callable[[Any], bool]:
    """A finite number in [low, high]; `above`/`below` make that end open."""
    def check(v: Any) -> bool:
        return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                and (v > low if above else v >= low) and (v < high if below else v <= high))
    return check


def _flag(v: Any) -> bool:
    return isinstance(v, bool)


def _text(v: Any) -> bool:
    return isinstance(v, str)


RESOLUTIONS = (8, 16, 32)  # CIFAR-10's 32x32, average-pooled by an integer factor
PRECISIONS = ("auto", "fp32", "bf16")  # auto: bf16 autocast on CUDA, fp32 on the CPU

# field -> (valid?, the valid range in words)
FIELD_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (lambda v: _text(v) and v.strip() != "", "a non-empty string"),
    "epochs": (_integer(1), "an integer >= 1"),
    "batch_size": (_integer(1), "an integer >= 1"),
    "lr": (_number(0, above=True), "a number > 0"),
    "momentum": (_number(0, 1, below=True), "a number in [0, 1)"),
    "nesterov": (_flag, "true or false"),
    "weight_decay": (_number(0), "a number >= 0"),
    "warmup_epochs": (_integer(0), "an integer >= 0"),
    "eta_min": (_number(0), "a number >= 0"),
    "label_smoothing": (_number(0, 1, below=True), "a number in [0, 1)"),
    "channels": (_integer(1), "an integer >= 1"),
    "cells_per_stage": (_integer(1), "an integer >= 1"),
    "split": (lambda v: _text(v) and v in SPLITS, f"one of {', '.join(SPLITS)}"),
    "train_images": (lambda v: v is None or _integer(1)(v), "null (the whole split) or an integer >= 1"),
    "valid_images": (lambda v: v is None or _integer(1)(v), "null (the whole split) or an integer >= 1"),
    "test_images": (lambda v: v is None or _integer(1)(v), "null (the whole split) or an integer >= 1"),
    "eval_batch_size": (_integer(1), "an integer >= 1"),
    "augment": (_flag, "true or false"),
    "drop_last": (_flag, "true or false"),
    "resolution": (lambda v: _integer(1)(v) and v in RESOLUTIONS, f"one of {', '.join(map(str, RESOLUTIONS))}"),
    "precision": (lambda v: _text(v) and v in PRECISIONS, f"one of {', '.join(PRECISIONS)}"),
    "description": (_text, "a string"),
}


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
    resolution: int = 32  # images average-pooled once to resolution^2 (crop padding scales with it)
    precision: str = "auto"  # autocast dtype of forward passes: auto | fp32 | bf16 (bf16 is opt-in on the CPU)
    description: str = ""

    def __post_init__(self) -> None:
        """Refuse a value no training run can use, naming the field and its valid range."""
        for name, (valid, form) in FIELD_RULES.items():
            value = getattr(self, name)
            if not valid(value):
                raise UserInputError(f"protocol {self.name!r}: {name} = {value!r} is invalid; expected {form}")
        if self.warmup_epochs > self.epochs:
            raise UserInputError(f"protocol {self.name!r}: warmup_epochs = {self.warmup_epochs} is invalid; "
                                 f"expected 0..epochs ({self.epochs})")
        if self.eta_min > self.lr:
            raise UserInputError(f"protocol {self.name!r}: eta_min = {self.eta_min} is invalid; expected 0..lr "
                                 f"({self.lr})")
        images = min(self.train_images or NUM_TRAIN, NUM_TRAIN - len(CLASSES) * SPLITS[self.split])
        if self.drop_last and self.batch_size > images:
            raise UserInputError(f"protocol {self.name!r}: batch_size = {self.batch_size} is invalid with drop_last "
                                 f"and {images} training images; expected 1..{images}, else no step is taken")

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
    Protocol("cpu", epochs=4, batch_size=100, channels=16, cells_per_stage=1, train_images=10000, valid_images=2000,
             test_images=1000, eval_batch_size=500, resolution=16, precision="bf16",
             description="the CPU table's protocol, chosen by the pilot (results/protocol_pilot): NAS-Bench-201's "
             "recipe (SGD Nesterov 0.9, lr 0.1 cosine to 0, wd 5e-4, crop+flip) on C=16 N=1 at 16x16 px, 10,000 "
             "training images (stratified), 4 epochs at batch 100, bf16 autocast, 2,000 validation and 1,000 test "
             "images; about 20 CPU-seconds per cell"),
)}


def get_protocol(name_or_file: str | Path) -> Protocol:
    """A named protocol or one read from a JSON file."""
    text = str(name_or_file)
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        try:
            data = jsonio.loads(path.read_text())
        except ValueError as exc:  # includes JSONDecodeError and NaN/Infinity
            raise UserInputError(f"protocol file {path} is not valid JSON ({exc}); expected an object with name, "
                                 "epochs and other Protocol fields") from None
        if not isinstance(data, dict):
            raise UserInputError(f"protocol file {path} holds a {type(data).__name__}; expected a JSON object with "
                                 "name, epochs and other Protocol fields")
        return Protocol.from_json(data)
    raise UserInputError(f"unknown protocol {text!r}; choose one of {', '.join(PROTOCOLS)} or a .json file")
