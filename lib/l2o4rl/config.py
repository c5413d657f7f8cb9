"""Typed, frozen, validated experiment configs.

A config class is declared with :func:`config` and fields made by :func:`setting`::

    @config
    class OverviewConfig(Config):
        num_envs: int = setting(16, ge=1)
        envs: tuple[str, ...] = setting(("CartPole-v1",), each_in=ENV_NAMES)

Construction refuses unknown keys and bad values with a :class:`ConfigError` that
names the key and the valid choices, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

SCALES = ("quick", "cpu", "paper")


class ConfigError(ValueError):
    """A config key or value is not valid; the message names it and the valid choices."""


def check_choice(kind: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise ConfigError unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ConfigError(f"unknown {kind} {value!r}; valid choices: {', '.join(map(repr, choices))}")


def check_scale(scale: str) -> str:
    check_choice("scale", scale, SCALES)
    return scale


def setting(
    default: Any,
    *,
    choices: Iterable[Any] | None = None,
    each_in: Iterable[Any] | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    one_per: str | None = None,
    or_empty: bool = False,
    added_later: bool = False,
    doc: str = "",
) -> Any:
    """A config field with a default and the constraints its value must meet.

    ``one_per="tasks"``: a tuple with one entry per entry of the ``tasks`` field (``or_empty``:
    or no entries at all). ``added_later``: a field added to a class after results of it were
    stored, whose default computes what they computed; at its default it stays out of the
    results-store key (:meth:`Config.key`), so those results stay reachable.
    """
    meta = {
        "choices": None if choices is None else tuple(choices),
        "each_in": None if each_in is None else tuple(each_in),
        "ge": ge,
        "gt": gt,
        "le": le,
        "one_per": one_per,
        "or_empty": or_empty,
        "added_later": added_later,
        "doc": doc,
    }
    return dataclasses.field(default=default, metadata=meta)


def _type_matches(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is tuple:
        args = typing.get_args(annotation)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_type_matches(v, args[0]) for v in value)
        return len(args) == len(value) and all(_type_matches(v, a) for v, a in zip(value, args))
    if origin in (typing.Union, types.UnionType):
        return any(_type_matches(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:  # ints are acceptable floats, bools are not
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of every experiment config; see :func:`config`."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        name = type(self).__name__
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            where = f"{name}.{f.name}"
            if isinstance(value, (list, tuple)):  # lists are accepted for tuples, nested too (e.g. from JSON)
                value = _tuples(value)
                object.__setattr__(self, f.name, value)
            if not _type_matches(value, hints[f.name]):
                raise ConfigError(f"{where} = {value!r} has the wrong type; expected {hints[f.name]}")
            m = f.metadata
            if m.get("choices") is not None and value not in m["choices"]:
                raise ConfigError(
                    f"{where} = {value!r} is not valid; valid choices: {', '.join(map(repr, m['choices']))}"
                )
            if m.get("each_in") is not None:
                for item in value:
                    if item not in m["each_in"]:
                        raise ConfigError(
                            f"{where} contains {item!r}, which is not valid; "
                            f"valid choices: {', '.join(map(repr, m['each_in']))}"
                        )
            for bound, ok, words in (
                ("ge", lambda v, b: v >= b, "at least"),
                ("gt", lambda v, b: v > b, "greater than"),
                ("le", lambda v, b: v <= b, "at most"),
            ):
                b = m.get(bound)
                if b is not None and value is not None and not ok(value, b):
                    raise ConfigError(f"{where} = {value!r} is not valid; it must be {words} {b}")
        self._check_lengths()
        self.validate()

    def _check_lengths(self) -> None:
        for f in dataclasses.fields(self):
            other = f.metadata.get("one_per")
            if other is None:
                continue
            value, items = getattr(self, f.name), getattr(self, other)
            if len(value) != len(items) and not (f.metadata["or_empty"] and not value):
                needs = "none or one" if f.metadata["or_empty"] else "one"
                raise ConfigError(
                    f"{type(self).__name__}.{f.name} has {len(value)} entries; it needs {needs} per entry of {other} "
                    f"({len(items)}: {', '.join(map(str, items))})"
                )

    def validate(self) -> None:
        """Cross-field checks; override and raise ConfigError naming the keys."""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Config:
        return cls(**values)

    def replace(self, **changes: Any) -> Config:
        return type(self)(**{**self.to_dict(), **changes})

    def key(self) -> str:
        """A short stable hash of the class name and every value (the results-store key), but the
        ``added_later`` fields at their defaults."""
        later = [f for f in dataclasses.fields(self) if f.metadata.get("added_later")]
        at_default = {f.name for f in later if getattr(self, f.name) == f.default}
        values = {k: v for k, v in self.to_dict().items() if k not in at_default}
        payload = json.dumps({"class": type(self).__name__, "values": values}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def config(cls: type) -> type:
    """Make ``cls`` a frozen keyword-only dataclass whose constructor refuses unknown keys."""
    cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
    init = cls.__init__
    valid = tuple(f.name for f in dataclasses.fields(cls))

    @functools.wraps(init)
    def checked_init(self, *args: Any, **kwargs: Any) -> None:
        if args:
            raise ConfigError(f"{cls.__name__} takes keyword arguments only; valid keys: {', '.join(valid)}")
        for key in kwargs:
            if key not in valid:
                raise ConfigError(f"{cls.__name__} has no key {key!r}; valid keys: {', '.join(valid)}")
        init(self, **kwargs)

    cls.__init__ = checked_init
    return cls
