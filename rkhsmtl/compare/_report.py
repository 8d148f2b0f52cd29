"""Tables, ``results.csv`` and ``report.md`` of a comparison."""
import csv
import datetime
import os
import platform
import sys

import numpy as np

from ._evaluate import metric_table

# Columns of the printed table (all metrics go to results.csv and the report).
# Per task, R² and explained variance coincide (both 1 - MSE / Var), so the
# printed table shows only the latter.
_SHOWN = {
    "regression": ("ev_pooled", "ev_task", "nmse_task", "mse_pooled"),
    "classification": ("auc_task", "accuracy_task"),
}
_PERCENT = ("ev_", "r2_")
BEST_MARK = "*"
BEST_NOTE = f"{BEST_MARK} best value in its column"


def _cell(column, mean, std, n_values=2):
    """``mean ± std``; the spread is left out when it rests on a single split."""
    if not np.isfinite(mean):
        return "n/a"
    spread = n_values > 1
    if column.startswith(_PERCENT):
        return f"{100 * mean:.1f}%" + (f" ± {100 * std:.1f}%" if spread else "")
    if column == "fit_time_s":
        return f"{mean:.2f}" + (f" ± {std:.2f}" if spread else "")
    if column.startswith("mse"):
        return f"{mean:.4g}" + (f" ± {std:.2g}" if spread else "")
    return f"{mean:.3f}" + (f" ± {std:.3f}" if spread else "")


def _best_methods(summary, failed, column, higher_is_better):
    means = {m: stats[column][0] for m, stats in summary.items()
             if not failed[m] and np.isfinite(stats[column][0])}
    if len(means) < 2:      # nothing to compare
        return set()
    best = max(means.values()) if higher_is_better else min(means.values())
    return {m for m, v in means.items() if v == best}


def summary_table(result, columns=None):
    """Header and rows (lists of str) of the mean ± std table.

    The best mean of every metric column is marked with ``BEST_MARK``.
    """
    table = metric_table(result.dataset.problem_type)
    labels = {c[0]: c[1] for c in table}
    higher = {c[0]: c[4] for c in table}
    labels["fit_time_s"] = "fit time (s)"
    if columns is None:
        columns = _SHOWN[result.dataset.problem_type]
    columns = list(columns) + ["fit_time_s"]
    header = ["method"] + [labels[c] for c in columns]
    summary = result.summary()
    failed = {m: all(r["error"] for r in result.rows if r["method"] == m)
              for m in summary}
    best = {c: _best_methods(summary, failed, c, higher[c]) for c in columns
            if c in higher}
    rows = []
    for method, stats in summary.items():
        if failed[method]:
            rows.append([method] + ["failed (see notes)"] * len(columns))
            continue
        cells = []
        for c in columns:
            n_values = sum(1 for r in result.rows if r["method"] == method
                           and np.isfinite(float(r[c])))
            cell = _cell(c, *stats[c], n_values)
            cells.append(cell + f" {BEST_MARK}" if method in best.get(c, ()) else cell)
        rows.append([method] + cells)
    return header, rows


def format_text_table(header, rows):
    """Aligned plain-text table."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths])]
                     + [line(r) for r in rows])


def format_markdown_table(header, rows):
    """GitHub-flavoured markdown table."""
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def write_csv(result, path):
    """One row per method x split with every metric, timings and selections.

    Parameters
    ----------
    result : ComparisonResult
    path : str or path-like
        The CSV file to write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rkhsmtl.compare import load_dataset, run_comparison, write_csv
    >>> result = run_comparison(load_dataset("synthetic"), ["independent"], n_splits=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_csv(result, Path(tmp) / "results.csv")
    ...     header = (Path(tmp) / "results.csv").read_text().splitlines()[0]
    >>> header.split(",")[:3]
    ['method', 'split', 'n_train']
    """
    fields = (["method", "split", "n_train", "n_test"] + result.metric_columns
              + ["fit_time_s", "predict_time_s", "selected", "error"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in result.rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, (float, np.floating)) else v)
                             for k, v in row.items() if k in fields})


def machine_description():
    """Platform, CPU and library versions of this machine, one line."""
    import numpy
    import scipy
    import sklearn

    from .. import __version__

    cpu = platform.processor() or platform.machine()
    return (f"{platform.platform()}; {cpu}; {os.cpu_count()} CPU(s); Python "
            f"{sys.version.split()[0]}; numpy {numpy.__version__}, scipy "
            f"{scipy.__version__}, scikit-learn {sklearn.__version__}, rkhsmtl "
            f"{__version__}")


def _selections(result):
    """Chosen hyperparameters per method: the distinct values over splits."""
    out = {}
    for spec in result.methods:
        seen = [r["selected"] for r in result.rows
                if r["method"] == spec.name and r["selected"]]
        if seen:
            distinct = sorted(set(seen), key=seen.index)
            out[spec.name] = "; ".join(distinct[:5]) + (" ..." if len(distinct) > 5 else "")
    return out


def write_report(result, path, *, command_line, figures=()):
    """``report.md``: command line, data set, machine, date, table and notes.

    Parameters
    ----------
    result : ComparisonResult
    path : str or path-like
        The Markdown file to write.
    command_line : str
        The command that produced the result (quoted in the report).
    figures : sequence of str, default=()
        Figure files (relative to the report) to link.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from rkhsmtl.compare import load_dataset, run_comparison, write_report
    >>> result = run_comparison(load_dataset("synthetic"), ["independent"], n_splits=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_report(result, Path(tmp) / "report.md", command_line="rkhsmtl compare")
    ...     title = (Path(tmp) / "report.md").read_text().splitlines()[0]
    >>> title
    '# rkhsmtl compare: synthetic'
    """
    data = result.dataset
    header, rows = summary_table(result)
    full_header, full_rows = summary_table(
        result, [c[0] for c in metric_table(data.problem_type)])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# rkhsmtl compare: {data.name}",
        "",
        f"- Command: `{command_line}`",
        f"- Date: {now}",
        f"- Machine: {machine_description()}",
        f"- Data set: {data.description}; {data.problem_type}, "
        f"{data.X.shape[0]} rows, {data.n_tasks} tasks, {data.n_features} features",
        f"- Protocol: {data.protocol_text(result.n_splits, result.test_size)}; "
        f"random_state={result.random_state}",
        f"- Wall time: {result.elapsed_s:.1f} s",
        "",
        "## Results (mean ± std over splits)",
        "",
        format_markdown_table(header, rows),
        "",
        f"\\{BEST_NOTE}.",
        "",
        "All metrics (one row per method and split in `results.csv`):",
        "",
        format_markdown_table(full_header, full_rows),
        "",
        "## Methods",
        "",
    ]
    selections = _selections(result)
    for spec in result.methods:
        chosen = f" Selected: {selections[spec.name]}." if spec.name in selections else ""
        lines.append(f"- **{spec.name}**: {spec.description}.{chosen}")
    for name, reason in result.skipped.items():
        lines.append(f"- **{name}**: skipped, {reason}.")
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{os.path.splitext(f)[0]}]({f})" for f in figures]
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
