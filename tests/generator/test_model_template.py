"""The customised model template on a small spec with every primitive type.

openapi.yaml has only string, integer, enum and constant fields; this spec adds numbers,
booleans, optional fields and secrets with defaults, so that each rule of
generator/templates/model.py.jinja is exercised by the generated code itself.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.generate import CONFIG, TEMPLATES

SPEC = """\
openapi: 3.1.0
info: {title: Tiny, version: "1"}
paths: {}
components:
  schemas:
    Sample:
      type: object
      required: [count, ratio, flag, name, api_key]
      properties:
        count: {type: integer}
        ratio: {type: number}
        flag: {type: boolean}
        name: {type: string}
        api_key: {type: string}
        opt_count: {type: integer}
        opt_ratio: {type: number}
        opt_flag: {type: boolean}
        password: {type: string}
        client_secret: {type: string, default: "builtin"}
        token: {type: string}
"""
PACKAGE = "tiny_template_client"
VALID: dict[str, Any] = {"count": 1, "ratio": 0.5, "flag": False, "name": "n", "api_key": "K3Y"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated `Sample` model class (one generation, about a second)."""
    root = tmp_path_factory.mktemp("tiny")
    spec = root / "tiny.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "openapi_python_client", "generate"),
            *("--path", str(spec), "--config", str(CONFIG)),
            *("--custom-template-path", str(TEMPLATES), "--meta", "none"),
            *("--fail-on-warning", "--output-path", str(root / PACKAGE)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(f"{PACKAGE}.models.sample").Sample
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def test_valid_values_parse(sample: Any) -> None:
    parsed = sample.from_dict({**VALID, "opt_count": 2, "opt_ratio": 3, "opt_flag": True})

    assert parsed.to_dict() == {
        **VALID,
        "opt_count": 2,
        "opt_ratio": 3,  # an int is a number
        "opt_flag": True,
    }
    assert parsed.ratio == 0.5


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        pytest.param("count", True, "count must be int, got bool", id="int-bool"),
        pytest.param("count", 1.0, "count must be int, got float", id="int-float"),
        pytest.param("count", "1", "count must be int, got str", id="int-str"),
        pytest.param("ratio", False, "ratio must be float, got bool", id="float-bool"),
        pytest.param("ratio", "0.5", "ratio must be float, got str", id="float-str"),
        pytest.param("flag", 0, "flag must be bool, got int", id="bool-int"),
        pytest.param("flag", "false", "flag must be bool, got str", id="bool-str"),
        pytest.param("name", None, "name must be str, got NoneType", id="str-null"),
        pytest.param("opt_count", True, "opt_count must be int", id="optional-int-bool"),
        pytest.param("opt_ratio", None, "opt_ratio must be float", id="optional-float-null"),
        pytest.param("opt_flag", 1, "opt_flag must be bool", id="optional-bool-int"),
        pytest.param("password", 1, "password must be str", id="optional-str-int"),
    ],
)
def test_wrongly_typed_values_raise_type_error(
    sample: Any, key: str, value: object, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        sample.from_dict({**VALID, key: value})


def test_only_a_mapping_is_accepted(sample: Any) -> None:
    with pytest.raises(TypeError, match="Sample expects a JSON object, got list"):
        sample.from_dict(list(VALID.items()))


def test_secret_names_are_left_out_of_repr(sample: Any) -> None:
    built = sample(**VALID, password="PA55", token="T0KEN")

    text = repr(built)
    for hidden in ("K3Y", "PA55", "builtin", "api_key", "password", "client_secret"):
        assert hidden not in text
    assert "token='T0KEN'" in text  # `token` is not a secret name
    assert (built.api_key, built.password) == ("K3Y", "PA55")
    assert built.client_secret == "builtin"  # the spec's default still applies
