"""Command line of rkhsmtl: ``rkhsmtl compare`` (also ``python -m rkhsmtl compare``).

``rkhsmtl compare`` fits every registered method that applies to a data set on
repeated per-task splits and prints a table of per-task and pooled metrics
(mean ± std over splits); ``--output DIR`` also writes ``report.md``,
``results.csv`` and figures.  Bad input ends with a one-line message on
stderr and exit status 2; a run in which every method fails on every split
exits with status 1.
"""
import argparse
import os
import shlex
import sys
import time

from .datasets import DatasetNotFoundError

EXIT_USAGE = 2
EXIT_FAILED = 1   # the input was fine but no method produced a result

_EPILOG = """\
examples:
  rkhsmtl compare                                   built-in synthetic data, all methods
  rkhsmtl compare --dataset school --splits 10      the School protocol of docs/results.md
  rkhsmtl compare --dataset data.csv --task-column school --target score --output out/
  rkhsmtl compare --dataset school --protocol new-tasks   whole schools held out
  rkhsmtl compare --list-methods

Register your own method with rkhsmtl.compare.register_method (see README)."""


def _comma_list(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of method names")
    return names


def _size_list(text):
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= 2 (rows per task); got {text!r}")
    return sizes


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1); got {text!r}")
    return value


def build_parser():
    """The argument parser of ``rkhsmtl`` (subcommand ``compare``)."""
    parser = argparse.ArgumentParser(
        prog="rkhsmtl", description="Multi-task learning with kernel methods.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    compare = sub.add_parser(
        "compare", help="compare multi-task methods side by side",
        description="Fit multi-task methods on repeated per-task train/test splits "
                    "and compare per-task and pooled metrics (mean ± std over splits).",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    compare.add_argument(
        "--dataset", default="synthetic", metavar="NAME|PATH",
        help="synthetic (default: built-in clustered regression tasks), "
             "synthetic-classification, school, landmine, sarcos, or a PATH.npz / "
             "PATH.csv table")
    compare.add_argument("--task-column", metavar="NAME",
                         help="CSV only: column holding each row's task label")
    compare.add_argument("--target", metavar="NAME", help="CSV only: the target column")
    compare.add_argument("--data-home", metavar="DIR",
                         help="folder of the benchmark files (default: $RKHSMTL_DATA)")
    compare.add_argument(
        "--methods", type=_comma_list, metavar="A,B,...",
        help="comma-separated method names (default: every registered method that "
             "applies to the data set's problem type)")
    compare.add_argument("--splits", type=_positive_int, default=5, metavar="N",
                         help="number of repeated random splits (default: 5)")
    compare.add_argument(
        "--test-size", type=_fraction, metavar="FRACTION",
        help="per-task test fraction (default: the data set's protocol: 0.5 for "
             "synthetic, 0.25 for school and tables, 40 / 100 training rows per task "
             "for landmine / sarcos)")
    compare.add_argument(
        "--protocol", choices=("per-task", "new-tasks"), default="per-task",
        help="per-task (default): every task split into training and test rows; "
             "new-tasks: whole tasks held out (--test-size is then the fraction of "
             "tasks, default 0.2) and scored as tasks never seen in training")
    compare.add_argument(
        "--learning-curve", action="store_true",
        help="instead of one table, fit on growing training sets (--sizes rows per "
             "task, fixed test rows) and write the test metric and fit time against "
             "the size (default methods: independent, mean, trace, neural, "
             "single-task-net)")
    compare.add_argument("--sizes", type=_size_list, default=None, metavar="N,N,...",
                         help="--learning-curve: training rows per task (default: "
                              "10,20,50,100,200,500)")
    compare.add_argument("--random-state", type=int, default=0, metavar="SEED",
                         help="seed of the splits and of the methods (default: 0)")
    compare.add_argument("--output", metavar="DIR",
                         help="write report.md, results.csv and figures to DIR")
    compare.add_argument("--quiet", action="store_true",
                         help="no progress lines or notes on stderr")
    compare.add_argument("--list-methods", action="store_true",
                         help="list the registered methods and exit")
    return parser


def _error(message):
    text = " ".join(str(message).split())  # always one line
    print(f"rkhsmtl compare: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def _list_methods():
    from .compare import list_methods

    specs = list_methods()
    width = max(len(s.name) for s in specs)
    for spec in specs:
        kinds = "/".join(spec.problem_types)
        print(f"{spec.name:<{width}}  [{kinds}]  {spec.description}")
    return 0


def _compare(args, argv):
    from .compare import (
        DatasetError,
        MethodError,
        load_dataset,
        run_comparison,
        write_csv,
        write_plots,
        write_report,
    )
    from .compare._report import BEST_NOTE, format_text_table, summary_table

    say = (lambda line: None) if args.quiet else (
        lambda line: print(line, file=sys.stderr, flush=True))
    if args.output and os.path.exists(args.output) and not os.path.isdir(args.output):
        return _error(f"--output {args.output} is a file; pass a folder (created if "
                      "missing).")
    try:
        dataset = load_dataset(args.dataset, task_column=args.task_column,
                               target=args.target, data_home=args.data_home)
    except DatasetNotFoundError as exc:
        return _error(f"{exc} (or pass --data-home DIR)")
    except FileNotFoundError as exc:
        return _error(f"{exc}. Check the --dataset path.")
    except ImportError as exc:
        return _error(exc)
    except ValueError as exc:  # DatasetError and the loaders' column/format errors
        return _error(exc)
    if args.learning_curve:
        from .compare._learning_curve import run_from_cli

        return run_from_cli(args, argv, dataset, say, _error)
    try:
        result = run_comparison(dataset, args.methods, n_splits=args.splits,
                                test_size=args.test_size,
                                random_state=args.random_state, progress=say,
                                protocol=args.protocol)
    except (DatasetError, MethodError) as exc:
        return _error(exc)
    if not result.methods:
        return _error("no method could run: " + "; ".join(result.notes))
    for note in result.notes:
        say(f"note: {note}")
    if result.rows and all(row["error"] for row in result.rows):
        first = next(r for r in result.rows if r["error"])
        _error(f"every method failed on every split; first failure: {first['method']} "
               f"on split {first['split']}: {first['error']}")
        return EXIT_FAILED
    header, rows = summary_table(result)
    print(f"\n{dataset.name}: {result.dataset.protocol_text(args.splits, args.test_size)}; "
          "mean ± std over splits\n")
    print(format_text_table(header, rows))
    print(f"\n{BEST_NOTE}")
    if args.output:
        os.makedirs(args.output, exist_ok=True)
        figures = []
        try:
            figures = write_plots(result, args.output)
        except ImportError:
            say('note: matplotlib is not installed, so no plots were drawn '
                '(pip install "rkhsmtl[plot]")')
        command_line = "rkhsmtl " + shlex.join(argv)
        write_report(result, os.path.join(args.output, "report.md"),
                     command_line=command_line, figures=figures)
        write_csv(result, os.path.join(args.output, "results.csv"))
        say(f"wrote {', '.join(['report.md', 'results.csv'] + figures)} to "
            f"{args.output}")
    return 0


def main(argv=None):
    """Run the ``rkhsmtl`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name (None: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 2 on bad input (with a one-line message on stderr), 1
        when every method failed on every split.

    Examples
    --------
    >>> from rkhsmtl.cli import main
    >>> main(["compare", "--methods", "independent,mean", "--splits", "1",
    ...       "--quiet"])  # doctest: +SKIP
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.list_methods:
        return _list_methods()
    started = time.perf_counter()
    status = _compare(args, argv)
    if status == 0 and not args.quiet:
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return status
