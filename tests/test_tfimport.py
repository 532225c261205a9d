"""Without TensorFlow, training says in one line how to install it (it is not a hard dependency)."""

import subprocess
import sys

BLOCK_TENSORFLOW = """
import importlib.abc, sys

class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTensorFlow())
"""


def test_training_without_tensorflow_says_how_to_install_it():
    code = BLOCK_TENSORFLOW + (
        "from fitdoctor.errors import UserError\n"
        "from fitdoctor.tfimport import import_quietly\n"
        "try:\n    import_quietly()\nexcept UserError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == (
        "TensorFlow is not installed in this environment, and fitdoctor trains with it. Install any TensorFlow 2.18 "
        "or later: 'pip install tensorflow' (or 'pip install \"fitdoctor[cpu]\"')."
    ), out.stderr


def test_the_cli_says_it_with_exit_2_and_no_traceback(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("model: [Flatten, {Dense: {units: auto, activation: softmax}}]\n")
    code = BLOCK_TENSORFLOW + (
        "import sys\nfrom fitdoctor.cli import main\n"
        f"sys.argv = ['fitdoctor', 'train', {str(spec)!r}, '--data', {str(tmp_path)!r}, '--run', {str(tmp_path / 'run')!r}]\n"
        "sys.exit(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "TensorFlow is not installed in this environment" in out.stderr and "Traceback" not in out.stderr
