r"""Proximal Newton for the logistic loss, certified by its duality gap.

Each outer step replaces the logistic loss by its second-order model at the
current ``(W, b)``: with ``f_i`` the predictions, ``g_i`` and ``h_i`` the
first and second derivatives of ``a_i log(1 + exp(-y_i f))`` at ``f_i``,

.. math::

    \sum_i a_i \ell_i(f_i + \delta_i) \approx \mathrm{const}
    + \tfrac12 \sum_i h_i (z_i - \hat f_i)^2,\qquad z_i = f_i - g_i / h_i,

a weighted least-squares problem in the new predictions ``hat f`` whose
per-task Gram statistics (:class:`~._gram.TaskGram`, curvature ``h`` per
observation, so per task) are accumulated once; it is solved with the
squared-loss solvers (:func:`~._admm.admm` or :func:`~._bcd.bcd`) to a gap
a tenth of the outer one (and at most ``1e-3 / 10^k`` at step ``k``), and
the step towards its solution is halved until the true objective decreases.

Dual of the logistic loss (``ell^*(-y s) = s log s + (1 - s) log(1 - s)``,
``s`` in [0, 1]): with ``theta_i = -kappa g_i`` (``s_i = sigma(-y_i f_i)``
scaled by ``kappa`` in (0, 1]),

.. math::

    D = \sum_i a_i H(\kappa s_i) - h^*(\kappa U_0),\qquad
    U_{0,:t} = -\partial L / \partial w_t,

``H`` the binary entropy, ``kappa`` the largest value keeping ``kappa U_0``
in the dual set of the penalty (or 1 with a ridge and a closed-form
distance; ``"graph"`` only with ``lambda2 > 0``, where its conjugate is
finite everywhere).  With intercepts the dual requires ``sum_{i in t} theta_i = 0``,
i.e. optimal intercepts for the current ``W``: they are refined by a
per-task Newton iteration before each gap (which only lowers the primal).
numpy only.
"""
import time
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, xlogy

from ._gap import has_conjugate_bound
from ._gram import TaskGram


@dataclass
class NewtonResult:
    V: np.ndarray
    b: np.ndarray
    objective_history: np.ndarray
    n_iter: int
    converged: bool
    gap: float


