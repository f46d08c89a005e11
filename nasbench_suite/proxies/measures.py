"""Zero-cost proxies of an untrained network from one minibatch (torch).

Each proxy follows the formula of the paper named in `PROXY_INFO`, in the form Abdelfattah et al. (2021),
"Zero-Cost Proxies for Lightweight NAS", use: weight-based scores sum over the weights of every Conv2d and
Linear layer. One forward pass and at most two backward passes serve every data-dependent proxy (`naswot`,
`jacob_cov`, `snip`, `grad_norm`, `fisher`, `grasp`); `synflow` needs no data. A score that cannot be computed
(a singular kernel, a constant Jacobian, an overflow) is NaN, never an exception.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench_suite.errors import UserInputError


@dataclass(frozen=True)
class ProxyInfo:
    """What a proxy computes and where the formula comes from."""

    formula: str
    paper: str
    unit: str = ""


PROXY_INFO: dict[str, ProxyInfo] = {
    "synflow": ProxyInfo(
        "ln( sum_l sum |theta_l| * dR/d|theta_l| ), R = sum of the outputs for an all-ones input of batch 1, "
        "all parameters replaced by their absolute values, BatchNorm removed, float64; NaN where the sum is 0 "
        "(the output ignores the input) or overflows",
        "Tanaka et al. 2020, Pruning neural networks without any data by iteratively conserving synaptic flow "
        "(NeurIPS); data-free, BN-free variant of Abdelfattah et al. 2021", "ln"),
    "naswot": ProxyInfo(
        "ln det K, K_ij = number of ReLU units whose binary activation code (input > 0) agrees between images i "
        "and j, summed over every ReLU; NaN where K is singular",
        "Mellor et al. 2021, Neural Architecture Search without Training (ICML), v2 score"),
    "snip": ProxyInfo(
        "sum_l sum |theta_l * dL/dtheta_l|, L = cross-entropy of the minibatch",
        "Lee et al. 2019, SNIP: single-shot network pruning based on connection sensitivity (ICLR)"),
    "grad_norm": ProxyInfo(
        "sum_l ||dL/dtheta_l||_2, L = cross-entropy of the minibatch",
        "Abdelfattah et al. 2021, Zero-Cost Proxies for Lightweight NAS (ICLR)"),
    "jacob_cov": ProxyInfo(
        "-sum_i [ln(lambda_i + k) + 1/(lambda_i + k)], k = 1e-5, lambda = eigenvalues of the correlation matrix "
        "of the per-image input gradients of the summed penultimate (pooled) features; NaN where a gradient is "
        "constant",
        "Mellor et al. 2020, Neural Architecture Search without Training (arXiv v1), the score Abdelfattah et al. "
        "2021 call jacob_cov"),
    "fisher": ProxyInfo(
        "sum over Conv2d/Linear layers l with output a and output channels c of fan_in_l * 0.5 * mean_n "
        "(sum_spatial a_c * dL/da_c)^2: the per-channel Fisher saliency, counted once per weight of the channel as "
        "Abdelfattah et al.'s code does",
        "Theis et al. 2018, Faster gaze prediction with dense networks and Fisher pruning; Turner et al. 2020 "
        "(BlockSwap), as in Abdelfattah et al. 2021"),
    "grasp": ProxyInfo(
        "-sum_l sum theta_l * (H g)_l, g = dL/dtheta, H = Hessian of L (Hessian-gradient product by double "
        "backpropagation)",
        "Wang et al. 2020, Picking winning tickets before training by preserving gradient flow (ICLR), as in "
        "Abdelfattah et al. 2021"),
}
PROXIES: tuple[str, ...] = tuple(PROXY_INFO)
JACOB_COV_K = 1e-5
_NUMERIC_ERRORS = (RuntimeError, ValueError, ArithmeticError, np.linalg.LinAlgError)


def check_proxies(names: Iterable[str] | str) -> tuple[str, ...]:
    """Proxy names in canonical order; one clear error for an unknown or empty list."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    unknown = [n for n in names if n not in PROXY_INFO]
    if unknown or not names:
        problem = f"unknown proxy {unknown[0]!r}" if unknown else "no proxy named"
        raise UserInputError(f"{problem}; valid proxies: {', '.join(PROXIES)} (comma-separated)")
    return tuple(n for n in PROXIES if n in names)


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The Conv2d and Linear layers whose weights the weight-based proxies sum over."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def compute_proxies(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                    names: Iterable[str] | str = PROXIES, body: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    head: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict[str, float]:
    """Every requested proxy of `model` (untrained, train-mode BatchNorm) on one minibatch.

    `body` and `head` split the model (model(x) == head(body(x))); `jacob_cov` differentiates the summed output of
    `body` (the pooled features for NAS-Bench-201, as Mellor et al.'s code does). Default: body = model.
    """
    names = check_proxies(names)
    out: dict[str, float] = {}
    if "synflow" in names:
        out["synflow"] = _safe(lambda: synflow(model, inputs.shape))
    if set(names) - {"synflow"}:
        out.update(_shared_pass(model, inputs, targets, names, body or model, head or nn.Identity()))
    return {name: out[name] for name in names}


