"""Fixed, seeded index splits of CIFAR-10: a stratified train/valid split of the 50k training images, plus the
10k test set."""

from __future__ import annotations

import numpy as np

from nasbench_suite.data.cifar10 import MEAN, STD, Cifar10, DatasetError

# name -> images per class drawn for "valid" from the training set (the rest is "train").
SPLITS: dict[str, int] = {
    "train45k": 500,  # train 45k / valid 5k / test 10k
    "cifar10-valid": 2500,  # NAS-Bench-201's cifar10-valid: train 25k / valid 25k
}


def make_split(data: Cifar10, name: str = "train45k", seed: int = 0) -> dict[str, np.ndarray]:
    """Index arrays {"train", "valid"} into the training set and {"test"} into the test set; stratified, seeded."""
    if name not in SPLITS:
        raise DatasetError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
    per_class = SPLITS[name]
    rng = np.random.default_rng([seed, 10])
    valid = []
    for label in range(10):
        members = np.flatnonzero(data.train_labels == label)
        valid.append(rng.choice(members, size=per_class, replace=False))
    valid_idx = np.sort(np.concatenate(valid))
    train_idx = np.setdiff1d(np.arange(len(data.train_labels)), valid_idx)
    return {"train": train_idx, "valid": valid_idx, "test": np.arange(len(data.test_labels))}


def fixed_batch(data: Cifar10, size: int = 64, seed: int = 0, split: str = "train45k") -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """A seeded, class-balanced minibatch from the train split as normalised float32 NCHW images and labels."""
    if size < 1:
        raise DatasetError(f"batch size must be >= 1, got {size}")
    train = make_split(data, split, seed=0)["train"]
    rng = np.random.default_rng([seed, 64])
    labels = data.train_labels[train]
    order = [rng.permutation(train[labels == c]) for c in range(10)]
    picked = np.array([order[i % 10][i // 10] for i in range(size)])
    return normalize(data.train_images[picked]), data.train_labels[picked]


def normalize(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC -> float32 NCHW normalised with MEAN/STD."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return (x - np.array(MEAN, np.float32)[:, None, None]) / np.array(STD, np.float32)[:, None, None]
