"""Training invariants on real CIFAR-10 images: the learning rate each optimiser step really uses, and the crop
and flip each training image really gets."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from torch.optim.optimizer import register_optimizer_step_pre_hook  # noqa: E402

from nasbench_suite.data import MEAN, STD  # noqa: E402
from nasbench_suite.train.protocols import Protocol  # noqa: E402
from nasbench_suite.train.trainer import DeviceData, train_reference, train_stacked  # noqa: E402

TINY = dict(channels=4, cells_per_stage=1, train_images=200, valid_images=100, test_images=100,
            eval_batch_size=100)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def expected_lr(step: int) -> float:
    """The documented schedule for 3 epochs of 4 steps, lr 0.2, 1 warm-up epoch, eta_min 0.02, per step:
    linear 0 -> 0.2 over the first epoch, then cosine from 0.2 to 0.02 over the last two."""
    epochs_done = step / 4
    if epochs_done < 1:
        return 0.2 * epochs_done
    return 0.02 + 0.5 * (0.2 - 0.02) * (1 + math.cos(math.pi * (epochs_done - 1) / 2))


@pytest.mark.parametrize("path", ["reference", "stacked"])
@pytest.mark.slow
def test_every_optimiser_step_uses_the_scheduled_learning_rate(cifar, path):
    protocol = Protocol("lr", epochs=3, batch_size=50, lr=0.2, warmup_epochs=1, eta_min=0.02, **TINY)
    data = DeviceData(cifar, protocol)
    used: list[list[float]] = []
    hook = register_optimizer_step_pre_hook(
        lambda optimizer, args, kwargs: used.append([group["lr"] for group in optimizer.param_groups]))
    try:
        if path == "reference":
            train_reference(1462, 0, data)
        else:
            train_stacked([1462, 6111], 0, data)
    finally:
        hook.remove()
    assert len(used) == 12  # 200 images / batch 50, 3 epochs
    for step, lrs in enumerate(used):
        assert lrs == pytest.approx([expected_lr(step)] * len(lrs), abs=1e-12), f"step {step}"


def transforms_matching(original: torch.Tensor, augmented: torch.Tensor) -> set[tuple[bool, int, int]]:
    """Every (flipped, dy, dx) such that cropping the 4-pixel zero-padded original at (dy, dx), then mirroring
    it if flipped, gives `augmented` (both normalised CHW)."""
    black = (-torch.tensor(MEAN) / torch.tensor(STD)).view(3, 1, 1)
    padded = black.expand(3, 40, 40).clone()
    padded[:, 4:36, 4:36] = original
    crops = padded.unfold(1, 32, 1).unfold(2, 32, 1)  # [3, 9, 9, 32, 32]: crops[:, dy, dx] = the crop at (dy, dx)
    found = set()
    for flipped, target in ((False, augmented), (True, augmented.flip(-1))):
        same = torch.isclose(crops, target[:, None, None], atol=1e-4).all(-1).all(-1).all(0)
        found |= {(flipped, int(dy), int(dx)) for dy, dx in same.nonzero().tolist()}
    return found


def test_augmentation_flips_and_crops_real_images(cifar):
    """Without augmentation the same seed gives the same order, so image i of the plain batch is the original
    of image i of the augmented one; each augmented image must be one crop (optionally mirrored) of it."""
    protocol = Protocol("aug", epochs=1, batch_size=200, **TINY)
    (augmented, labels), = DeviceData(cifar, protocol).train_batches(seed=3, epoch=0)
    (plain, plain_labels), = DeviceData(cifar, Protocol(**{**protocol.to_json(), "augment": False})).train_batches(
        seed=3, epoch=0)
    assert torch.equal(labels, plain_labels)
    matches = [transforms_matching(o, a) for o, a in zip(plain, augmented)]
    assert all(matches), "an augmented image is no crop or mirrored crop of its original"
    flips = [{flipped for flipped, _, _ in m} for m in matches]
    assert 70 <= sum(f == {True} for f in flips) <= 130 and 70 <= sum(f == {False} for f in flips) <= 130
    shifts = [next(iter(m))[1:] for m in matches if len(m) == 1]
    assert len(shifts) > 150
    assert {dy for dy, _ in shifts} == {dx for _, dx in shifts} == set(range(9))  # every crop offset occurs
    assert sum(s == (4, 4) for s in shifts) < 10  # the centre (no shift) is 1 in 81
