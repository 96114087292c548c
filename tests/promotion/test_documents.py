"""Promotion documents never crash: deep nesting, non-UTF-8 bytes, alias bombs (issue 11).

Every loader of the promotion layer — roster, trust file, change calendar, change ticket, SBOM,
signature file, DSSE envelope, verdict — must answer a hostile file with one
:class:`~canarykit.errors.InvalidInputError` naming the file and the rule, and the CLI with exit
2 and one line, never a ``RecursionError`` or ``UnicodeDecodeError`` traceback.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from promotion_world import PEOPLE_KEYS, World, pem

from canarykit.cli.main import main
from canarykit.errors import InvalidInputError
from canarykit.promotion.documents import (
    MAX_DEPTH,
    check_depth,
    load_document_file,
    parse_document,
)
from canarykit.promotion.evidence import load_signature_file, verify_dsse
from canarykit.promotion.verdicts import read_verdict

DEEP = 5_000  # far beyond Python's recursion limit

# (suffix, text) of documents nested DEEP levels
DEEP_TEXTS = {
    "yaml flow": (".yaml", "people: " + "[" * DEEP + "]" * DEEP),
    "yaml block": (".yaml", "".join("  " * i + "- \n" for i in range(DEEP))),
    "yaml mapping": (".yml", "".join("  " * i + f"k{i}:\n" for i in range(DEEP))),
    "json list": (".json", "[" * DEEP + "]" * DEEP),
    "json object": (".json", '{"a":' * DEEP + "1" + "}" * DEEP),
}

# what each promotion loader reads, through the Python API (``world`` fixture)
LOADERS: dict[str, Callable[[World, Path], Any]] = {
    "roster": lambda w, p: w.promotion.configure(actor="sam", roster=p),
    "trust": lambda w, p: w.promotion.configure(actor="sam", trust=p),
    "calendar": lambda w, p: w.promotion.configure(actor="olga", calendar=p),
    "ticket": lambda w, p: w.promotion.create_change(p, actor="olga"),
    "sbom": lambda w, p: w.to_staging("v1", sbom=p),
    "signature": lambda w, p: w.to_staging("v1", signatures=p),
    "attestation": lambda w, p: w.to_staging("v1", attestation=p),
    "verdict": lambda w, p: read_verdict(p),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("shape", sorted(DEEP_TEXTS))
def test_deeply_nested_documents_are_one_line_errors(world: World, loader: str, shape: str) -> None:
    world.submit("v1")
    suffix, text = DEEP_TEXTS[shape]
    path = world.tmp / f"deep{suffix}"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as caught:
        LOADERS[loader](world, path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert f"nested more than {MAX_DEPTH} levels deep" in message
    assert "\n" not in message


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_non_utf8_documents_are_one_line_errors(world: World, loader: str, suffix: str) -> None:
    world.submit("v1")
    path = world.tmp / f"binary{suffix}"
    path.write_bytes(b"people:\n  ann: [product]\n  \xff\xfe\x00\x81: [security]\n")
    with pytest.raises(InvalidInputError, match=r"is not UTF-8 text \(byte 0xff at offset 27\)"):
        LOADERS[loader](world, path)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_bytes("\ufeffpeople: {ann: [product]}\n".encode())
    assert load_document_file(path, what="roster") == {"people": {"ann": ["product"]}}


def test_shallow_documents_just_under_the_limit_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert load_document_file(path, what="document") is not None
    path.write_text("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(InvalidInputError, match="nested more than"):
        load_document_file(path, what="document")


def test_brackets_inside_json_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"note": "[" * 10_000, "quote": 'a \\" [[[ "'})
    assert parse_document(text, where="x.json: ticket")["note"] == "[" * 10_000


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("a: &x [*x]", "nested more than"),  # refers to itself
        (
            "\n".join([f"a{i}: &a{i} [*a{i - 1}]" if i else "a0: &a0 [1]" for i in range(300)]),
            "nested more than",  # each alias one level deeper than the last
        ),
        (
            "\n".join(
                ["a0: &a0 [lol, lol]"]
                + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 60)]
            ),
            "stands for more than",  # "billion laughs": 2**60 values from 60 lines
        ),
        ("a: " + "1" * 5_000, "is not valid YAML"),  # an integer too long to convert
        ("!!python/object/apply:os.system ['true']", "is not valid YAML"),
        ("? [a]\n: b", "is not valid YAML"),
    ],
)
def test_yaml_tricks_are_one_line_errors(tmp_path: Path, text: str, rule: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=rule) as caught:
        load_document_file(path, what="calendar")
    assert str(caught.value).startswith(f"{path}: calendar ")


def test_documents_given_as_python_objects_are_bounded_too(world: World) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(InvalidInputError, match="roster is nested more than"):
        world.promotion.configure(actor="sam", roster={"people": {"ann": loop}})
    assert check_depth({"people": {"ann": ["product"]}}, where="roster")


def test_a_dsse_payload_nested_too_deeply_is_a_problem_not_a_crash() -> None:
    payload = base64.b64encode(b"[" * DEEP + b"]" * DEEP).decode()
    check = verify_dsse({"payloadType": "x", "payload": payload}, "sha256:" + "0" * 64, None)
    assert not check.verified
    assert check.problems == ("payload: not base64-encoded JSON",)
    binary = base64.b64encode(b"\xff\xfe").decode()
    check = verify_dsse({"payloadType": "x", "payload": binary}, "sha256:" + "0" * 64, None)
    assert check.problems == ("payload: not base64-encoded JSON",)


def test_a_signature_file_that_is_binary_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sig.json"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(InvalidInputError) as caught:
        load_signature_file(path)
    assert (
        str(caught.value) == f"{path}: signature file is not UTF-8 text (byte 0x80 at offset 128)"
    )


@pytest.mark.parametrize("key", ["roster", "trust", "calendar", "ticket"])
@pytest.mark.parametrize("content", ["deep", "binary"])
def test_the_cli_answers_with_exit_2_and_one_line(
    world: World, capsys: pytest.CaptureFixture[str], key: str, content: str
) -> None:
    path = world.tmp / f"{key}.yaml"
    if content == "deep":
        path.write_text("a: " + "[" * DEEP + "]" * DEEP)
    else:
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff")
    registry = str(world.tmp / "registry.sqlite")
    before = Path(registry).read_bytes()
    argv = (
        ["change", "create", str(path)] if key == "ticket" else ["config", f"set-{key}", str(path)]
    )
    key = pem(PEOPLE_KEYS["sam"], world.tmp / "sam.pem")  # a signed act: sam's key
    code = main([*argv, "--registry", registry, "--actor", "sam", "--key", str(key)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"canarykit: error: {path}: ")
    assert "Traceback" not in err
    assert Path(registry).read_bytes() == before
