"""Record classes (ctxfix's data model) without code generation at import.

Why not `dataclasses`: on CPython 3.11 `@dataclass` writes `__init__`,
`__repr__`, `__eq__`, `__hash__` and the frozen `__setattr__`/`__delattr__` as
source text and compiles each with `exec` when the class is created: 0.5 to
1 ms per class. The pre-commit path creates about 50 record classes, so that
was ~35 ms of a hook whose whole budget is ~100 ms (issue 15,
bench/RESULTS.md "Pre-commit path"). Here every class shares one generic
implementation of each method, built from a tuple of field specs: creating a
class costs microseconds; constructing an instance costs ~1 µs more than the
generated code, which no scan notices (a scan builds hundreds, not millions).

The subset of `dataclasses` behaviour ctxfix uses, with the same semantics:

- `@record` (mutable, unhashable, like `@dataclass`) and
  `@record(frozen=True)` (assignment raises `FrozenInstanceError`, an
  `AttributeError`; hashable over the compared fields);
- fields from the class's own annotations in order, after those of record
  base classes; `ClassVar` annotations are not fields;
- defaults, `field(default_factory=...)`, `field(repr=False, compare=False)`;
- positional or keyword construction, with `TypeError` for a missing,
  duplicate or unexpected argument;
- `__eq__` only between instances of the same class; `__match_args__`;
  methods the class body defines itself are kept;
- `replace(obj, **changes)` and `fields(cls)`.

`typing.dataclass_transform` tells type checkers that `record` behaves like
`dataclass` (PEP 681), so constructor calls stay type-checked.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, ClassVar, TypeVar, dataclass_transform, overload

T = TypeVar("T")

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (as `dataclasses.FrozenInstanceError`)."""


class Field:
    """One field's spec: its name, default or default factory, and whether repr/eq use it."""

    __slots__ = ("compare", "default", "default_factory", "name", "repr")

    def __init__(
        self,
        default: Any = _MISSING,
        default_factory: Any = _MISSING,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        if default is not _MISSING and default_factory is not _MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | Any = _MISSING,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field with a default factory or without repr/eq (as `dataclasses.field`)."""
    return Field(default, default_factory, repr, compare)


def fields(cls_or_obj: Any) -> tuple[Field, ...]:
    """The record's fields in order (as `dataclasses.fields`)."""
    return cls_or_obj.__record_fields__


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of `obj` with some fields changed (as `dataclasses.replace`)."""
    for f in obj.__record_fields__:  # type: ignore[attr-defined]
        if f.name not in changes:
            changes[f.name] = obj.__dict__[f.name]
    return obj.__class__(**changes)


def _is_classvar(annotation: Any) -> bool:
    if type(annotation) is str:  # `from __future__ import annotations`: every ctxfix module
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


def _collect(cls: type) -> tuple[Field, ...]:
    """Inherited record fields, then the class's own annotated ones (later ones override)."""
    by_name: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:-1]):  # not `object`
        for f in base.__dict__.get("__record_fields__", ()):
            by_name[f.name] = f
    # the class's own annotations only (type.__annotations__ since 3.10; also lazy ones in 3.14)
    for name, annotation in cls.__annotations__.items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, _MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        if isinstance(value, Field):  # keep a plain default visible on the class, as dataclasses do
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        by_name[name] = f
    out = tuple(by_name.values())
    seen_default = False
    for f in out:
        has_default = f.default is not _MISSING or f.default_factory is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        seen_default = seen_default or has_default
    return out


def _make_init(cls: type, specs: tuple[Field, ...]) -> Callable[..., None]:
    names = tuple(f.name for f in specs)
    count = len(names)
    name_set = frozenset(names)
    defaults = tuple((f.name, f.default) for f in specs if f.default is not _MISSING)
    factories = tuple(
        (f.name, f.default_factory) for f in specs if f.default_factory is not _MISSING
    )
    title = cls.__qualname__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if args:
            if len(args) > count:
                given = len(args)
                raise TypeError(
                    f"{title}() takes {count} positional arguments but {given} were given"
                )
            for name, value in zip(names, args, strict=False):
                if name in kwargs:
                    raise TypeError(f"{title}() got multiple values for argument {name!r}")
                kwargs[name] = value
        if len(kwargs) < count:
            for name, default in defaults:
                if name not in kwargs:
                    kwargs[name] = default
            for name, factory in factories:
                if name not in kwargs:
                    kwargs[name] = factory()
        if kwargs.keys() != name_set:
            missing = [n for n in names if n not in kwargs]
            if missing:
                raise TypeError(f"{title}() missing required argument: {missing[0]!r}")
            extra = next(k for k in kwargs if k not in name_set)
            raise TypeError(f"{title}() got an unexpected keyword argument {extra!r}")
        d = self.__dict__
        for name in names:  # field order, as dataclasses leaves vars()
            d[name] = kwargs[name]

    return __init__


def _make_repr(specs: tuple[Field, ...]) -> Callable[[Any], str]:
    shown = tuple(f.name for f in specs if f.repr)

    def __repr__(self: Any) -> str:
        d = self.__dict__
        body = ", ".join(f"{n}={d[n]!r}" for n in shown)
        return f"{type(self).__qualname__}({body})"

    return __repr__


def _make_eq_hash(specs: tuple[Field, ...]) -> tuple[Callable[..., Any], Callable[[Any], int]]:
    compared = tuple(f.name for f in specs if f.compare)
    get = itemgetter(*compared) if compared else None
    single = len(compared) == 1

    def key(self: Any) -> Any:
        if get is None:
            return ()
        value = get(self.__dict__)
        return (value,) if single else value

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __eq__, __hash__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _build(cls: type[T], frozen: bool) -> type[T]:
    specs = _collect(cls)
    own = cls.__dict__
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    cls.__record_fields__ = specs  # type: ignore[attr-defined]
    cls.__match_args__ = tuple(f.name for f in specs)  # type: ignore[attr-defined]
    cls.__init__ = _make_init(cls, specs)  # type: ignore[misc]
    if "__repr__" not in own:
        cls.__repr__ = _make_repr(specs)  # type: ignore[method-assign]
    eq, hash_ = _make_eq_hash(specs)
    if "__eq__" not in own:
        cls.__eq__ = eq  # type: ignore[method-assign]
    if not explicit_hash:  # dataclasses: eq+frozen hashes the fields, eq alone is unhashable
        cls.__hash__ = hash_ if frozen else None  # type: ignore[assignment,method-assign]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[method-assign,assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[method-assign,assignment]
    return cls


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = False) -> Callable[[type[T]], type[T]]: ...
@dataclass_transform(field_specifiers=(field, Field))
def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """Make `cls` a record class: `@record` or `@record(frozen=True)`."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)
