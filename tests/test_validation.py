"""Parameters are checked once, in the library: the CLI and a notebook get the same one-line error."""

import pytest

import fitdoctor
from fitdoctor.cli import main
from fitdoctor.errors import UserError
from fitdoctor.validation import Counts, Fractions, OneOf, Regex, Whole, validate_params


@pytest.mark.parametrize(
    "rule, good, bad",
    [
        (Whole(minimum=1), [1, 2.0, 10**6], [0, 1.5, True, "2", None]),
        (Whole(none_ok=True), [None, -3, 0], [0.5, "x"]),
        (Fractions(), [(0.8, 0.2), [0.8, 0.1, 0.1]], [(0.9, 0.9), (0.5,), (1.0, 0.0), "ab", None]),
        (Counts(), [(10, 2), [3, 1, 1], (2.0, 1)], [(1.5, 1), (0, 1), (1, 1, 1, 1), 5, None]),
        (OneOf("en", "pt"), ["en", "pt"], ["fr", None]),
        (Regex(none_ok=True), [None, r"(\w+)_\d+"], ["(", 3]),
    ],
)
def test_rules(rule, good, bad):
    assert all(rule.accepts(v) for v in good), [v for v in good if not rule.accepts(v)]
    assert not any(rule.accepts(v) for v in bad), [v for v in bad if rule.accepts(v)]


def test_a_rule_for_a_parameter_that_does_not_exist_is_a_bug_found_at_import():
    with pytest.raises(TypeError, match="has no parameter"):

        @validate_params({"epoch": Whole()})
        def train(epochs=1):
            return epochs


@pytest.mark.parametrize(
    "call, argv, message",
    [
        (
            lambda: fitdoctor.fix("s.yaml", "d", "r", max_rounds=-1),
            ["fix", "s.yaml", "--data", "d", "--run", "r", "--max-rounds", "-1"],
            "The 'max_rounds' parameter of fix must be a whole number >= 0. Got -1 instead.",
        ),
        (
            lambda: fitdoctor.train("s.yaml", "d", "r", epochs=0),
            ["train", "s.yaml", "--data", "d", "--run", "r", "--epochs", "0"],
            "The 'epochs' parameter of train must be a whole number >= 1. Got 0 instead.",
        ),
        (
            lambda: fitdoctor.lr_find("s.yaml", "d", "r", steps=5),
            ["lr-find", "s.yaml", "--data", "d", "--run", "r", "--steps", "5"],
            "The 'steps' parameter of lr_find must be a whole number >= 20. Got 5 instead.",
        ),
        (
            lambda: fitdoctor.diagnose({"loss": [1.0, 0.5, 0.3]}, num_classes=1),
            ["diagnose", "h.json", "--classes", "1"],
            "The 'num_classes' parameter of diagnose must be a whole number >= 2. Got 1 instead.",
        ),
    ],
)
def test_the_library_and_the_cli_refuse_alike(call, argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.json").write_text('{"loss": [1.0, 0.5, 0.3]}')
    with pytest.raises(UserError) as err:
        call()
    assert str(err.value) == message
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"Error: {message}"