def _report(message, start_time):
    print(f"{message}, elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)


def _entropy(s):
    return -(xlogy(s, s) + xlogy(1.0 - s, 1.0 - s))


class LogisticRows:
    """Row-level quantities of ``sum_i a_i log(1 + exp(-y_i f_i))``."""

    def __init__(self, datafit):
        self.df = datafit
        self.T = datafit.n_tasks

    def task_sums(self, v):
        if self.df.shared:
            return v.sum(axis=0)
        return np.bincount(self.df.codes, weights=v, minlength=self.T)

    def derivatives(self, W, b):
        """``(f, g, h)``: predictions, first and second derivatives (with ``a``)."""
        df = self.df
        f = df.predict(W, b)
        s = expit(-df.Y * f)  # sigma(-y f)
        g = -df.A * df.Y * s
        h = df.A * s * (1.0 - s)
        return f, g, h, s

    def refine_intercepts(self, W, b, max_newton=50):
        """Optimal intercepts for fixed ``W`` (per-task 1-D Newton)."""
        b = b.copy()
        for _ in range(max_newton):
            _, g, h, _ = self.derivatives(W, b)
            gb, hb = self.task_sums(g), self.task_sums(h)
            step = np.where(hb > 0, gb / np.maximum(hb, 1e-300), 0.0)
            # A Newton step on a logistic 1-D problem can overshoot far from
            # the root; a bounded step keeps it monotone.
            step = np.clip(step, -4.0, 4.0)
            b -= step
            if np.all(np.abs(step) <= 1e-13 * (1.0 + np.abs(b))):
                break
        return b


def logistic_gap(datafit, penalty, lambda2, V, b, fit_intercept):
    """Primal objective and duality gap of the logistic model at ``(V, b)``.

    Parameters
    ----------
    datafit : MultiTaskDatafit
        With ``loss="logistic"``.
    penalty : Penalty
    lambda2 : float
    V : ndarray
        The penalty's variable.
    b : ndarray of shape (T,)
        Intercepts (use optimal ones for ``W`` when ``fit_intercept``).
    fit_intercept : bool

    Returns
    -------
    primal, gap : float
        ``gap`` is NaN where the penalty has no certificate.
    """
    W = penalty.coef(V)
    value, gW, _ = datafit.value_and_grad(W, b)
    h = lambda2 * float(np.sum(W * W)) + penalty.value(V) + penalty.smooth(V)[0]
    primal = value + h
    bounded = has_conjugate_bound(penalty, lambda2)
    if penalty.dual_null_space(lambda2) is not None and not bounded:
        # h^* is infinite off the null space's complement (see _gap), and the
        # logistic dual point cannot be shifted onto it.
        return primal, np.nan
    logit = LogisticRows(datafit)
    _, _, _, s = logit.derivatives(W, b)
    A = datafit.A
    U0 = -gW
    if bounded:
        return primal, _bounded_gap(penalty, lambda2, U0, W, A, s, primal)
    conj = None
    kappa = 1.0
    if lambda2 > 0:
        dist = penalty.dual_distance_sq(U0)
        if dist is not None:
            conj = dist / (4.0 * lambda2)
    if conj is None and penalty.has_dual_quadratic(lambda2):
        q = penalty.dual_quadratic(U0, lambda2)
        # D(kappa) = sum a H(kappa s) - kappa^2 q is concave in kappa.
        kappa = _best_scale(A, s, q, 1.0)
        conj = kappa * kappa * q
    if conj is None:
        gauge = penalty.dual_gauge(U0)
        if gauge is None:
            return primal, np.nan
        kappa = min(1.0, 1.0 / gauge) if gauge > 0 else 1.0
        conj = 0.0
    dual = float(np.sum(A * _entropy(kappa * s))) - conj
    return primal, max(primal - dual, 0.0)


def _bounded_gap(penalty, lambda2, U0, W, A, s, primal):
    """The gap with an upper bound of ``h^*`` (graph + l1, MALSAR's SRMTL).

    Every scale ``kappa`` in (0, 1] of the dual point ``kappa s`` gives a
    valid dual value ``sum a H(kappa s) - B(kappa U0)``; the ones tried: 1
    (exact at the optimum), the largest at which the l1 box holds the group
    sums, and the best of the quadratic model ``B(kappa U0) ~ kappa^2 B(U0)``.
    NaN when no bound is finite: no certificate, never a silent number.
    """
    def dual(kappa, bound=None):
        if bound is None:
            bound = penalty.conjugate_bound(kappa * U0, W, lambda2)
        return float(np.sum(A * _entropy(kappa * s))) - bound

    q = penalty.conjugate_bound(U0, W, lambda2)
    values = [dual(1.0, q)]
    kappas = []
    box = penalty.box_scale(U0, lambda2)
    if box < 1.0:
        kappas.append(box * (1 - 1e-12))
    if np.isfinite(q) and q > 0:
        kappas.append(_best_scale(A, s, q, min(box, 1.0)))
    values += [dual(k) for k in kappas]
    finite = [v for v in values if np.isfinite(v)]
    return max(primal - max(finite), 0.0) if finite else np.nan


def _best_scale(A, s, q, upper):
    """The kappa in (0, upper] maximizing ``sum a H(kappa s) - kappa^2 q``
    (concave: Newton steps from ``upper``)."""
    kappa = upper
    for _ in range(30):
        ks = np.clip(kappa * s, 1e-300, 1.0 - 1e-16)
        d1 = float(np.sum(A * s * np.log((1.0 - ks) / ks))) - 2.0 * kappa * q
        d2 = -float(np.sum(A * s * s / (ks * (1.0 - ks)))) - 2.0 * q
        new = min(max(kappa - d1 / d2, 0.5 * kappa), upper)
        if abs(new - kappa) <= 1e-14:
            break
        kappa = new
    return kappa


def _model_stats(datafit, W, b, logit):
    """Gram statistics of the second-order model at ``(W, b)``."""
    f, g, h, _ = logit.derivatives(W, b)
    weight = np.maximum(h, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(weight > 0, f - g / weight, f)
    df = datafit
    if df.shared:
        blocks = [(df.X, z[:, t], weight[:, t]) for t in range(df.n_tasks)]
    else:
        blocks = [(df.X[s], z[s], weight[s]) for s in df.slices]
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below
        stats = TaskGram.from_rows(*zip(*blocks))
    if not (np.all(np.isfinite(stats.gram)) and np.all(np.isfinite(stats.xty))):
        scale = float(np.max(np.abs(df.X))) if df.X.size else 0.0
        raise ValueError(
            "The curvature X^T H X of the logistic loss (the derivative of its "
            f"gradient) is not finite: the features reach max |X| = {scale:.3g}, whose "
            "products overflow float64; standardize X (e.g. "
            "sklearn.preprocessing.StandardScaler) or divide it by a constant before "
            "fitting.")
    return stats


def prox_newton(datafit, penalty, lambda2, V0, b0, inner, *, fit_intercept=True,
                max_iter=100, tol=1e-6, verbose=0):
    """Minimize the logistic objective to a relative duality gap ``tol``.

    Parameters
    ----------
    datafit : MultiTaskDatafit
        With ``loss="logistic"``.
    penalty : Penalty
        One with a certificate (see :func:`logistic_gap`).
    lambda2 : float
    V0 : ndarray
        Start, in the penalty's variable.
    b0 : ndarray of shape (T,)
    inner : callable
        ``inner(stats, V, tol) -> V``: solves the weighted least-squares
        model given by the (profiled) statistics to a relative gap ``tol``.
    fit_intercept : bool
    max_iter : int
        Maximum number of Newton steps.
    tol : float
    verbose : int

    Returns
    -------
    NewtonResult
    """
    start_time = time.perf_counter()
    logit = LogisticRows(datafit)
    T = datafit.n_tasks
    V = np.array(V0, dtype=np.float64, copy=True)
    b = np.array(b0, dtype=np.float64, copy=True) if fit_intercept else np.zeros(T)

    def objective(V, b):
        W = penalty.coef(V)
        return (datafit.value(W, b) + lambda2 * float(np.sum(W * W))
                + penalty.value(V) + penalty.smooth(V)[0])

    history = []
    converged = False
    k = 0
    stalls, last_gap = 0, np.inf
    while True:
        if fit_intercept:
            b = logit.refine_intercepts(penalty.coef(V), b)
        F, gap = logistic_gap(datafit, penalty, lambda2, V, b, fit_intercept)
        history.append(F)
        if verbose > 0:
            _report(f"Newton step {k}: objective = {F:.10e}, duality gap = {gap:.3e}",
                    start_time)
        if gap <= tol * abs(F) and k > 0:
            converged = True
            break
        if k >= max_iter:
            break
        k += 1
        stats = _model_stats(datafit, penalty.coef(V), b, logit)
        problem = stats.centered() if fit_intercept else TaskGram(
            stats.gram, stats.xty, np.zeros_like(stats.xsum), stats.wsum,
            np.zeros_like(stats.ysum), stats.yy)
        # The logistic certificate shrinks only like the square root of the
        # suboptimality (its dual point is the scaled gradient), so the inner
        # solves must be far more accurate than the outer gap: its square,
        # and ten times tighter at every step.
        rel = gap / max(abs(F), 1e-300)
        inner_tol = max(min(0.1 * rel * rel, 1e-3 * 0.1 ** k), 1e-13)
        V_new = inner(problem, V, inner_tol)
        b_new = stats.intercepts(penalty.coef(V_new)) if fit_intercept else b
        step = 1.0
        for _ in range(30):
            V_try = V + step * (V_new - V)
            b_try = b + step * (b_new - b)
            F_try = objective(V_try, b_try)
            if F_try <= F:
                V, b = V_try, b_try
                break
            step *= 0.5
        else:
            if inner_tol <= 1e-13:
                # No decrease although the model was solved as tightly as
                # it can be: optimal up to rounding.
                break
        # At the tightest inner tolerance, a gap that no longer shrinks
        # (five steps without a 10 % gain) means the iteration cannot move.
        stalls = stalls + 1 if inner_tol <= 1e-13 and gap > 0.9 * last_gap else 0
        last_gap = min(last_gap, gap)
        if stalls >= 5:
            break
    history = np.minimum.accumulate(np.asarray(history))
    if verbose > 0:
        status = (f"converged after {k} Newton step(s)" if converged else
                  f"stopped at max_iter={max_iter} Newton steps without converging")
        _report(f"Proximal Newton {status}: objective = {history[-1]:.10e}, "
                f"duality gap = {gap:.3e}", start_time)
    return NewtonResult(V, b, history, k, converged, gap)
