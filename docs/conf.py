"""Sphinx configuration of the rkhsmtl documentation.

Build (offline; warnings are errors, examples are executed):

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""
import os
import re
import sys
from pathlib import Path

# Document the working tree, not a possibly stale installed copy.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The gallery runs on machines without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

import rkhsmtl  # noqa: E402

project = "rkhsmtl"
author = "the rkhsmtl developers"
copyright = "2026, the rkhsmtl developers"
release = rkhsmtl.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
# MathJax is served from the built site, not a CDN, so the docs show formulas
# offline; the package (docs extra) copies MathJax into _static/.  Without it
# the build still works and the browser falls back to the CDN.
try:
    import importlib

    importlib.import_module("sphinx-mathjax-offline")
    extensions.append("sphinx-mathjax-offline")
except ImportError:
    pass
# No sphinx.ext.intersphinx: the build must work offline.

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store",
                    "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.json", "auto_examples/*.pickle"]
default_role = "math"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "undoc-members": False,
}


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates.

    Their docstrings point at scikit-learn's own user guide and glossary,
    which this offline build (no intersphinx) cannot resolve.
    """
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)


numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- MyST (docs/benchmarks.md, docs/results.md) -----------------------------
myst_enable_extensions = []
myst_heading_anchors = 3

# -- sphinx-gallery ---------------------------------------------------------
# Every examples/plot_*.py is picked up and executed during the build; an
# example that raises makes the build fail (the failures are listed at the end).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "reset_modules": ("matplotlib",),
}

# -- HTML -------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"rkhsmtl {release}"
html_static_path = []
html_theme_options = {
    "description": "Multi-task learning with kernel methods in vector-valued RKHSs",
    "fixed_sidebar": False,
    "show_powered_by": False,
}
