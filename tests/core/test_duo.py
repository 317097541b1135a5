import pytest

from jupyter_datashare.core import duo
from jupyter_datashare.core.errors import InvalidInput


def test_conflicts_are_named():
    assert duo.conflicts(["HMB", "NPU"], ["HMB"], commercial=False) == []
    assert "NPU" in duo.conflicts(["HMB", "NPU"], ["HMB"], commercial=True)[0]
    assert "HMB" in duo.conflicts(["HMB"], ["POA"], commercial=False)[0]
    assert duo.conflicts(["DS:MONDO:0005148"], ["DS:MONDO:0005148"], False) == []
    assert duo.conflicts(["DS:MONDO:0005148"], ["DS:MONDO:0004975"], False)
    assert duo.conflicts(["NPOA"], ["POA"], False)
    assert duo.conflicts(["GRU"], ["POA"], True) == []


@pytest.mark.parametrize(
    "value, field",
    [(["XYZ"], "use_conditions[0]"), (["DS"], "use_conditions[0]"), (["DS:cancer"], "use_conditions[0]"),
     (["GRU", "HMB"], "use_conditions"), ("HMB", "use_conditions")],
)  # fmt: skip
def test_bad_conditions(value, field):
    with pytest.raises(InvalidInput) as info:
        duo.validate_conditions(value)
    assert info.value.field == field


def test_intended_use_needs_a_purpose():
    with pytest.raises(InvalidInput):
        duo.validate_intended_use(["NPU"])
    assert duo.validate_intended_use(["hmb", "ds:mondo_0005148"]) == ["HMB", "DS:MONDO:0005148"]


def test_lists_and_codes_are_bounded():
    from jupyter_datashare.core import bounds

    for validate, field, limit in ((duo.validate_intended_use, "intended_use", bounds.INTENDED_USE),
                                   (duo.validate_conditions, "use_conditions", bounds.USE_CONDITIONS)):  # fmt: skip
        with pytest.raises(InvalidInput) as info:
            validate(["HMB"] + ["DS:MONDO:0005148"] * 1_000_000)
        assert info.value.field == field and str(limit) in info.value.message
        with pytest.raises(InvalidInput) as info:
            validate(["HMB", "DS:MONDO:" + "1" * 1_000_000])
        assert info.value.field == f"{field}[1]" and len(info.value.message) < 200  # not echoed
    assert duo.validate_intended_use(["HMB"] + ["NPU"] * (bounds.INTENDED_USE - 1)) == ["HMB", "NPU"]
