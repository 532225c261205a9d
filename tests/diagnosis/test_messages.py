"""The two catalogs hold the same keys and the same placeholders, and speak the notes' words."""

import re

from fitdoctor.diagnosis.messages import catalog, resolve_lang, t


def test_same_keys_in_both_languages():
    en, pt = catalog("en"), catalog("pt_BR")
    assert set(en) == set(pt), f"missing in pt: {set(en) - set(pt)}; missing in en: {set(pt) - set(en)}"


def test_same_placeholders():
    en, pt = catalog("en"), catalog("pt_BR")
    for key in en:
        assert set(re.findall(r"\{(\w+)", en[key])) == set(re.findall(r"\{(\w+)", pt[key])), key


def test_portuguese_uses_the_notes_words():
    text = " ".join(catalog("pt_BR").values())
    for word in (
        "perda",
        "acurácia",
        "treino",
        "validação",
        "overfitting",
        "underfitting",
        "taxa de aprendizado",
        "épocas",
    ):
        assert word in text


def test_locale_choice(monkeypatch):
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert resolve_lang(None) == "pt_BR" and resolve_lang("en") == "en"
    assert t("verdict.still_improving", "pt_BR") == "ainda melhorando"
