r"""Output-kernel learning by block coordinate descent (Dinuzzo et al. 2011).

Dinuzzo's parametrization keeps the dual coefficients C and the output kernel
L separate, :math:`f = K C L`, and minimizes

.. math::

    \|Y - \mathbf 1 b^\top - K C L\|_F^2 + \alpha\,\mathrm{tr}(C^\top K C L)
    + \mu\,\|L\|_F^2 .

The C block is the separable ridge of the core solvers (``K C L + alpha C =
Y - 1 b^T``).  The L block, with C fixed, is a quadratic in L; over symmetric
matrices its minimizer solves the Lyapunov-type equation

.. math::

    \tfrac12 (G L + L G) + \mu L = S, \qquad G = E^\top E,\ E = K C,\
    S = \mathrm{sym}\big(E^\top (Y - \mathbf 1 b^\top)\big) - \tfrac{\alpha}{2} E^\top C,

solved in the eigenbasis of G at O(T^3).  Because C satisfies the C-block
equation, :math:`E^\top (Y - \mathbf 1 b^\top) = G L_{old} + \alpha E^\top C`, so S needs
no pass over the n rows.  The problem is invex (every stationary point is a
global minimum) and, through B = C L, shares its minimizers with the convex
Frobenius-penalized structure learning of :mod:`._spectral` with
``beta = mu``.
"""
import numpy as np


def okl_l_step(L_old, E, C, alpha, mu):
    """Exact symmetric minimizer of the L block (see the module docstring).

    Parameters
    ----------
    L_old : ndarray (T, T)
        Output kernel used in the C block that produced ``C``.
    E : ndarray (n, T)
        ``K @ C``.
    C : ndarray (n, T)
    """
    G = E.T @ E
    EC = E.T @ C
    S = G @ L_old + 0.5 * alpha * EC
    S = 0.5 * (S + S.T)
    g, W = np.linalg.eigh(0.5 * (G + G.T))
    St = W.T @ S @ W
    L = W @ (St / (0.5 * (g[:, None] + g[None, :]) + mu)) @ W.T
    L = 0.5 * (L + L.T)
    # At the optimum L is PSD; an iterate that is not is projected so that
    # the next C block (which needs a PSD kernel) stays exact.
    w, V = np.linalg.eigh(L)
    if w.min() < 0:
        L = (V * np.clip(w, 0.0, None)) @ V.T
    return L
