"""Multi-task kernel ridge with built-in selection of alpha (and omega)."""
import time

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.model_selection import KFold, check_cv

from ..model_selection import TaskStratifiedKFold
from .._backend import is_numpy
from ..solvers import cholesky, dense_eigen, masked_cg, sylvester
from ..solvers.warm_cholesky import WarmCholeskySequence
from ..solvers._hadamard import one_hot, task_rows
from .._memory import check_memory, dense_bytes
from .._scoring import r2_multitask
from ._base import _MultiTaskKernelBase

DEFAULT_OMEGAS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)

#: Cost of one N x N eigendecomposition in N x N Cholesky factorizations
#: with their T + 1 intercept right-hand sides (benchmarks/bench_exact_hetero.py
#: prints eigh / potrf: 11 to 14 at n = 3,520 on the shared 2-core machine,
#: a fifth more for the right-hand sides).  A heterogeneous fold with fewer
#: alphas than this factors once per alpha instead of eigendecomposing once;
#: both are exact.
EIGH_IN_CHOLESKYS = 12

#: Heterogeneous folds with at least this many alphas take all of them from
#: one exact factorization per range of alphas and one Lanczos process each
#: (shifted systems, :mod:`rkhsmtl.solvers.shifted_lanczos`), also for grids
#: long enough for an eigendecomposition: on the default grid (13 alphas from
#: 1e-4 to 1e2, 6 omegas; 4,400 School rows, quiet, one run) 72 s against
#: 150 s.  Fewer alphas, or 0 to switch it off: the warm alpha sequence (PCG
#: per alpha, refactored when stale), or the eigendecomposition for
#: EIGH_IN_CHOLESKYS alphas or more.
SHIFTED_ALPHAS_MIN = 3

#: Largest ratio of alphas served by one factorization on the shifted route
#: (each alpha then converges like CG at condition <= sqrt(SHIFTED_RANGE)).
SHIFTED_RANGE = 1e3


def _alpha_ranges(alphas, max_ratio):
    """Indices of ``alphas`` (all > 0) split into consecutive ranges, in
    increasing order, each spanning at most ``max_ratio``: as few as
    possible, of equal width in log scale."""
    order = np.argsort(alphas)
    span = float(np.log(alphas[order[-1]] / alphas[order[0]]))
    n = max(1, int(np.ceil(span / np.log(max_ratio) - 1e-12)))
    edges = np.log(alphas[order[0]]) + span * np.arange(1, n) / n
    labels = np.searchsorted(edges, np.log(alphas[order]), side="right")
    return [order[labels == k] for k in range(n) if np.any(labels == k)]


