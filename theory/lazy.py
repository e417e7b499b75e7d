"""Lazy public names of a package: ``from theory import predict`` without importing everything.

A package's ``__init__`` lists where each public name lives and gets a module ``__getattr__``
(PEP 562) that imports the submodule on first use, so importing the package stays cheap
(``import theory`` imports neither torch nor the modules a caller does not use) while every
name of its ``__all__`` resolves.  A public name must not be the name of a submodule: once the
submodule is imported, Python binds the package attribute to the module.
"""

from __future__ import annotations

import importlib


def lazy_exports(module_globals: dict, exports: dict[str, str]):
    """``(__getattr__, __dir__)`` for the package whose globals are ``module_globals``;
    ``exports`` maps each lazily imported public name to its submodule (relative name)."""
    package = module_globals["__name__"]

    def __getattr__(name: str):
        try:
            submodule = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f".{submodule}", package), name)
        module_globals[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(module_globals) | set(exports))

    return __getattr__, __dir__
