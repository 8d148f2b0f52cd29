"""Docstring pieces shared by the learned-structure estimators."""

COMMON_PARAMETERS = """\
    epsilon : float, default=1e-8
        Barrier weight: ``epsilon * I`` is added to the task-function Gram
        matrix in every structure step, keeping the task matrix invertible
        (Ciliberto et al.'s epsilon-perturbation; 0 switches it off).
    kernel : {"rbf", "laplacian", "linear", "polynomial", "precomputed"} or callable, default="rbf"
        Input kernel (as in :class:`~rkhsmtl.MultiTaskKernelRidge`).
    gamma : float, default=None
        Kernel coefficient of rbf, laplacian and polynomial; None means
        ``1 / n_features``.
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1.0
        Constant term of the polynomial kernel.
    kernel_params : dict, default=None
        Extra keyword arguments for a callable kernel.
    task_weighting : {"samples", "uniform"}, default="samples"
        ``"uniform"`` rescales each task's loss weights to the same total.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    solver : {"auto", "eigen", "cholesky", "cg"}, default="auto"
        Solver of the coefficient step (see :class:`~rkhsmtl.MultiTaskKernelRidge`).
        With shared inputs the eigendecomposition of K is computed once and
        reused in every iteration; the CG solvers are warm started.
    max_iter : int, default=100
        Maximum number of structure steps.
    tol : float, default=1e-6
        Stop when the relative decrease of the objective falls below ``tol``.
    verbose : int, default=0
        Print one line per structure step (iteration, objective, relative
        decrease, elapsed seconds) and a final line when > 0; silent at 0.
    approximation : {"nystroem", "random_fourier"}, default=None
        As in :class:`~rkhsmtl.MultiTaskKernelRidge`: low-rank input features,
        exact task matrix.  After the one pass over the data every
        alternating step touches only m x m, m x T and T x T quantities, so
        its cost does not grow with the number of rows (``loss="logistic"``
        keeps the N x m feature rows instead, for its Newton steps).
    n_components : int, default=1000
        Number of Nyström landmarks or random Fourier features.
    warm_start : bool, default=False
        Start from the previous fit's task structure.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means that turns a learned matrix into ``cluster_labels_``,
        and the landmarks or frequencies of ``approximation``.
    task_column : int or str, default=None
        Column of X holding the task labels (removed from the features).
    device : {"cpu", "cuda"}, default=None
        Force the backend; None follows the input arrays."""

COMMON_ATTRIBUTES = """\
    task_matrix_ : array of shape (n_tasks, n_tasks)
        The learned task matrix A (rows/columns in the order of ``tasks_``);
        pass it as ``task_matrix`` of :class:`~rkhsmtl.MultiTaskKernelRidge`
        to refit or transfer.
    task_correlation_ : array of shape (n_tasks, n_tasks)
        A normalized to unit diagonal.
    objective_history_ : list of float
        The objective after every coefficient step (non-increasing).
    n_iter_ : int
        Number of structure steps taken.
    n_factorizations_ : int
        Factorizations of the N x N system made during the fit (heterogeneous
        tasks on the exact path: later steps are solved by PCG on the last
        factor, refactored only when it goes stale); 0 where no N x N system
        is factored.
    dual_coef_ : array of shape (n_train_rows, n_tasks)
        Prediction coefficients B: ``f_t(x) = k(x, X_fit_) @ B[:, t]``.
    intercept_ : array of shape (n_tasks,)
    tasks_ : ndarray of shape (n_tasks,)
        Task labels; column t of predictions is task ``tasks_[t]``.
    n_tasks_ : int
    layout_ : {"shared", "heterogeneous"}
    solver_ : str
    X_fit_ : array
    n_features_in_ : int
    feature_map_ : NystroemFeatures or RandomFourierFeatures or None
        The fitted feature map (None for an exact fit).
    coef_ : array of shape (n_components, n_tasks) or None
        Feature weights W of an approximate fit: ``f_t(x) = phi(x) @ W[:, t]``.
    n_components_ : int or None
        Feature dimension actually used (Nyström drops directions of a
        rank-deficient landmark set)."""

CLASSIFIER_NOTE = """\
    Labels are encoded per task as -1 / +1 (``classes_[1]`` is +1); the sign
    of :meth:`decision_function` gives the class.  Both losses keep every
    block step exact (a direct solve, or Newton run to convergence), so the
    objective history is non-increasing with either."""

LOSS_PARAMETER = r"""    loss : {"squared", "logistic"}, default="squared"
        ``"squared"``: least squares on the -1 / +1 labels (each coefficient
        step one direct solve).  ``"logistic"``: :math:`\log(1 + e^{-y f})`;
        each coefficient step runs damped Newton (IRLS) to convergence from
        the previous iteration's functions, and :meth:`predict_proba` is
        available.
"""


def fill(doc):
    return doc.replace("%(common_parameters)s", COMMON_PARAMETERS) \
              .replace("%(common_attributes)s", COMMON_ATTRIBUTES) \
              .replace("%(classifier_note)s", CLASSIFIER_NOTE)


_CLASSES_ATTRIBUTE = """\
    classes_ : ndarray or list of ndarray
        The two labels (per task when they differ).

%(classifier_note)s
"""


def regressor_doc(template, name):
    """Docstring of a learned-structure regressor from its family template."""
    return fill(template.replace("%(name)s", name).replace("%(extra_attributes)s", "")
                .replace("%(loss)s", "").replace("%(target)s", "Y"))


def classifier_doc(template, name, title):
    """Docstring of the classifier twin: new title, ``classes_``, label targets."""
    old, new = title
    return fill(template.replace(old, new, 1).replace("%(name)s", name)
                .replace("%(extra_attributes)s", _CLASSES_ATTRIBUTE)
                .replace("%(loss)s", LOSS_PARAMETER)
                .replace("%(target)s", "(Y > 0).astype(int)"))
