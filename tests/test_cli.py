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
