import json

from fitdoctor.cli import main

OVERFIT = {
    "loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08],
    "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.7, 0.78],
}


def test_json_one_line_per_input_and_bad_file_does_not_stop_others(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(OVERFIT))
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    code = main(["diagnose", str(bad), str(good), "--json"])
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 2
    assert "error" in lines[0] and lines[1]["verdict"] == "overfitting"
    assert set(lines[1]) >= {"source", "verdict", "findings", "best_epoch", "epochs"}
    f = lines[1]["findings"][0]
    assert set(f) >= {"kind", "confidence", "onset_epoch", "evidence", "summary", "remedies"}
    assert set(f["remedies"][0]) == {"id", "why", "keras"}
    assert err.count("Error:") == 1


def test_human_report_in_portuguese(tmp_path, capsys):
    p = tmp_path / "h.json"
    p.write_text(json.dumps(OVERFIT))
    assert main(["diagnose", str(p), "--lang", "pt"]) == 0
    out = capsys.readouterr().out
    assert "OVERFITTING" in out and "Bem no treino, mal na validação" in out and "Como resolver" in out
    assert "▁" in out and "B=melhor época 4" in out
