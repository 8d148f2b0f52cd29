r"""Forward and backward passes of a hard-parameter-sharing network.

A shared trunk of fully connected layers maps an input :math:`x` to a
representation :math:`h(x)`; task :math:`t` reads it through its own head,

.. math::

    h_0 = x, \quad h_l = \mathrm{drop}(\sigma(W_l h_{l-1} + b_l)),
    \qquad z_t(x) = v_t^\top g_t(h_L(x)) + c_t,

with :math:`g_t` the identity (linear heads) or one hidden layer
:math:`g_t(h) = \sigma(U_t h + u_t)` of ``head_hidden_size`` units.

All heads are evaluated at once: the linear heads are the columns of one
matrix ``V`` of shape ``(h_L, T)`` and the hidden head layers are stacked into
one ``(h_L, T * m)`` matrix, so a mini-batch costs a few matrix products
whatever the number of tasks.  Parameters are a flat list of arrays in the
order ``[W_1, b_1, ..., W_L, b_L, <head arrays>]``; gradients come back in
the same order.  Every function takes the array namespace ``xp`` first and
uses only array API calls, so the same code runs on numpy and CuPy.
"""
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NetworkSpec:
    """Shape of a network: everything but the parameter values."""

    n_features: int
    hidden_layer_sizes: tuple
    n_tasks: int
    head_hidden_size: object = None   # None (linear heads) or int
    activation: str = "relu"

    @property
    def n_trunk(self):
        return len(self.hidden_layer_sizes)

    @property
    def n_trunk_params(self):
        return 2 * self.n_trunk

    def weight_indices(self):
        """Indices of weight matrices (decayed); biases are not decayed."""
        n_head = 2 if self.head_hidden_size is None else 4
        return list(range(0, self.n_trunk_params + n_head, 2))


def _glorot(rng, fan_in, fan_out, shape):
    # Glorot & Bengio (2010) uniform bound for tanh/relu, as in sklearn's MLP.
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape)


def init_params(spec, rng, xp, dtype):
    """Glorot-uniform weights and biases (the scheme of sklearn's MLP).

    Drawn from the numpy ``RandomState`` ``rng`` so a seed gives the same
    network on every backend, then moved to ``xp``.
    """
    host = []
    sizes = (spec.n_features,) + tuple(spec.hidden_layer_sizes)
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        host.append(_glorot(rng, fan_in, fan_out, (fan_in, fan_out)))
        host.append(_glorot(rng, fan_in, fan_out, (fan_out,)))
    h, T, m = sizes[-1], spec.n_tasks, spec.head_hidden_size
    if m is None:
        host.append(_glorot(rng, h, 1, (h, T)))
        host.append(_glorot(rng, h, 1, (T,)))
    else:
        host.append(_glorot(rng, h, m, (h, T * m)))
        host.append(_glorot(rng, h, m, (T * m,)))
        host.append(_glorot(rng, m, 1, (T, m)))
        host.append(_glorot(rng, m, 1, (T,)))
    return [xp.asarray(np.asarray(p, dtype=np.float64), dtype=dtype) for p in host]


def _activate(xp, P, activation):
    if activation == "relu":
        return xp.maximum(P, 0)
    return xp.tanh(P)


def _activation_derivative(xp, H, activation):
    """sigma'(P) written through H = sigma(P), so P need not be kept."""
    if activation == "relu":
        return xp.astype(H > 0, H.dtype)
    return 1 - H * H


