"""Write the two example notebooks, `examples/quickstart.ipynb` (English) and
`examples/inicio-rapido.ipynb` (Portuguese), from one list of cells: the code is the same,
the words are each language's. Run it after changing a cell; the suite executes both.

    python scripts/make_notebooks.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = """\
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
import numpy as np

import fitdoctor
from fitdoctor.data.demo_set import load_digits

LANG = "{lang}"
images, labels = load_digits()  # 5,000 MNIST digits (28x28), bundled with fitdoctor
order = np.random.default_rng(0).permutation(len(labels))
x, y = images[order].astype("float32")[..., None] / 255.0, labels[order]
x_train, y_train, x_val, y_val = x[:1000], y[:1000], x[4000:4500], y[4000:4500]"""

FIT = """\
model = keras.Sequential(
    [
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=25,
    verbose=0,
    callbacks=[fitdoctor.FitDoctor(lang=LANG)],
)"""

DIAGNOSE = "fitdoctor.diagnose(history, lang=LANG)"

FIX = '''\
from fitdoctor.data.demo_set import write_demo_set
from fitdoctor.data.split import split_folder

write_demo_set("{work}/digits", limit_per_class=100)
split_folder("{work}/digits", "{work}/split", ratio=(0.7, 0.15, 0.15), seed=1)
spec = """
data: {{image_size: [28, 28], color_mode: grayscale, batch_size: 32}}
model:
  - Flatten
  - Dense: {{units: 512, activation: relu}}
  - Dense: {{units: 512, activation: relu}}
  - Dense: {{units: auto, activation: softmax}}
compile: {{optimizer: Adam, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}}
fit: {{epochs: 20}}
"""
treatment = fitdoctor.fix(spec, "{work}/split", "{work}/fix", max_rounds=1, seed=1, lang=LANG, resume=True, echo=None)
treatment'''

REPORT = """\
report = fitdoctor.report("{work}/fix", lang=LANG)
print(report.save())
report"""

WORDS = {
    "en": {
        "file": "quickstart.ipynb",
        "lang": "en",
        "work": "quickstart",
        "intro": "# fitdoctor quickstart\n\n"
        "A plain Keras model on the digits bundled with fitdoctor, watched live while it trains; what its "
        "curves mean; then `fitdoctor fix` treats it and `fitdoctor.report` shows the whole story. "
        "About two minutes on a laptop CPU. Install with `pip install fitdoctor` into the environment that "
        "already has Keras and TensorFlow.",
        "fit": "## 1. A plain Keras model, watched live\n\n"
        "Add the `FitDoctor` callback to `model.fit`. In a notebook it shows one card that updates after "
        "each epoch: training and validation curves, the best epoch, and the finding as soon as it appears "
        "(`live=False` turns the card off). A wide network on 1,000 images memorises them: watch for "
        "overfitting.",
        "diagnose": "## 2. What the curves mean\n\n"
        "`fitdoctor.diagnose` reads the `History` that `model.fit` returned (or its dict, a CSV, a JSON "
        "file) and says whether the model overfits, underfits or is fine, with the evidence and the remedies "
        "in Keras code.",
        "fix": "## 3. Let fitdoctor treat it\n\n"
        "`fitdoctor.fix` trains a spec (the model in Keras's own words, in YAML), diagnoses it, applies the "
        "remedies the evidence calls for, trains again and keeps the best model on validation. Here on a "
        "slice of the digits written as image folders and split 70/15/15.",
        "report": "## 4. The report\n\n"
        "`fitdoctor.report` shows the whole report here; `.save()` writes it as one HTML file that opens "
        "anywhere, offline.",
    },
    "pt": {
        "file": "inicio-rapido.ipynb",
        "lang": "pt",
        "work": "inicio-rapido",
        "intro": "# fitdoctor: início rápido\n\n"
        "Um modelo Keras comum, treinado nos dígitos que vêm com o fitdoctor e observado ao vivo durante o "
        "treino; o que as curvas dizem; depois o `fitdoctor fix` trata o modelo e o `fitdoctor.report` mostra "
        "a história toda. Uns dois minutos na CPU de um notebook. Instale com `pip install fitdoctor` no "
        "ambiente que já tem Keras e TensorFlow.",
        "fit": "## 1. Um modelo Keras comum, observado ao vivo\n\n"
        "Acrescente o callback `FitDoctor` ao `model.fit`. No notebook ele mostra um cartão que se atualiza a "
        "cada época: as curvas de treino e de validação, a melhor época e o diagnóstico assim que ele aparece "
        "(`live=False` desliga o cartão). Uma rede larga com 1.000 imagens decora as imagens: repare no "
        "overfitting.",
        "diagnose": "## 2. O que as curvas dizem\n\n"
        "`fitdoctor.diagnose` lê o `History` que o `model.fit` devolveu (ou o dicionário dele, um CSV, um "
        "JSON) e diz se o modelo tem overfitting, underfitting ou está bem, com as evidências e os remédios "
        "em código Keras.",
        "fix": "## 3. Deixe o fitdoctor tratar\n\n"
        "`fitdoctor.fix` treina um spec (o modelo nas palavras do próprio Keras, em YAML), faz o diagnóstico, "
        "aplica os remédios que as evidências pedem, treina de novo e fica com o melhor modelo na validação. "
        "Aqui com uma parte dos dígitos gravada como pastas de imagens e dividida 70/15/15.",
        "report": "## 4. O relatório\n\n"
        "`fitdoctor.report` mostra o relatório inteiro aqui; `.save()` grava um arquivo HTML que abre em "
        "qualquer lugar, sem internet.",
    },
}


def _cell(kind: str, text: str, number: int) -> dict:
    cell = {"cell_type": kind, "id": f"cell-{number}", "metadata": {}, "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []})
    return cell


def notebook(words: dict) -> dict:
    """One example notebook, without outputs, in the words of one language."""
    fill = {"lang": words["lang"], "work": words["work"]}
    parts = [
        ("markdown", words["intro"]),
        ("code", SETUP.format(**fill)),
        ("markdown", words["fit"]),
        ("code", FIT),
        ("markdown", words["diagnose"]),
        ("code", DIAGNOSE),
        ("markdown", words["fix"]),
        ("code", FIX.format(**fill)),
        ("markdown", words["report"]),
        ("code", REPORT.format(**fill)),
    ]
    cells = [_cell(kind, text, i) for i, (kind, text) in enumerate(parts, 1)]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def main() -> None:
    for words in WORDS.values():
        path = ROOT / "examples" / words["file"]
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(notebook(words), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
