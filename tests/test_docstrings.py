"""Docstrings of the public API: runnable examples and numpydoc structure.

1. Every ``>>>`` example in the package runs and prints what it shows (the
   doctests of every module, private modules included, since that is where
   the public classes and functions are defined).
2. Every public class and function (the ``__all__`` of ``rkhsmtl`` and of its
   public subpackages and modules) passes a subset of ``numpydoc.validate``:
   it has a docstring with a one-line summary, well-formed sections, a
   Parameters section that matches its signature, and an Examples section.
3. Every public class and function is listed in ``docs/api.rst``.

The documentation build itself (``python -m sphinx -W ...``) is run by
``.ci/run``, not here: it executes the example gallery and is too slow for
the test suite.
"""
import doctest
import importlib
import inspect
import pkgutil
import re
import warnings
from pathlib import Path

import pytest

import rkhsmtl

try:  # the Examples of the plotting helpers draw figures
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # pragma: no cover
    matplotlib = None

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

# numpydoc.validate rules checked for every public class and function:
# docstring present and well formed (GL*), a one-line summary that is a
# sentence in the imperative (SS01, SS03-SS05), and parameters that match the
# signature (PR01 none missing, PR02 none unknown, PR03 same order) with
# well-formed type fields (PR05, PR06, PR10), and an Examples section (EX01),
# whose doctests test_doctest runs.
RULES = ("GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL09", "GL10",
         "SS01", "SS03", "SS04", "SS05",
         "PR01", "PR02", "PR03", "PR05", "PR06", "PR10",
         "EX01")

# Known failures: name -> {rule code: reason}; each entry xfails only the
# listed rule codes of that name.  None at present: keep it that way.
KNOWN_NUMPYDOC_FAILURES = {}

# Doctests known to fail, by doctest name (module.object); none at present.
KNOWN_DOCTEST_FAILURES = {}


def _is_private(module_name):
    return any(part.startswith("_") for part in module_name.split("."))


def _all_module_names():
    """Every module of the package, and the ones that failed to import."""
    failed = []
    names = ["rkhsmtl"] + [
        info.name for info in pkgutil.walk_packages(
            rkhsmtl.__path__, "rkhsmtl.", onerror=failed.append)
    ]
    # ``python -m rkhsmtl`` entry point: importing it would run the CLI.
    names = [name for name in names if not name.endswith(".__main__")]
    return sorted(set(names)), failed


MODULE_NAMES, WALK_ERRORS = _all_module_names()
PUBLIC_MODULES = [name for name in MODULE_NAMES if not _is_private(name)]


def _import(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(name)


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests, errors = [], []
    for name in MODULE_NAMES:
        try:
            module = _import(name)
        except Exception as exc:  # reported by test_every_module_imports
            errors.append((name, exc))
            continue
        tests.extend(t for t in finder.find(module, name) if t.examples)
    return sorted(tests, key=lambda t: t.name), errors


def _public_objects():
    """``{public name: object}`` for classes and functions in an ``__all__``.

    An object exported by several modules is checked once, under its
    shortest public name (``rkhsmtl.MultiTaskKernelRidge`` rather than
    ``rkhsmtl.estimators.MultiTaskKernelRidge``).
    """
    by_id = {}
    for module_name in PUBLIC_MODULES:
        try:
            module = _import(module_name)
        except Exception:  # reported by test_every_module_imports
            continue
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            full = f"{module_name}.{attr}"
            current = by_id.get(id(obj))
            if current is None or (full.count("."), full) < (current[0].count("."), current[0]):
                by_id[id(obj)] = (full, obj)
    return dict(sorted(by_id.values()))


DOCTESTS, IMPORT_ERRORS = _doctests()
PUBLIC_OBJECTS = _public_objects()


def test_every_module_imports():
    problems = [f"{name}: {type(exc).__name__}: {exc}" for name, exc in IMPORT_ERRORS]
    problems += [f"{name}: could not be walked" for name in WALK_ERRORS]
    assert not problems, "Modules that fail to import:\n" + "\n".join(problems)


def test_public_api_was_found():
    assert DOCTESTS, "no doctest found in the package"
    assert "rkhsmtl.MultiTaskKernelRidge" in PUBLIC_OBJECTS


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_doctest(test):
    if test.name in KNOWN_DOCTEST_FAILURES:
        pytest.xfail(KNOWN_DOCTEST_FAILURES[test.name])
    output = []
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    try:
        with warnings.catch_warnings():
            # Examples use tiny data and few iterations on purpose.
            warnings.filterwarnings("ignore", message=".*converg", category=Warning)
            result = runner.run(test, out=output.append, clear_globs=True)
    finally:
        if matplotlib is not None:
            import matplotlib.pyplot as plt

            plt.close("all")
    assert result.failed == 0, f"doctest of {test.name} failed:\n" + "".join(output)


@pytest.mark.parametrize("name", list(PUBLIC_OBJECTS))
def test_numpydoc(name):
    validate = pytest.importorskip("numpydoc.validate").validate
    errors = {}
    for code, message in validate(name)["errors"]:
        if code in RULES:
            errors.setdefault(code, []).append(message)
    known = KNOWN_NUMPYDOC_FAILURES.get(name, {})
    unexpected = {code: msgs for code, msgs in errors.items() if code not in known}
    assert not unexpected, f"numpydoc errors in {name}:\n" + "\n".join(
        f"{code}: {msg}" for code, msgs in sorted(unexpected.items()) for msg in msgs)
    still_failing = sorted(code for code in known if code in errors)
    if still_failing:
        pytest.xfail("; ".join(f"{code}: {known[code]}" for code in still_failing))


def test_known_failure_names_exist():
    """Entries of the known-failure tables must name real public objects."""
    stale = sorted(set(KNOWN_NUMPYDOC_FAILURES) - set(PUBLIC_OBJECTS))
    assert not stale, f"remove these entries (no such public name): {stale}"


def _api_reference_entries():
    """Names documented in docs/api.rst, qualified by the current module."""
    entries, current = set(), None
    for line in API_RST.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\.\. (?:currentmodule|module)::\s*(\S+)", line)
        if match:
            current = match.group(1)
            continue
        match = re.match(r"\.\. auto(?:class|function|data)::\s*(\S+)", line)
        name = match.group(1) if match else None
        if name is None:
            match = re.match(r"   ([A-Za-z_][\w.]*)\s*$", line)
            name = match.group(1) if match else None
        if name and current:
            entries.add(name if name.startswith("rkhsmtl.") else f"{current}.{name}")
    return entries


@pytest.mark.skipif(not API_RST.is_file(), reason="docs/api.rst not present")
def test_api_reference_lists_every_public_object():
    entries = _api_reference_entries()
    missing = [name for name in PUBLIC_OBJECTS if name not in entries]
    assert not missing, (
        "public classes/functions missing from docs/api.rst (add them to an "
        "autosummary block under their module):\n" + "\n".join(missing))
