"""A template's Python transform functions, imported in-process for a local deploy."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any


class FunctionLoadError(Exception):
    """A function of the template cannot be run locally (a user's mistake, in one line)."""


def load_handler(base: Path, logical_id: str, props: dict[str, Any]) -> Any:
    """The Python function a SAM function's CodeUri and Handler name, imported in-process."""
    code_uri, handler = props.get("CodeUri"), props.get("Handler")
    if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
        raise FunctionLoadError(
            f"Resource [{logical_id}]: a local run needs a Python function with CodeUri (a "
            "directory) and Handler (module.function)"
        )
    module_name, function_name = handler.rsplit(".", 1)
    root = (base / code_uri).resolve()
    path = root / (module_name.replace(".", "/") + ".py")
    if not path.is_file():
        modules = sorted(
            ".".join(p.relative_to(root).with_suffix("").parts) for p in root.rglob("*.py")
        )
        close = difflib.get_close_matches(module_name, modules, n=1)
        hint = f"; did you mean {close[0]}.{function_name}?" if close else ""
        raise FunctionLoadError(
            f"Resource [{logical_id}] property Handler: {path} does not exist{hint}"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    unique = f"dynamigrate_local_{logical_id}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise FunctionLoadError(f"Resource [{logical_id}] property Handler: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise FunctionLoadError(f"Resource [{logical_id}]: importing {path} failed: {exc}") from exc
    function = getattr(module, function_name, None)
    if not callable(function):
        functions = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        close = difflib.get_close_matches(function_name, functions, n=1)
        hint = f"; did you mean {module_name}.{close[0]}?" if close else ""
        raise FunctionLoadError(
            f"Resource [{logical_id}] property Handler: {handler} is not a function{hint}"
        )
    return function
