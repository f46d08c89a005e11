"""Zero-cost proxies: each against a direct computation on tiny real CIFAR-10 inputs, invariances, NaN safety,
resume, and the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from click.testing import CliRunner  # noqa: E402
from scipy.spatial.distance import cdist  # noqa: E402
from torch import nn  # noqa: E402

from nasbench_suite.cli import cli, commands  # noqa: E402,F401  (registers the commands)
from nasbench_suite.model.nb201 import build_network  # noqa: E402
from nasbench_suite.proxies import PROXIES, compute_proxies  # noqa: E402
from nasbench_suite.proxies.measures import synflow  # noqa: E402
from nasbench_suite.proxies.runner import ProxySettings, run_proxies, select_archs, write_columns  # noqa: E402
from nasbench_suite.space import NB201  # noqa: E402
from nasbench_suite.table import Table  # noqa: E402


@pytest.fixture(scope="module")
def batch(cifar_images):
    """8 real, normalised training images (float64) and labels."""
    from nasbench_suite.data import fixed_batch

    x, y = fixed_batch(cifar_images, 8, seed=0)
    return torch.from_numpy(x).double(), torch.from_numpy(y)


def _mlp(hidden: int, act: nn.Module, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, hidden), act, nn.Linear(hidden, 10)).double()


def _softmax_grad(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits and d(mean cross-entropy)/d(logits) of softmax regression, by hand."""
    logits = x @ w.T + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return logits, (p - np.eye(10)[y]) / len(y)


def test_synflow_of_two_layer_network_by_hand():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(6, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3, bias=False))
    a1, a2 = (np.abs(m.weight.detach().numpy().astype(np.float64)) for m in (net[0], net[3]))
    # R = sum_k sum_j sum_i a2[k, j] a1[j, i]; each layer's sum of theta * dR/dtheta equals R, so synflow = 2R.
    r = sum(a2[k, j] * a1[j, i] for k in range(3) for j in range(4) for i in range(6))
    assert synflow(net, (5, 6)) == pytest.approx(math.log(2 * r), rel=1e-12)


def test_synflow_ignores_data_and_weight_signs(batch, cifar_images):
    from nasbench_suite.data import fixed_batch

    net = build_network(6111, channels=4, cells_per_stage=1).double()
    x, y = batch
    other = torch.from_numpy(fixed_batch(cifar_images, 8, seed=5)[0]).double()
    first = compute_proxies(net, x, y, ["synflow"])["synflow"]
    assert math.isfinite(first)
    assert compute_proxies(net, other, y, ["synflow"])["synflow"] == first
    assert compute_proxies(net, torch.randn(2, 3, 32, 32, dtype=torch.float64), y[:2], ["synflow"])["synflow"] == first
    with torch.no_grad():
        for p in net.parameters():
            p.neg_()
    assert synflow(net, x.shape) == pytest.approx(first, rel=1e-12)


def test_snip_grad_norm_fisher_of_softmax_regression_by_hand(batch):
    x, y = batch
    torch.manual_seed(1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)).double()
    got = compute_proxies(net, x, y, ["snip", "grad_norm", "fisher"])
    xn, yn = x.reshape(len(x), -1).numpy(), y.numpy()
    w, b = net[1].weight.detach().numpy(), net[1].bias.detach().numpy()
    logits, dlogits = _softmax_grad(xn, yn, w, b)
    grad_w = np.einsum("nc,nd->cd", dlogits, xn)
    assert got["snip"] == pytest.approx(np.abs(w * grad_w).sum(), rel=1e-9)
    assert got["grad_norm"] == pytest.approx(np.sqrt((grad_w**2).sum()), rel=1e-9)
    # Per-channel Fisher saliency, counted once per weight of the channel (fan-in 3072).
    assert got["fisher"] == pytest.approx(3072 * 0.5 * ((logits * dlogits) ** 2).mean(0).sum(), rel=1e-9)


def test_fisher_of_conv_layer_by_hand(batch):
    x, y = batch
    torch.manual_seed(2)
    net = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1, bias=False), nn.Flatten(), nn.Linear(2 * 32 * 32, 10)).double()
    got = compute_proxies(net, x, y, ["fisher"])["fisher"]
    act = nn.functional.conv2d(x, net[0].weight.detach(), padding=1).numpy()  # [n, 2, 32, 32]
    w, b = net[2].weight.detach().numpy(), net[2].bias.detach().numpy()
    logits, dlogits = _softmax_grad(act.reshape(len(x), -1), y.numpy(), w, b)
    dact = (dlogits @ w).reshape(act.shape)
    conv_term = 0.5 * ((act * dact).sum(axis=(2, 3)) ** 2).mean(0).sum()
    linear_term = 0.5 * ((logits * dlogits) ** 2).mean(0).sum()
    assert got == pytest.approx(27 * conv_term + 2048 * linear_term, rel=1e-9)  # weights per output channel


