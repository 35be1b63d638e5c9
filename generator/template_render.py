"""Render a cookiecutter project template without cookiecutter's prompt pass.

`cookiecutter()` turns every string in its context into a Jinja template before it renders a
single file (its prompt pass, even with no_input): for a model with a hundred outputs that is
thousands of template compiles, most of a project's generation time. mcuforge's context is
final data, so `render_template_dir` gives cookiecutter's file renderer (`generate_files`) the
context that prompt pass would have produced, built here the same way but with a template
compiled only for a string that could change under Jinja (one with `{`, a line break or a
carriage return, or a str subclass) — in one Jinja environment for the whole context.

What the prompt pass does to a value, and so what this does: None and booleans stay; dicts and
lists are walked (dict keys too); anything else becomes `str(value)` and is rendered. A string
without template syntax, line breaks or carriage returns renders to itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_JINJA_SENSITIVE = ("{", "\n", "\r")


def _render_value(env: Any, raw: Any, done: dict[str, Any], literal_ok: bool = True) -> Any:
    """The value cookiecutter's prompt pass gives `raw` (its `render_variable`). `literal_ok`:
    the environment has Jinja's default syntax, so a string without `_JINJA_SENSITIVE`
    characters renders to itself."""
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, dict):
        return {_render_value(env, k, done, literal_ok): _render_value(env, v, done, literal_ok)
                for k, v in raw.items()}
    if isinstance(raw, list):
        return [_render_value(env, v, done, literal_ok) for v in raw]
    text = raw if isinstance(raw, str) else str(raw)
    if literal_ok and type(text) is str and not any(c in text for c in _JINJA_SENSITIVE):
        return text
    return env.from_string(text).render(cookiecutter=done)


def template_context(template: Path, extra: dict[str, Any], output_dir: Path) -> dict[str, Any]:
    """The context `cookiecutter(template, no_input=True, extra_context=extra, output_dir=...)`
    hands to `generate_files` (without the user's ~/.cookiecutterrc defaults: a project does not
    depend on who generates it)."""
    from cookiecutter.generate import generate_context
    from cookiecutter.utils import create_env_with_context

    context = generate_context(context_file=str(template / "cookiecutter.json"), extra_context=extra)
    variables = context["cookiecutter"]
    context["_cookiecutter"] = {k: v for k, v in variables.items() if not k.startswith("_")}
    env = create_env_with_context(context)
    literal_ok = not variables.get("_jinja2_env_vars")  # custom delimiters: render every string
    done: dict[str, Any] = {}
    # as cookiecutter: plain variables first, then dicts (which may refer to them); `_x` kept raw
    for dicts in (False, True):
        for key, raw in variables.items():
            if isinstance(raw, dict) != dicts:
                continue
            if key.startswith("_") and not key.startswith("__"):
                done[key] = raw
            elif isinstance(raw, list):
                raise ValueError(f"template variable '{key}': choice lists are not supported")
            else:
                done[key] = _render_value(env, raw, done, literal_ok)
    variables.update(done)
    variables["_template"] = str(template)
    variables["_output_dir"] = os.path.abspath(output_dir)
    variables["_repo_dir"] = str(template)
    variables["_checkout"] = None
    return context


def render_template_dir(template: Path, extra: dict[str, Any], output_dir: Path) -> Path:
    """Render the cookiecutter template folder `template` into `output_dir`; the rendered
    project folder."""
    from cookiecutter.generate import generate_files

    context = template_context(template, extra, output_dir)
    return Path(generate_files(repo_dir=str(template), context=context, output_dir=str(output_dir)))
