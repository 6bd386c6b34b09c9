"""ctxfix.records behaves as dataclasses does for every feature ctxfix uses.

`dataclasses` is the oracle: hypothesis draws a field layout (defaults,
default factories, repr/compare flags, frozen or not) and a call, builds the
same class both ways and requires the same outcome: the same TypeError or the
same field values, equality, hash, repr, `replace` and frozen behaviour.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctxfix import records
from ctxfix.records import FrozenInstanceError, field, record, replace

NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def layouts(draw: st.DrawFn) -> tuple[bool, list[tuple[str, str, bool, bool]]]:
    """(frozen, [(name, default kind, repr, compare)]) with defaults only at the end."""
    n = draw(st.integers(0, len(NAMES)))
    first_default = draw(st.integers(0, n))
    out = []
    for i, name in enumerate(NAMES[:n]):
        kind = "none" if i < first_default else draw(st.sampled_from(["value", "factory"]))
        out.append((name, kind, draw(st.booleans()), draw(st.booleans())))
    return draw(st.booleans()), out


def build(layout: list[tuple[str, str, bool, bool]], frozen: bool, real: bool) -> type:
    mod_field = dataclasses.field if real else field
    ns: dict[str, Any] = {"__annotations__": {}, "__qualname__": "Thing", "__module__": __name__}
    for i, (name, kind, shown, compared) in enumerate(layout):
        ns["__annotations__"][name] = "int"
        if kind == "value":
            ns[name] = mod_field(default=i * 10, repr=shown, compare=compared)
        elif kind == "factory":
            ns[name] = mod_field(default_factory=tuple, repr=shown, compare=compared)
        else:
            ns[name] = mod_field(repr=shown, compare=compared)
    cls = type("Thing", (), ns)
    return dataclasses.dataclass(frozen=frozen)(cls) if real else record(frozen=frozen)(cls)


def outcome(cls: type, args: tuple, kwargs: dict) -> Any:
    try:
        return cls(*args, **kwargs)
    except TypeError:
        return TypeError


calls = st.tuples(
    st.lists(st.integers(0, 3), max_size=6).map(tuple),
    st.dictionaries(st.sampled_from([*NAMES, "zz"]), st.integers(0, 3), max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(layouts(), calls, calls)
def test_records_match_dataclasses(layout: Any, call: Any, other_call: Any) -> None:
    frozen, fields_ = layout
    theirs, ours = build(fields_, frozen, True), build(fields_, frozen, False)
    t, o = outcome(theirs, *call), outcome(ours, *call)
    if t is TypeError or o is TypeError:
        assert t is o
        return
    assert [getattr(o, n) for n, *_ in fields_] == [getattr(t, n) for n, *_ in fields_]
    assert repr(o) == repr(t)
    t2, o2 = outcome(theirs, *other_call), outcome(ours, *other_call)
    if t2 is not TypeError:
        assert (o == o2) == (t == t2)
        assert (o != o2) == (t != t2)
    assert (o == 5) is False and (o == t) is False  # other classes are never equal
    if frozen:
        assert hash(o) == hash(t)
        with pytest.raises(FrozenInstanceError):
            o.a = 1
        with pytest.raises(AttributeError):
            del o.zz
    else:
        with pytest.raises(TypeError):
            hash(o)
        o.zz = 1  # mutable records take new attributes, like dataclasses
    changes = {n: 9 for n, *_ in fields_[:2]}
    assert repr(replace(o, **changes)) == repr(dataclasses.replace(t, **changes))
    assert tuple(f.name for f in records.fields(ours)) == ours.__match_args__
    assert ours.__match_args__ == theirs.__match_args__


def test_non_default_after_default_is_rejected_at_class_creation() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b'"):

        @record
        class Bad:
            a: int = 1
            b: int


def test_inheritance_class_vars_and_own_methods_are_kept() -> None:
    @record(frozen=True)
    class Base:
        a: int
        kind: ClassVar[str] = "base"

        def __repr__(self) -> str:
            return f"<{self.a}>"

    @record(frozen=True)
    class Child(Base):
        b: int = 2

    c = Child(1)
    assert (c.a, c.b, Child.kind) == (1, 2, "base")
    assert records.fields(Child)[0].name == "a" and len(records.fields(Child)) == 2
    assert repr(Base(3)) == "<3>"
    assert repr(c).endswith(".Child(a=1, b=2)")  # its own repr, as in dataclasses
    assert hash(c) == hash((1, 2))


def test_a_generic_frozen_record_can_be_parameterised() -> None:
    from typing import Generic, TypeVar

    T = TypeVar("T")

    @record(frozen=True)
    class Box(Generic[T]):
        value: T

    assert Box[int](3).value == 3  # typing sets __orig_class__ and swallows the frozen error
