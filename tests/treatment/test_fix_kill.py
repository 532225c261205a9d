"""kill -9 during a real `fitdoctor fix`, then --resume: finished rounds are kept, the running one resumes."""

import json
import signal
import subprocess
import time

from tests.conftest import SMALL_SPEC, fitdoctor_argv

SPEC = SMALL_SPEC.replace("fit: {epochs: 2}", "fit: {epochs: 6}").replace("units: 32", "units: 512")


def _cmd(spec, data, run, *extra):
    return fitdoctor_argv("fix", spec, "--data", data, "--run", run, "--seed", 1, "--max-rounds", 2, *extra)


def test_kill9_during_fix_then_resume(tmp_path, tiny_split):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    run = tmp_path / "fix"
    proc = subprocess.Popen(_cmd(spec, tiny_split, run), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (run / "rounds" / "01" / "state.json").exists():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "fix ended before its second round started: nothing was killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    round0 = (run / "rounds" / "00" / "history.json").read_text()
    done = subprocess.run(_cmd(spec, tiny_split, run, "--resume"), capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run / "rounds" / "00" / "history.json").read_text() == round0, "round 0 was trained again"
    assert "Resuming" in done.stdout
    doc = json.loads((run / "treatment.json").read_text())
    assert doc["after"] and doc["before"] and (run / "final.keras").exists()
    assert [r["round"] for r in doc["rounds"]][:2] == [0, 1]
