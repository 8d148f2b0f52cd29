"""The one place that picks a solver: by layout, completeness, size and memory."""
from .._memory import available_memory, check_memory, dense_bytes

SOLVERS = ("auto", "eigen", "cholesky", "cg")

# Dense heterogeneous fits hold the kernel and its factor (built in place)
# plus a kernel-evaluation temporary: about two N x N float64 matrices.
DENSE_COPIES = 2.0


def choose_solver(solver, layout, complete, n_rows, xp):
    """Resolve ``solver`` ("auto" or an explicit name) for one problem.

    Parameters
    ----------
    solver : {"auto", "eigen", "cholesky", "cg"}
    layout : {"shared", "heterogeneous"}
    complete : bool
        Whether a shared-input Y has no missing entries.
    n_rows : int
        n (shared) or N (heterogeneous).
    xp : namespace
        Array namespace (memory is checked on its device).

    Returns
    -------
    solver : str

    Raises
    ------
    ValueError
        If the requested solver does not apply to the layout.
    MemoryError
        If a dense solver is requested (or is the only option) and its
        matrices do not fit; the message says what to do instead.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers import choose_solver
    >>> choose_solver("auto", "shared", complete=True, n_rows=10, xp=np)
    'eigen'
    >>> choose_solver("auto", "shared", complete=False, n_rows=10, xp=np)
    'cg'
    """
    if layout == "shared":
        if solver == "cholesky":
            raise ValueError(
                "solver='cholesky' is for heterogeneous tasks (fit(X, y, task=...)); "
                "with shared inputs use solver='eigen' (complete Y) or 'cg'."
            )
        if solver == "eigen" and not complete:
            raise ValueError(
                "solver='eigen' needs a complete Y; Y has missing (NaN) entries. "
                "Use solver='cg' (exact masked solve) or solver='auto'."
            )
        if solver == "auto":
            solver = "eigen" if complete else "cg"
        check_memory(
            dense_bytes(n_rows, copies=3), xp,
            what=f"Shared-input fitting with n={n_rows} (kernel and eigenvectors, "
                 f"{n_rows} x {n_rows} float64)",
            instead="Set approximation='nystroem' (with n_components=1000, say): "
                    "low-rank input features, exact task structure, memory "
                    "independent of n.",
        )
        return solver
    needed = dense_bytes(n_rows, copies=DENSE_COPIES)
    if solver == "auto":
        return "cholesky" if needed <= 0.8 * available_memory(xp) else "cg"
    if solver in ("cholesky", "eigen"):
        check_memory(
            needed, xp,
            what=f"solver={solver!r} with N={n_rows} rows ({n_rows} x {n_rows} "
                 "float64 kernel and factor)",
            instead="Set approximation='nystroem' (low-rank input features, exact "
                    "task structure, memory independent of N), or use solver='cg' "
                    "(exact and matrix-free; its preconditioner holds one block "
                    "per task, the sum of squared task sizes; solver='auto' "
                    "picks it).",
        )
    return solver


def kernel_fits(n_rows, xp, share=0.5):
    """Whether an N x N kernel can be stored for the matrix-free solver."""
    return dense_bytes(n_rows) <= share * available_memory(xp)
