"""Scale-out with tf.distribute on this CPU: two logical devices, and two workers on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

from tests.conftest import SMALL_SPEC, fitdoctor_argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mirrored_on_two_logical_cpus(tmp_path, tiny_split):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SMALL_SPEC)
    code = (
        "import sys\nfrom fitdoctor.training.run import train\n"
        "import tensorflow as tf\n"
        "r = train(sys.argv[1], sys.argv[2], sys.argv[3], distribute='mirrored', echo=None)\n"
        "s = tf.distribute.get_strategy()\n"
        "print('replicas', len(tf.config.list_logical_devices('CPU')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(spec), str(tiny_split), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "replicas 2" in proc.stdout
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["distribute"] == "mirrored" and info["finished"]


def test_multi_worker_two_processes(tmp_path, tiny_split):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SMALL_SPEC)
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        procs.append(
            subprocess.Popen(
                fitdoctor_argv(
                    "train", spec, "--data", tiny_split, "--run", tmp_path / "run", "--distribute", "multi_worker"
                ),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["loss"]) == 2
    assert json.loads((tmp_path / "run" / "run.json").read_text())["distribute"] == "multi_worker"
