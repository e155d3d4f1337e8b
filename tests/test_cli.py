"""The command line: the digits demo and its errors."""

import pytest

from kmeanskit.cli import main


def test_digits_prints_scores(capsys):
    assert main(["digits", "--n-init", "2"]) == 0
    out = capsys.readouterr().out
    assert "1797 images of 64 pixels, k=10" in out
    acc = float(out.split("acc ")[1].split()[0])
    assert 0.6 < acc <= 1.0


def test_bad_k_is_one_line_error(capsys):
    assert main(["digits", "-k", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kmeanskit: error: The 'n_clusters' parameter of KMeans")
    assert len(err.strip().splitlines()) == 1


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    """`kmeanskit ... | head -1`: the reader leaves; no error line, exit code 1."""
    from kmeanskit import cli

    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), closed))
    assert cli.main(["digits"]) == 1
    assert capsys.readouterr().err == ""


def _with_func(parser, func):
    parser.set_defaults(func=func)
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.set_defaults(func=func)
    return parser
