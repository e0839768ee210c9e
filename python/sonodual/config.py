"""Run configs as `sono-train` reads them (docs/training.md, "The run config"): the defaults, then a
TOML run file, then `table.key=value` overrides, in that order.

The keys and defaults are Swift's `RunConfig`: `run_defaults.toml` beside this file is
`RunConfig().toml` as Swift renders it (TrainerTests.testPythonRunDefaultsAreSwifts checks it; run
that test with SONO_UPDATE_RUN_DEFAULTS=1 to rewrite it). Values are checked by type here; their
ranges are Swift's business, and a checkpoint written from here is read back by Swift's checks."""
from __future__ import annotations

import os
import re
import struct
from typing import Any, Dict, Iterable, Optional

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULTS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_defaults.toml")

Config = Dict[str, Dict[str, Any]]


class ConfigError(ValueError):
    """A run file or override that does not fit: names the source and the key."""


def defaults() -> Config:
    with open(DEFAULTS_PATH, "rb") as f:
        return tomllib.load(f)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, list):
        return isinstance(value, (list, str))
    return isinstance(value, type(default))


def apply(config: Config, table_values: Dict[str, Any], source: str) -> None:
    """Overlays a parsed TOML document on `config`, refusing unknown keys and values of the wrong type."""
    for table, values in table_values.items():
        if not isinstance(values, dict) or table not in config:
            raise ConfigError(f"{source}: unknown table [{table}] (known: {', '.join(config)})")
        for key, value in values.items():
            if key not in config[table]:
                raise ConfigError(f"{source}: unknown key {table}.{key} (known: {', '.join(config[table])})")
            default = config[table][key]
            if not _same_kind(default, value):
                raise ConfigError(f"{source}: {table}.{key}: expected {type(default).__name__}, got {value!r}")
            if isinstance(default, list) and isinstance(value, str):
                value = [value]
            config[table][key] = _float32(value) if isinstance(default, float) else value


def _float32(value: float) -> float:
    """Swift holds these keys as Float: the value it would hold (so configs compare equal)."""
    try:
        return struct.unpack("<f", struct.pack("<f", float(value)))[0]
    except OverflowError:
        raise ConfigError(f"{value!r}: out of float32 range") from None


_LITERAL = re.compile(r"^(true|false|\[.*\]|\".*\"|[-+]?(\d[\d_]*)?(\.\d+)?([eE][-+]?\d+)?)$")


def parse_override(text: str) -> Dict[str, Dict[str, Any]]:
    """`table.key=value` as `--set` takes it: a bare value that is not a number, boolean, array or
    quoted string is a string (so paths need no quotes)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"--set: {text}: expected table.key=value, e.g. optimizer.lr=1e-3")
    name, value = text.split("=", 1)
    table, key = name.strip().rsplit(".", 1)
    value = value.strip()
    if not (value and _LITERAL.match(value)):
        value = _quote(value)
    try:
        return {table: {key: tomllib.loads(f"v = {value}")["v"]}}
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"--set: {text}: {e}") from None


def load(path: Optional[str] = None, overrides: Iterable[str] = ()) -> Config:
    """Defaults, then the run file at `path`, then each override."""
    config = defaults()
    if path is not None:
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such run config") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from None
        apply(config, doc, path)
    for o in overrides:
        apply(config, parse_override(o), "--set")
    return config


def loads(text: str, source: str) -> Config:
    """A stored config (a checkpoint's `config` metadata) over the defaults."""
    config = defaults()
    apply(config, tomllib.loads(text), source)
    return config


def _quote(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return repr(value)


def dumps(config: Config) -> str:
    """Every key in table order, as `RunConfig.toml` writes it (what a checkpoint stores)."""
    lines = ["# SonoDual pretraining run (sonodual.train). Every key; see docs/training.md."]
    for table, values in config.items():
        lines.append(f"\n[{table}]")
        lines += [f"{k} = {_render(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"