def forward(xp, spec, params, X, dropout=0.0, rng=None):
    """Outputs ``Z`` of shape ``(n, T)`` and the cache backward needs.

    With ``dropout > 0`` and a numpy ``rng`` (training), each trunk unit is
    zeroed with probability ``dropout`` and the survivors scaled by
    ``1 / (1 - dropout)`` (inverted dropout, so prediction needs no rescale).
    """
    inputs, outputs, masks = [X], [], []
    A = X
    for l in range(spec.n_trunk):
        W, b = params[2 * l], params[2 * l + 1]
        H = _activate(xp, A @ W + b, spec.activation)
        outputs.append(H)
        if dropout > 0 and rng is not None:
            keep = rng.uniform(size=H.shape) >= dropout
            mask = xp.asarray(keep.astype(np.float64) / (1.0 - dropout), dtype=H.dtype)
            masks.append(mask)
            A = H * mask
        else:
            masks.append(None)
            A = H
        inputs.append(A)
    k = spec.n_trunk_params
    if spec.head_hidden_size is None:
        V, c = params[k], params[k + 1]
        Z = A @ V + c
        head_hidden = None
    else:
        U, u, V, c = params[k:k + 4]
        G = _activate(xp, A @ U + u, spec.activation)
        n, T, m = G.shape[0], spec.n_tasks, spec.head_hidden_size
        head_hidden = G
        Z = xp.sum(xp.reshape(G, (n, T, m)) * V, axis=2) + c
    cache = {"inputs": inputs, "outputs": outputs, "masks": masks,
             "head_hidden": head_hidden}
    return Z, cache


def head_backward(xp, spec, params, cache, dZ):
    """Gradients of the head parameters and of the representation ``h_L``."""
    k = spec.n_trunk_params
    A = cache["inputs"][-1]
    if spec.head_hidden_size is None:
        V = params[k]
        return [A.T @ dZ, xp.sum(dZ, axis=0)], dZ @ V.T
    U, _, V, _ = params[k:k + 4]
    G = cache["head_hidden"]
    n, T, m = G.shape[0], spec.n_tasks, spec.head_hidden_size
    G3 = xp.reshape(G, (n, T, m))
    dV = xp.sum(G3 * dZ[:, :, None], axis=0)
    dG = xp.reshape(dZ[:, :, None] * V, (n, T * m))
    dPre = dG * _activation_derivative(xp, G, spec.activation)
    grads = [A.T @ dPre, xp.sum(dPre, axis=0), dV, xp.sum(dZ, axis=0)]
    return grads, dPre @ U.T


def trunk_backward(xp, spec, params, cache, dA, n_layers=None):
    """Trunk gradients from the gradient ``dA`` of the last representation.

    ``n_layers`` limits the pass to the last layers (GradNorm needs only the
    last one); the list returned then holds those layers' gradients only.
    """
    L = spec.n_trunk
    stop = 0 if n_layers is None else L - n_layers
    grads = []
    for l in range(L - 1, stop - 1, -1):
        mask = cache["masks"][l]
        dH = dA if mask is None else dA * mask
        dP = dH * _activation_derivative(xp, cache["outputs"][l], spec.activation)
        A_prev = cache["inputs"][l]
        grads.append(xp.sum(dP, axis=0))
        grads.append(A_prev.T @ dP)
        if l > stop:
            dA = dP @ params[2 * l].T
    grads.reverse()
    return grads


def backward(xp, spec, params, cache, dZ):
    """Gradients of all parameters, given ``dZ = dLoss/dZ``."""
    head, dA = head_backward(xp, spec, params, cache, dZ)
    return trunk_backward(xp, spec, params, cache, dA) + head


def task_losses(xp, Z, Y, weight, kind):
    """Per-task mean losses ``L`` (T,) and ``dL_t / dZ[:, t]`` (n, T).

    ``weight`` (n, T) holds the observation mask times the sample weights (or
    is None when every entry counts once).  ``L_t`` is the weighted mean of
    the entry losses of task ``t`` in the batch; a task absent from the batch
    gets ``L_t = 0`` and no gradient.  Regression uses ``(z - y)^2 / 2``;
    classification the logistic loss ``log(1 + e^z) - y z`` with y in {0, 1}.
    """
    if kind == "regression":
        R = Z - Y
        loss, dloss = 0.5 * R * R, R
    else:
        e = xp.exp(-xp.abs(Z))  # stable: never exponentiates a positive number
        loss = xp.maximum(Z, 0) + xp.log1p(e) - Y * Z
        dloss = xp.where(Z >= 0, 1 / (1 + e), e / (1 + e)) - Y
    if weight is None:
        scale = 1.0 / Z.shape[0]
        return xp.sum(loss, axis=0) * scale, dloss * scale
    den = xp.sum(weight, axis=0)
    inv = 1 / xp.where(den > 0, den, xp.ones_like(den))
    return xp.sum(loss * weight, axis=0) * inv, dloss * weight * inv

