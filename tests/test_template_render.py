"""generator/template_render.py renders a project template exactly as `cookiecutter()` does.

It skips cookiecutter's prompt pass (a Jinja compile per context string) and builds that pass's
result itself; these tests hold it to cookiecutter's own: the same context for awkward values,
and byte-identical files for every project template on a real model's context.
"""

from __future__ import annotations

import enum
import filecmp
import json
from pathlib import Path

import pytest
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config

from mcuforge.generator.resources import templates_dir
from mcuforge.generator.template_render import render_template_dir, template_context


class Mode(str, enum.Enum):
    FAST = "fast"


AWKWARD = {
    "int": 12345, "neg": -7, "float": 1e-05, "big": 2**70, "none": None, "yes": True, "no": False,
    "plain": "mcf_kws", "braces": "{{ cookiecutter.project_slug }}-x", "set": "{% if 1 %}a{% endif %}",
    "comment": "a{# hidden #}b", "newline": "line\n", "crlf": "a\r\nb", "lone_brace": "{x}",
    "tuple": (1, "two"), "enum": Mode.FAST, "nested": {"3": [1, [2.5, None, {"k": "v\n"}]], 4: "four"},
    "empty": "", "list": ["a", 0, True, {"x": None}],
}


def _template(tmp_path: Path) -> Path:
    t = tmp_path / "tpl"
    (t / "{{cookiecutter.project_slug}}").mkdir(parents=True)
    (t / "cookiecutter.json").write_text(json.dumps({"project_slug": "app", "mcuforge": {}}))
    return t


def test_context_is_cookiecutters_prompt_pass(tmp_path: Path) -> None:
    t = _template(tmp_path)
    extra = {"project_slug": "rendered", "mcuforge": AWKWARD}
    ours = template_context(t, extra, tmp_path / "out")["cookiecutter"]
    theirs = prompt_for_config(generate_context(context_file=str(t / "cookiecutter.json"), extra_context=extra),
                               no_input=True)
    assert {k: v for k, v in ours.items() if not k.startswith("_")} == dict(theirs)
    assert ours["mcuforge"]["braces"] == "rendered-x"  # a template string is still a template
    assert ours["mcuforge"]["int"] == "12345"  # and scalars become text, as cookiecutter makes them


def _same_tree(a: Path, b: Path) -> None:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*"))
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*"))
    for rel in files_a:
        if (a / rel).is_file():
            assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
            assert (a / rel).stat().st_mode == (b / rel).stat().st_mode, rel


@pytest.mark.parametrize("framework, board", [("cmake", "mps2_an385"), ("zephyr", "mps2_an385"),
                                              ("platformio", "nucleo_f746zg")])
def test_project_templates_render_as_cookiecutter(models_dir: Path, tmp_path: Path, framework: str,
                                                  board: str) -> None:
    from mcuforge.generator.scaffold import ProjectConfig, _template_context, prepare

    model = models_dir / "kws_ref_model.tflite"
    cfg = ProjectConfig(model=f"model/{model.name}", board=board, framework=framework, prefix="kws")
    project, _ = prepare(tmp_path / "proj", cfg, model)
    extra = {"project_slug": "rendered", "mcuforge": _template_context(project)}
    for i, tpl in enumerate([templates_dir() / "common", templates_dir() / framework,
                             templates_dir() / "generated" / framework]):
        ours = render_template_dir(tpl, extra, tmp_path / f"ours{i}")
        theirs = Path(cookiecutter(str(tpl), no_input=True, output_dir=str(tmp_path / f"theirs{i}"),
                                   extra_context=extra, default_config=True))
        _same_tree(ours, theirs)
