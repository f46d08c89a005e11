"""`strategies`: every search strategy with its family, paper and hyperparameters (name, default, valid values)."""

from __future__ import annotations

from typing import Any


from nasbench_suite.cli.app import cli, emit, json_option


def strategy_rows() -> list[dict[str, Any]]:
    """One row per registered strategy, sorted by family then name."""
    from nasbench_suite.strategies import FAMILIES, STRATEGIES
    from nasbench_suite.strategies._library import LibraryStrategy

    rows = []
    for name, cls in STRATEGIES.items():
        library = issubclass(cls, LibraryStrategy)
        rows.append({"name": name, "family": cls.family, "paper": cls.paper,
                     "library": cls.library if library else None,  # the optional package that runs it, if any
                     "library_version": cls.library_version() if library else None,
                     "extra": cls.extra if library else None,
                     "summary": _first_sentence(cls.__doc__ or ""),
                     "multi_fidelity": cls.multi_fidelity, "needs_proxy": cls.needs_proxy,
                     "hyperparameters": [{"name": h.name, "default": h.default, "valid": h.valid, "doc": h.doc}
                                         for h in cls.declared().values()]})
    order = {family: i for i, family in enumerate(FAMILIES)}
    return sorted(rows, key=lambda r: (order.get(r["family"], len(order)), r["name"]))


def _first_sentence(doc: str) -> str:
    text = " ".join(doc.strip().split("\n\n")[0].split())
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def _render(rows: list[dict[str, Any]]) -> str:
    from nasbench_suite.strategies.base import SPEC_FORM, format_value

    lines = []
    for r in rows:
        lines.append(f"{r['name']}  [{r['family']}]  {r['paper']}")
        if r["library"]:
            installed = r["library_version"] or f"not installed: pip install 'nasbench-suite[{r['extra']}]'"
            lines.append(f"    library: {r['library']} {installed}")
        lines.append(f"    {r['summary']}")
        for h in r["hyperparameters"]:
            default = "auto" if h["default"] is None else format_value(h["default"])
            lines.append(f"    {h['name'] + '=' + default:<24} {h['valid']:<20} {h['doc']}")
    lines.append(f"\nset hyperparameters with a spec: {SPEC_FORM}")
    return "\n".join(lines)


@cli.command("strategies")
@json_option
def strategies_command(as_json: bool) -> None:
    """List the search strategies: family, paper, hyperparameters with defaults and valid values."""
    emit(strategy_rows(), as_json, _render)