class MultiTaskKernelRidgeCV(RegressorMixin, _MultiTaskKernelBase):
    r"""Multi-task kernel ridge that selects ``alpha`` (and ``omega``) itself.

    * Shared inputs with a complete Y and ``cv=None``: exact leave-one-entry-out
      errors for every candidate from ONE eigendecomposition of K, through the
      diagonal of the hat matrix in the joint eigenbasis (O(n^2 T) per
      candidate).
    * Otherwise: K-fold cross-validation, task-stratified for heterogeneous
      tasks (every task split across folds in the same proportion).  Within
      a (fold, task matrix) pair, every alpha reuses one decomposition of the
      fold's matrix: of K (shared inputs) or of the scaled
      :math:`W^{1/2}(K \circ A)W^{1/2}` (heterogeneous tasks).  For
      heterogeneous tasks (numpy) and 3 alphas or more, the
      eigendecomposition (which costs many factorizations) is replaced by
      one float64 Cholesky factorization per (fold, task matrix) and range
      of alphas (at most 1000 from smallest to largest), and one Lanczos
      process that solves every alpha's shifted system of the range at
      once, each solution checked and finished to a direct solve's accuracy
      (2 alphas: a warm PCG sequence); a grid then costs about
      ``n_folds * n_task_matrices * n_ranges * 0.8**3`` factorizations of
      the full N x N matrix plus the Lanczos iterations, one fit about 1.

    The selection criterion is the loss-weighted mean squared error.

    Parameters
    ----------
    alphas : array-like of float, default=np.logspace(-4, 2, 13)
        Candidate regularization strengths.
    omegas : array-like of float in [0, 1], default=None
        Candidate couplings when ``task_matrix="mean"`` (None: 0, 0.25, 0.5,
        0.75, 0.9, 1); ignored for other task matrices.
    cv : int, cross-validation splitter, iterable or None, default=None
        None: exact leave-one-out where available, else 5 folds.  An int
        gives that many (task-stratified) folds; an iterable yields
        ``(train, test)`` index arrays, as in scikit-learn.  For
        heterogeneous tasks the splitter receives the task labels as
        ``groups``.  A zero-weight row is not scored.
    kernel, gamma, degree, coef0, kernel_params, task_matrix, task_graph, graph_epsilon, task_weighting, fit_intercept, solver, tol, max_iter, task_column, device
        As in :class:`MultiTaskKernelRidge`.
    verbose : int, default=0
        When > 0, print one line per candidate task matrix (leave-one-out) or
        per fold (K-fold) with the best score so far and the elapsed seconds,
        then the selected values; silent at 0.

    Attributes
    ----------
    alpha_ : float
    omega_ : float or None
    best_score_ : float
        Negative mean squared error of the selected candidate.
    cv_results_ : dict
        ``alpha``, ``omega`` and ``mean_test_score`` arrays, one per candidate.
    cv_method_ : {"loo", "kfold"}
    dual_coef_, intercept_, task_matrix_, tasks_, n_tasks_, layout_, solver_, X_fit_
        As in :class:`MultiTaskKernelRidge`, refitted with the selected values.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import MultiTaskKernelRidgeCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.c_[np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.1 * X[:, 1]]
    >>> model = MultiTaskKernelRidgeCV(alphas=[0.01, 0.1, 1.0]).fit(X, Y)
    >>> model.alpha_ in (0.01, 0.1, 1.0)
    True
    """

    _parameter_constraints = {
        **{k: v for k, v in _MultiTaskKernelBase._parameter_constraints.items()
           if k not in ("alpha", "omega")},
        "alphas": ["array-like"],
        "omegas": ["array-like", None],
        "cv": ["cv_object"],
        "verbose": ["verbose"],
    }

    def __init__(self, alphas=tuple(np.logspace(-4, 2, 13)), *, omegas=None, cv=None,
                 kernel="rbf", gamma=None, degree=3, coef0=1.0, kernel_params=None,
                 task_matrix="mean", task_graph=None, graph_epsilon=1.0,
                 task_weighting="samples", fit_intercept=True, solver="auto",
                 tol=1e-10, max_iter=1000, task_column=None, device=None, verbose=0):
        self.alphas = alphas
        self.omegas = omegas
        self.cv = cv
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.task_matrix = task_matrix
        self.task_graph = task_graph
        self.graph_epsilon = graph_epsilon
        self.task_weighting = task_weighting
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.task_column = task_column
        self.device = device
        self.verbose = verbose

    def _candidates(self):
        alphas = np.asarray(self.alphas, dtype=float).ravel()
        if alphas.size == 0 or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
            raise ValueError(
                "The 'alphas' parameter must be a non-empty list of finite values "
                f">= 0; got {self.alphas!r}."
            )
        is_mean = isinstance(self.task_matrix, str) and self.task_matrix == "mean"
        omegas = [None]
        if is_mean:
            omegas = np.asarray(DEFAULT_OMEGAS if self.omegas is None else self.omegas,
                                dtype=float).ravel()
            if omegas.size == 0 or np.any((omegas < 0) | (omegas > 1)):
                raise ValueError(
                    "The 'omegas' parameter must hold values in [0, 1]; got "
                    f"{self.omegas!r}."
                )
        return alphas, list(omegas)

    def _matrix_for(self, omega, n_tasks, xp, like):
        return self._task_matrix(n_tasks, xp, like,
                                 omega=0.5 if omega is None else float(omega))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None):
        """Select the hyperparameters, then refit on all data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        task : array-like of shape (n_samples,) or str, default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        alphas, omegas = self._candidates()
        self._start_time = time.perf_counter()
        # Python floats: a numpy scalar does not combine with arrays of other
        # namespaces (array_api_strict refuses it).
        alpha_list = [float(a) for a in alphas]
        data = self._validate_data_for_fit(X, y, task, sample_weight)
        problem = self._make_problem(data)
        weights = problem.loss_weights(self.task_weighting)
        xp = data.xp
        matrices = [self._matrix_for(o, data.n_tasks, xp, data.X) for o in omegas]
        use_loo = (self.cv is None and problem.layout == "shared"
                   and problem.solver == "eigen"
                   and problem.row_weights_only(weights)[0])
        if use_loo:
            scores = self._loo_scores(problem, weights, matrices, alpha_list)
            self.cv_method_ = "loo"
        else:
            scores = self._kfold_scores(problem, weights, matrices, alpha_list)
            self.cv_method_ = "kfold"
        grid_o = np.repeat(np.asarray(omegas, dtype=object), len(alphas))
        grid_a = np.tile(alphas, len(omegas))
        best = int(np.nanargmax(scores))
        self.cv_results_ = {"alpha": grid_a, "omega": grid_o,
                            "mean_test_score": np.asarray(scores)}
        self.alpha_, self.omega_ = float(grid_a[best]), grid_o[best]
        self.best_score_ = float(scores[best])
        self._report(f"Selected alpha={self.alpha_:.6g}, omega={self.omega_}, "
                     f"best score = {self.best_score_:.10e} ({self.cv_method_}); "
                     "refitting on all data")
        A = matrices[best // len(alphas)]
        solution = problem.solve(A, self.alpha_, weights=weights,
                                 fit_intercept=self.fit_intercept, consume_kernel=True)
        self._store_solution(data, problem, A, solution)
        return self

    def _loo_scores(self, problem, weights, matrices, alphas):
        xp = problem.xp
        row_w = problem.row_weights_only(weights)[1]
        kfac = problem.kernel_eigen(row_w)
        total = float(xp.sum(weights))
        scores = []
        for A in matrices:
            tfac = sylvester.decompose_task_matrix(xp, A)
            Y_rot = sylvester.rotate_targets(kfac, tfac, problem.targets)
            for alpha in alphas:
                r = sylvester.loo_residuals(kfac, tfac, problem.targets, alpha,
                                            self.fit_intercept, Y_rot=Y_rot)
                scores.append(-float(xp.sum(weights * r * r)) / total)
            self._report_best(f"Task matrix {len(scores) // len(alphas)}/{len(matrices)}",
                              scores, alphas)
        return scores

    def _report(self, message):
        if self.verbose > 0:
            elapsed = time.perf_counter() - self._start_time
            print(f"{message}, elapsed = {elapsed:.2f} s", flush=True)

    def _report_best(self, what, scores, alphas):
        """One progress line: the best of the candidate ``scores`` so far."""
        if self.verbose > 0:
            best = int(np.nanargmax(scores)) if np.any(np.isfinite(scores)) else 0
            self._report(f"{what}: best score so far = {scores[best]:.10e} "
                         f"(alpha={alphas[best % len(alphas)]:.6g})")

    def _splits(self, problem):
        """(train, test) index pairs: from an int, a splitter or an iterable."""
        n = problem.n_rows
        cv = 5 if self.cv is None else self.cv
        hetero = problem.layout == "heterogeneous"
        if isinstance(cv, (int, np.integer)):
            cv = (TaskStratifiedKFold if hetero else KFold)(
                int(cv), shuffle=True, random_state=0)
        else:
            # An iterable of (train, test) pairs, as scikit-learn's CV
            # estimators take it; a splitter passes through unchanged.
            cv = check_cv(cv)
        order = getattr(problem, "order", None)
        if order is None:
            groups = problem.codes if hetero else None
            return list(cv.split(np.zeros((n, 1)), None, groups=groups))
        # The problem holds the rows sorted by task; splits (an iterable of
        # the user's indices, or a splitter's) refer to the user's row order,
        # so split there and map each index to its sorted position (sorted
        # again within a fold, which keeps every fold task-sorted).
        position = np.empty(n, dtype=np.intp)
        position[order] = np.arange(n)
        groups = np.asarray(problem.codes)[position]
        return [(np.sort(position[np.asarray(train)]), np.sort(position[np.asarray(val)]))
                for train, val in cv.split(np.zeros((n, 1)), None, groups=groups)]

    def _check_kfold_memory(self, problem, splits):
        """The K-fold path holds the N x N kernel plus, per fold, the training
        block, its factorization (a copy and the eigenvectors) and the
        validation block."""
        n = problem.n_rows
        n_tr = max(len(train) for train, _ in splits)
        n_va = max(len(val) for _, val in splits)
        needed = dense_bytes(n) + dense_bytes(n_tr, copies=3) + dense_bytes(n_va, n_tr)
        check_memory(
            needed, problem.xp,
            what=f"K-fold cross-validation with N={n} rows (the {n} x {n} kernel "
                 f"and a {n_tr} x {n_tr} factorization per fold)",
            instead="Set approximation='nystroem' (with n_components=1000, say) on "
                    "MultiTaskKernelRidge and select alpha with GridSearchCV: "
                    "low-rank input features, exact task structure, memory "
                    "independent of N. Or pass fewer rows.",
        )

    def _kfold_scores(self, problem, weights, matrices, alphas):
        """K-fold errors; one decomposition per (fold, task matrix)."""
        xp = problem.xp
        splits = self._splits(problem)
        self._check_kfold_memory(problem, splits)
        K = problem.kernel()
        errors = np.zeros(len(matrices) * len(alphas))
        total = 0.0
        for fold, (train, val) in enumerate(splits, start=1):
            tr = train if isinstance(K, np.ndarray) else xp.asarray(train)
            va = val if isinstance(K, np.ndarray) else xp.asarray(val)
            K_tr = xp.take(xp.take(K, tr, axis=0), tr, axis=1)
            K_va = xp.take(xp.take(K, va, axis=0), tr, axis=1)
            w_va = xp.take(weights, va, axis=0)
            y_va = xp.take(problem.targets, va, axis=0)
            total += float(xp.sum(w_va))
            for m, A in enumerate(matrices):
                preds = self._fold_predictions(problem, A, K_tr, K_va, tr, train,
                                               val, weights, alphas)
                for a, F in enumerate(preds):
                    resid = xp.where(w_va > 0, y_va - F, xp.zeros_like(F))
                    errors[m * len(alphas) + a] += float(xp.sum(w_va * resid * resid))
            self._report_best(f"Fold {fold}/{len(splits)}", list(-errors / total), alphas)
        return list(-errors / total)

    def _fold_predictions(self, problem, A, K_tr, K_va, tr, train, val, weights,
                          alphas):
        xp = problem.xp
        w_tr = xp.take(weights, tr, axis=0)
        y_tr = xp.take(problem.targets, tr, axis=0)
        if problem.layout == "shared":
            # Missing or zeroed entries: solve each alpha by masked PCG on the
            # fold, reusing the fold's kernel eigendecomposition.
            kfac = sylvester.decompose_kernel(xp, K_tr)
            tfac = sylvester.decompose_task_matrix(xp, A)
            out = []
            for alpha in alphas:
                C, b, info = masked_cg.solve(kfac, tfac, K_tr, A, y_tr, w_tr, alpha,
                                             self.fit_intercept, x0=None, tol=self.tol,
                                             max_iter=self.max_iter)
                b = b if b is not None else xp.zeros((A.shape[0],), dtype=C.dtype)
                out.append(K_va @ (C @ A) + b[None, :])
            return out
        codes_tr, codes_va = problem.codes[train], problem.codes[val]
        E_tr = one_hot(xp, codes_tr, problem.n_tasks, like=y_tr)
        E_va = one_hot(xp, codes_va, problem.n_tasks, like=y_tr)
        d_tr = xp.sqrt(w_tr)
        solutions = None
        if len(alphas) < EIGH_IN_CHOLESKYS or (
                SHIFTED_ALPHAS_MIN and len(alphas) >= SHIFTED_ALPHAS_MIN):
            # A factorization per range of alphas and one Lanczos process
            # each serve any number of alphas, cheaper than the
            # eigendecomposition also for long grids.
            solutions = self._cholesky_path(xp, K_tr, A, codes_tr, E_tr, d_tr, y_tr,
                                            alphas)
        if solutions is None:
            fac = dense_eigen.decompose(xp, K_tr, A, codes_tr, E_tr, d_tr)
            solutions = dense_eigen.solve_path(fac, y_tr, alphas, self.fit_intercept)
        out = []
        for c, b in solutions:
            b = b if b is not None else xp.zeros((A.shape[0],), dtype=c.dtype)
            B = c[:, None] * task_rows(xp, A, codes_tr)
            out.append(xp.sum((K_va @ B) * E_va, axis=1) + E_va @ b)
        return out

    def _cholesky_path(self, xp, K_tr, A, codes_tr, E_tr, d_tr, y_tr, alphas):
        """One Cholesky factorization per alpha; None if one is not PD.

        Rows sorted by task (the splitters keep the problem's task order)
        take the broadcast Hadamard path.
        """
        codes_tr = np.asarray(codes_tr)
        offsets = None
        if codes_tr.size and np.all(np.diff(codes_tr) >= 0):
            offsets = np.searchsorted(codes_tr, np.arange(A.shape[0] + 1))
        if offsets is not None and is_numpy(xp) and min(alphas) > 0:
            if SHIFTED_ALPHAS_MIN and len(alphas) >= SHIFTED_ALPHAS_MIN:
                out = self._shifted_alpha_path(K_tr, A, codes_tr, offsets, d_tr, y_tr,
                                               alphas)
                if out is not None:
                    return out
            if len(alphas) >= EIGH_IN_CHOLESKYS:
                return None  # the eigendecomposition serves a long grid
            return self._warm_alpha_path(K_tr, A, codes_tr, offsets, d_tr, y_tr, alphas)
        if len(alphas) >= EIGH_IN_CHOLESKYS:
            return None
        out = []
        for alpha in alphas:
            try:
                chol = cholesky.factor(xp, K_tr, A, codes_tr, d_tr, alpha,
                                       offsets=offsets)
            except np.linalg.LinAlgError:
                # alpha = 0 or a non-PSD kernel: the eigen path clips and warns.
                return None
            out.append(cholesky.solve(chol, xp, y_tr, E_tr, d_tr, self.fit_intercept))
        return out

    def _shifted_alpha_path(self, K_tr, A, codes_tr, offsets, d_tr, y_tr, alphas):
        """All alphas of one (fold, task matrix) from one factorization per range.

        One float64 Cholesky factorization at sigma makes every alpha's
        projected system a shifted system of the same operator
        P = (H + sigma I)^-1 (:mod:`rkhsmtl.solvers.shifted_lanczos`): one
        Lanczos process on P (two triangular solves per iteration, no kernel
        product) solves them all, each converging like CG at condition
        max(alpha / sigma, sigma / alpha).  The alphas are therefore split
        into ranges of at most ``SHIFTED_RANGE`` (largest over smallest),
        one factorization at each range's geometric middle.  Each solution
        is then checked against its own system (one pass over K) and
        finished by PCG on the same factor where the check asks for it, so
        the scores are those of a direct solve per alpha.  None when a
        factorization fails or a finish does not converge (the caller takes
        another route).
        """
        alphas = np.asarray(alphas, dtype=float)
        seq = WarmCholeskySequence(np, K_tr, np.asarray(codes_tr), offsets, d_tr,
                                   float(alphas.max()), self.fit_intercept, tol=1e-12)
        return seq.solve_alpha_ranges(A, y_tr, alphas, _alpha_ranges(alphas, SHIFTED_RANGE))

    def _warm_alpha_path(self, K_tr, A, codes_tr, offsets, d_tr, y_tr, alphas):
        """All alphas of one (fold, task matrix) from one warm sequence.

        From the largest alpha down, each solve is PCG preconditioned by the
        last (float32) factorization, warm started from the previous alpha's
        coefficients, and the sequence refactors at the current alpha only
        when the iterations say the factor has gone stale (the rent-or-buy
        rule of :mod:`rkhsmtl.solvers.warm_cholesky`).  PCG runs to a 1e-12
        residual, so the scores are those of a direct solve per alpha.
        """
        seq = WarmCholeskySequence(np, K_tr, np.asarray(codes_tr), offsets, d_tr,
                                   max(alphas), self.fit_intercept, tol=1e-12)
        out = [None] * len(alphas)
        x = None
        for i in np.argsort(alphas)[::-1]:
            seq.alpha = float(alphas[i])
            try:
                c, b, info = seq.solve(A, y_tr, x0=x)
            except np.linalg.LinAlgError:
                return None
            x = info["x"]
            out[i] = (c, b)
        return out

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predict with the selected model (see MultiTaskKernelRidge.predict).

        ``unknown_task="mean"`` predicts a label not seen in training by the
        average of the fitted task functions.
        """
        F, input_xp = self._decision(X, task, unknown_task=unknown_task)
        return self._to_caller(F, input_xp)

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """R^2 as in scikit-learn (2-D y: uniform average over tasks, NaN skipped)."""
        return r2_multitask(y, self.predict(X, task=task, unknown_task=unknown_task),
                            sample_weight)