def test_jacob_cov_by_hand(batch):
    x, y = batch
    net = _mlp(16, nn.ReLU())
    body = net[:3]  # differentiate the hidden features, as for NAS-Bench-201's pooled features
    got = compute_proxies(net, x, y, ["jacob_cov"], body=body, head=net[3])["jacob_cov"]
    xn = x.reshape(len(x), -1).numpy()
    w, b = net[1].weight.detach().numpy(), net[1].bias.detach().numpy()
    jac = ((xn @ w.T + b) > 0).astype(np.float64) @ w  # d sum relu(Wx + b) / dx, one row per image
    centred = jac - jac.mean(1, keepdims=True)
    corr = centred @ centred.T / np.outer(np.linalg.norm(centred, axis=1), np.linalg.norm(centred, axis=1))
    shifted = corr + 1e-5 * np.eye(len(x))
    # -sum(log(l + k) + 1/(l + k)) == -log det(C + kI) - trace((C + kI)^-1)
    expected = -np.linalg.slogdet(shifted)[1] - np.trace(np.linalg.inv(shifted))
    assert got == pytest.approx(expected, rel=1e-6)


def test_naswot_by_hand(batch):
    x, y = batch
    net = _mlp(12, nn.ReLU())
    got = compute_proxies(net, x, y, ["naswot"])["naswot"]
    xn = x.reshape(len(x), -1).numpy()
    codes = (xn @ net[1].weight.detach().numpy().T + net[1].bias.detach().numpy()) > 0
    kernel = 12 - cdist(codes, codes, metric="hamming") * 12  # units on which two images agree
    assert got == pytest.approx(math.log(np.linalg.det(kernel)), rel=1e-9)


def test_grasp_matches_finite_differences(batch):
    x, y = batch
    net = _mlp(8, nn.Tanh())
    got = compute_proxies(net, x, y, ["grasp"])["grasp"]
    params = [net[1].weight, net[3].weight]

    def grads(shift: list[torch.Tensor]) -> list[torch.Tensor]:
        with torch.no_grad():
            for p, s in zip(params, shift):
                p.add_(s)
        loss = nn.functional.cross_entropy(net(x), y)
        out = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, s in zip(params, shift):
                p.sub_(s)
        return out

    g = grads([torch.zeros_like(p) for p in params])
    eps = 1e-5
    plus, minus = grads([eps * gi for gi in g]), grads([-eps * gi for gi in g])
    hg = [(a - b) / (2 * eps) for a, b in zip(plus, minus)]
    expected = -sum(float((p.detach() * h).sum()) for p, h in zip(params, hg))
    assert got == pytest.approx(expected, rel=1e-5)


def test_proxies_do_not_depend_on_batch_order(batch):
    x, y = batch
    net = build_network(5000, channels=4, cells_per_stage=1).double()
    perm = torch.from_numpy(np.random.default_rng(0).permutation(len(x)))
    first = compute_proxies(net, x, y, PROXIES, body=net.features, head=net.classifier)
    again = compute_proxies(net, x[perm], y[perm], PROXIES, body=net.features, head=net.classifier)
    assert all(math.isfinite(v) for v in first.values())
    for name in PROXIES:
        assert again[name] == pytest.approx(first[name], rel=1e-7), name


def test_dead_cell_gives_nan_or_zero_never_an_error(batch):
    x, y = batch
    dead = NB201.to_index((0, 0, 0, 0, 0, 0))
    net = build_network(dead, channels=4, cells_per_stage=1).double()
    got = compute_proxies(net, x, y, PROXIES, body=net.features, head=net.classifier)
    assert math.isnan(got["synflow"]) and math.isnan(got["jacob_cov"])  # the output ignores the input
    assert got["snip"] == 0 and got["grad_norm"] == 0  # every weight gradient is zero
    # Only the classifier's output (its bias) carries a Fisher term: logits = b for every image.
    b = net.classifier.bias.detach().numpy()
    _, dlogits = _softmax_grad(np.zeros((len(y), 1)), y.numpy(), np.zeros((10, 1)), b)
    fan_in = net.classifier.in_features
    assert got["fisher"] == pytest.approx(fan_in * 0.5 * ((b * dlogits) ** 2).mean(0).sum(), rel=1e-9)


