r"""Water-filling: the eigenvalue step of the cluster-type penalties.

Both Jacob et al.'s cluster norm and the convex clustered MTL of Zhou et al.
reduce, for fixed task functions, to

.. math::

    \min_{\sigma}\ \sum_i s_i / \sigma_i
    \quad\text{s.t.}\quad lo \le \sigma_i \le hi,\ \sum_i \sigma_i = total,

whose KKT conditions give :math:`\sigma_i = \mathrm{clip}(\tau\sqrt{s_i}, lo, hi)`
for the one :math:`\tau > 0` that meets the sum.  The sum is non-decreasing
in :math:`\tau`, so a bisection on :math:`\log\tau` finds it to machine
precision.
"""
import numpy as np


def waterfill(s, lo, hi, total, max_iter=200):
    """Solve the water-filling problem above.

    Parameters
    ----------
    s : ndarray of shape (m,)
        Non-negative weights (eigenvalues of the task-function Gram matrix).
    lo, hi : float
        Bounds on each sigma, ``0 <= lo < hi``.
    total : float
        Required sum, ``m * lo <= total <= m * hi``.
    max_iter : int, default=200
        Bisection steps (the bracket shrinks to machine precision well before).

    Returns
    -------
    sigma : ndarray of shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import waterfill
    >>> waterfill(np.array([4.0, 1.0, 0.0]), 0.1, 1.0, 1.5).round(3).tolist()
    [0.933, 0.467, 0.1]
    """
    s = np.clip(np.asarray(s, dtype=float), 0.0, None)
    m = s.size
    if not m * lo - 1e-12 * total <= total <= m * hi + 1e-12 * total:
        raise ValueError(f"Infeasible water-filling: total={total} outside "
                         f"[{m * lo}, {m * hi}].")
    root = np.sqrt(s)
    if not np.any(root > 0):
        return np.full(m, total / m)

    def filled(tau):
        return np.clip(tau * root, lo, hi)

    pos = root[root > 0]
    t_lo = np.log(max(lo, 1e-300) / pos.max()) - 1.0
    t_hi = np.log(hi / pos.min()) + 1.0
    for _ in range(max_iter):
        mid = 0.5 * (t_lo + t_hi)
        if filled(np.exp(mid)).sum() < total:
            t_lo = mid
        else:
            t_hi = mid
        if t_hi - t_lo < 1e-15:
            break
    sigma = filled(np.exp(0.5 * (t_lo + t_hi)))
    # Coordinates with s_i = 0 sit at lo whatever tau is; if the sum still
    # falls short (all mass on zero weights), spread the rest evenly.
    gap = total - sigma.sum()
    if abs(gap) > 1e-12 * max(total, 1.0):
        free = (sigma < hi) if gap > 0 else (sigma > lo)
        sigma[free] += gap / max(free.sum(), 1)
    return np.clip(sigma, lo, hi)


def project_capped(s, lo, hi, total, max_iter=200):
    """Euclidean projection of s onto ``{lo <= sigma_i <= hi, sum sigma = total}``.

    The projection is ``clip(s - tau, lo, hi)`` for the shift tau that meets
    the sum (non-increasing in tau: bisection).  The structure steps use it to
    map an extrapolated state's eigenvalues back onto their feasible set; the
    SRMTL certificate (:meth:`rkhsmtl.linear.penalties.Graph.conjugate_bound`)
    projects many rows at once.

    Parameters
    ----------
    s : ndarray of shape (m,) or (k, m)
        One vector, or k of them projected row by row.
    lo, hi : float
        Bounds, ``lo < hi``.
    total : float or ndarray of shape (k,)
        Required sum (of each row), ``m * lo <= total <= m * hi``.
    max_iter : int, default=200

    Returns
    -------
    sigma : ndarray, the shape of s

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned._waterfill import project_capped
    >>> project_capped(np.array([2.0, 0.5, -1.0]), 0.0, 1.0, 1.5).round(3).tolist()
    [1.0, 0.5, 0.0]
    """
    s = np.asarray(s, dtype=float)
    rows = s.reshape(-1, s.shape[-1]) if s.ndim else s.reshape(1, 1)
    total = np.broadcast_to(np.asarray(total, dtype=float), rows.shape[:1])
    t_lo, t_hi = rows.min(axis=1) - hi, rows.max(axis=1) - lo
    for _ in range(max_iter):
        mid = 0.5 * (t_lo + t_hi)
        above = np.clip(rows - mid[:, None], lo, hi).sum(axis=1) > total
        t_lo, t_hi = np.where(above, mid, t_lo), np.where(above, t_hi, mid)
        if np.all(t_hi - t_lo <= 1e-15 * np.maximum(1.0, np.abs(mid))):
            break
    out = np.clip(rows - (0.5 * (t_lo + t_hi))[:, None], lo, hi)
    return out.reshape(s.shape)
