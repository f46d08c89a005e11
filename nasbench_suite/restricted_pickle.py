"""Unpickling of published data files that may name only the globals they need.

A pickle can name any callable (`os.system` included) and unpickling calls it, so a downloaded pickle is read with
`restricted_loads`: plain containers and numbers need no global at all, and each caller names the few globals its
file needs (e.g. `NUMPY_ARRAYS`); any other global is refused before it is looked up.
"""

from __future__ import annotations

import io
import pickle

from nasbench_suite.errors import UserInputError

# numpy arrays, as numpy 1.x (numpy.core) and 2.x (numpy._core) write them
NUMPY_ARRAYS = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                          ("numpy", "ndarray"), ("numpy", "dtype")})
# numpy scalars (e.g. a float64 parameter count) and ordered dicts, as NATS-Bench's records hold them
NUMPY_SCALARS = frozenset({("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                           ("numpy", "dtype")})
ORDERED_DICT = frozenset({("collections", "OrderedDict")})


class _Restricted(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: frozenset[tuple[str, str]], what: str, encoding: str):
        super().__init__(io.BytesIO(data), encoding=encoding)
        self.allowed, self.what = allowed, what

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.allowed:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in self.allowed)) or "none"
            raise UserInputError(f"{self.what}: the pickle names {module}.{name}, which it may not load "
                                 f"(allowed: {allowed}); refused, unpickling it could run code")
        return super().find_class(module, name)


def restricted_loads(data: bytes, allowed: frozenset[tuple[str, str]], what: str, encoding: str = "ASCII") -> object:
    """Unpickle `data` (described as `what` in errors) letting it load only the `allowed` (module, name) globals;
    `encoding` as in `pickle.Unpickler` (e.g. "latin1" for Python 2 pickles)."""
    try:
        return _Restricted(data, allowed, what, encoding).load()
    except UserInputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise UserInputError(f"{what} is not a readable pickle ({type(exc).__name__}: {exc})") from None