@pytest.fixture()
def small_table(tmp_path):
    archs = np.sort(np.concatenate([[0, 1, 6111], np.flatnonzero(NB201.canonical_indices == 8)[:3]]))
    table = Table(space="nb201", dataset="cifar10", archs=archs, seeds=[-1], epochs=[200])
    table.set_column("params_m", np.arange(len(archs), dtype=float), "kept untouched")
    return table.save(tmp_path / "small.h5")


def test_resume_after_interrupt_loses_nothing_and_members_share_values(small_table, cifar_images, tmp_path):
    settings = ProxySettings(proxies=("synflow", "snip", "jacob_cov"), batch_size=8, channels=4, cells_per_stage=1)
    table = Table.load(small_table)
    archs = select_archs(table, "all")
    seen: list[int] = []

    def interrupt_after_two(index: int) -> None:
        seen.append(index)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_proxies(table, archs, settings, cifar_images, tmp_path / "cache", progress=False,
                    on_cell=interrupt_after_two)
    rest: list[int] = []
    summary = run_proxies(table, archs, settings, cifar_images, tmp_path / "cache", progress=False,
                          on_cell=rest.append)
    classes = len(np.unique(NB201.canonical_indices[archs]))
    assert summary["already_done"] == 2 and len(rest) == classes - 2 and not set(rest) & set(seen)
    write_columns(small_table, archs, settings, tmp_path / "cache")

    fresh = tmp_path / "fresh.h5"
    Table.load(small_table).save(fresh)
    run_proxies(table, archs, settings, cifar_images, tmp_path / "cache2", progress=False)
    write_columns(fresh, archs, settings, tmp_path / "cache2")
    resumed, uninterrupted = Table.load(small_table), Table.load(fresh)
    for name in settings.proxies:
        assert np.array_equal(resumed.column(f"proxy_{name}"), uninterrupted.column(f"proxy_{name}"), equal_nan=True)
    members = [resumed.row(int(i)) for i in archs if NB201.canonical_indices[i] == 8]
    snip = resumed.column("proxy_snip")
    assert len(members) == 3 and np.all(snip[members] == snip[members[0]]) and np.isfinite(snip[members[0]])
    assert resumed.provenance["proxies"]["snip"]["batch_size"] == 8
    assert "Computed for" not in resumed.columns["proxy_snip"].description  # complete columns say nothing more
    assert np.array_equal(resumed.column("params_m"), np.arange(len(archs)))


def test_cli_writes_columns_and_rejects_bad_input(small_table, cifar10_source, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out.h5"
    result = runner.invoke(cli, ["proxies", str(small_table), "--data", str(cifar10_source), "--archs", "0",
                                 "--proxies", "synflow", "--cache-dir", str(tmp_path / "c"), "--output", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.output
    written = Table.load(out)
    column = written.column("proxy_synflow")
    assert math.isfinite(column[0]) and np.isnan(column[1:]).all()
    assert f"Computed for 1 of {len(column)} cells" in written.columns["proxy_synflow"].description
    for args, needle in ((["--archs", "random:0"], "random:N"), (["--proxies", "synflow,foo"], "'foo'"),
                         (["--archs", "7"], "not in this table"), (["--shard", "2/2"], "K/N")):
        bad = runner.invoke(cli, ["proxies", str(small_table), "--data", str(cifar10_source), "--cache-dir",
                                  str(tmp_path / "c"), *args])
        assert bad.exit_code == 2 and needle in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output


def test_cli_writes_a_copy_of_an_embedded_table_to_the_working_directory(cifar10_source, tmp_path, monkeypatch):
    from nasbench_suite.table import resolve_table

    embedded = resolve_table("cifar10-jpeg75-micro")
    before = embedded.read_bytes()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["proxies", "cifar10-jpeg75-micro", "--data", str(cifar10_source), "--archs",
                                      "random:1", "--proxies", "synflow", "--cache-dir", "cache"])
    assert result.exit_code == 0, result.output
    assert embedded.read_bytes() == before  # the installed package is never written
    assert "wrote 1 cells to cifar10-jpeg75-micro.h5" in result.output and "a copy" in result.output
    copy = Table.load(tmp_path / "cifar10-jpeg75-micro.h5")  # the printed path, relative to the working directory
    assert np.isfinite(copy.column("proxy_synflow")).sum() >= 1
