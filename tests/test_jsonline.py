"""The audit encoder (jsonline) writes exactly what `json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=True)` writes, so any JSON reader can check the hashes."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli import jsonline


def reference(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


_text = st.text(alphabet=st.characters(), max_size=20)  # includes lone surrogates
_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_values)
def test_dumps_equals_json_dumps(value):
    assert jsonline.dumps(value) == reference(value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_text, _values, max_size=6))
def test_round_trip(entry):
    text = jsonline.dumps(entry)
    assert text.isascii()
    assert "\n" not in text
    assert json.loads(text) == entry


@pytest.mark.parametrize(
    "value",
    [
        "\udcff",  # an argv byte that is not UTF-8, as os.fsdecode gives it
        "line\nbreak\ttab\x00nul\x7f",
        "🙂 é ß",
        '"quoted" \\ back',
        -0.0,
        1e300,
        5e-324,
        2**70,
        -(2**70),
        (1, "a"),
        {"b": 1, "a": [True, False, None]},
    ],
)
def test_edge_values(value):
    assert jsonline.dumps(value) == reference(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(value):
    with pytest.raises(ValueError):
        jsonline.dumps({"x": value})


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {2: 3}}, {"x": b"bytes"}, {"x": {1, 2}}])
def test_other_types_are_refused(value):
    with pytest.raises(TypeError):
        jsonline.dumps(value)


def test_bool_subclass_of_int_is_written_as_bool():
    assert jsonline.dumps([True, 1, False, 0]) == "[true,1,false,0]"


@pytest.mark.parametrize(
    "value",
    [
        {"id": "x", "argv": ["rm", "-rf", "/tmp/é\u2028\x00"], "n": 2**70, "f": 0.1, "b": None},  # noqa: S108 - a value to encode
        {"nested": {"z": [1, {"y": True}], "a": "\\"}, "": ""},
        {"float": 1e-300, "neg": -0.0, "list": []},
    ],
)
def test_the_c_encoder_writes_the_same_text(value):
    """The server seals entries through `_json` (dumps_str_keyed): the chain's text must be
    what the pure encoder (and so `guard audit verify`) computes."""
    assert jsonline.dumps_str_keyed(value) == jsonline.dumps(value) == reference(value)


def test_the_c_encoder_refuses_non_finite_floats_and_other_types():
    for bad in ({"x": math.nan}, {"x": math.inf}):
        with pytest.raises(ValueError):
            jsonline.dumps_str_keyed(bad)
    with pytest.raises(TypeError):
        jsonline.dumps_str_keyed({"x": b"bytes"})