def synflow(model: nn.Module, input_shape: torch.Size | tuple[int, ...]) -> float:
    """ln of the synaptic-flow score; uses only the shape of one input image, never its values."""
    net = copy.deepcopy(model).double()
    _strip_batchnorm(net)
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    layers = weight_layers(net)
    ones = torch.ones((1, *tuple(input_shape)[1:]), dtype=torch.float64, device=_device(net))
    total = net(ones).sum()
    grads = torch.autograd.grad(total, [m.weight for m in layers], allow_unused=True)
    with torch.no_grad():
        score = sum(float((m.weight * g).sum()) for m, g in zip(layers, grads) if g is not None)
    return math.log(score) if math.isfinite(score) and score > 0 else math.nan


def _shared_pass(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, names: tuple[str, ...],
                 body: Callable, head: Callable) -> dict[str, float]:
    """One forward with hooks, then the input-gradient and the loss-gradient backward passes."""
    model.train()
    model.zero_grad(set_to_none=True)
    dtype = next(model.parameters()).dtype
    x = inputs.detach().to(dtype).clone().requires_grad_("jacob_cov" in names)
    layers = weight_layers(model)
    kernel = torch.zeros(len(x), len(x), dtype=torch.float64, device=x.device)
    acts: list[torch.Tensor] = []

    def count_codes(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        codes = (args[0].detach().reshape(len(x), -1) > 0).double()
        kernel.add_(codes @ codes.T + (1 - codes) @ (1 - codes).T)

    hooks = []
    if "naswot" in names:
        hooks += [m.register_forward_hook(count_codes) for m in model.modules() if isinstance(m, nn.ReLU)]
    if "fisher" in names:
        hooks += [m.register_forward_hook(lambda module, args, output: acts.append(output)) for m in layers]
    try:
        features = body(x)
        logits = head(features)
    finally:
        for h in hooks:
            h.remove()
    out: dict[str, float] = {}
    if "naswot" in names:
        out["naswot"] = _safe(lambda: naswot_score(kernel.cpu().numpy()))
    if "jacob_cov" in names:
        (jac,) = torch.autograd.grad(features.sum(), x, retain_graph=True)
        out["jacob_cov"] = _safe(lambda: jacob_cov_score(jac.reshape(len(x), -1).double().cpu().numpy()))
    if not {"snip", "grad_norm", "fisher", "grasp"} & set(names):
        return out
    loss = F.cross_entropy(logits, targets.to(x.device))
    weights = [m.weight for m in layers]
    grads = torch.autograd.grad(loss, weights + acts, create_graph="grasp" in names, allow_unused=True)
    weight_grads = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads[:len(weights)])]
    with torch.no_grad():
        if "snip" in names:
            out["snip"] = _safe(lambda: float(sum((w * g).abs().sum() for w, g in zip(weights, weight_grads))))
        if "grad_norm" in names:
            out["grad_norm"] = _safe(lambda: float(sum(g.norm() for g in weight_grads)))
        if "fisher" in names:
            out["fisher"] = _safe(lambda: float(sum(_fisher_term(a, g) * w[0].numel() for a, g, w in
                                                    zip(acts, grads[len(weights):], weights) if g is not None)))
    if "grasp" in names:
        out["grasp"] = _safe(lambda: _grasp(weights, weight_grads))
    return out


def _fisher_term(act: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Per-channel Fisher saliency 0.5 * mean_n (sum_spatial a * g)^2, summed over channels."""
    prod = act.detach() * grad.detach()
    per_channel = prod.sum(dim=tuple(range(2, prod.ndim))) if prod.ndim > 2 else prod
    return 0.5 * per_channel.pow(2).mean(0).sum()


def _grasp(weights: list[torch.Tensor], grads: list[torch.Tensor]) -> float:
    """-sum theta * Hg with Hg = d(g . stop_grad(g))/dtheta."""
    live = [(w, g) for w, g in zip(weights, grads) if g.requires_grad]
    if not live:
        return 0.0
    z = sum((g * g.detach()).sum() for _, g in live)
    hg = torch.autograd.grad(z, [w for w, _ in live], allow_unused=True)
    return float(-sum((w.detach() * h).sum() for (w, _), h in zip(live, hg) if h is not None))


def naswot_score(kernel: np.ndarray) -> float:
    """ln det of the activation-code kernel; NaN where it is singular."""
    sign, logdet = np.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 and math.isfinite(logdet) else math.nan


def jacob_cov_score(jacobian: np.ndarray, k: float = JACOB_COV_K) -> float:
    """Mellor et al.'s v1 score of per-image input gradients (rows); NaN for a constant row."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        corr = np.corrcoef(jacobian)
    if not np.isfinite(corr).all():
        return math.nan
    eig = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))


def _safe(compute: Callable[[], float]) -> float:
    """The score, or NaN where the numerics fail (overflow, singular matrices)."""
    try:
        value = float(compute())
    except _NUMERIC_ERRORS:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _strip_batchnorm(model: nn.Module) -> None:
    for name, child in model.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _strip_batchnorm(child)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device
