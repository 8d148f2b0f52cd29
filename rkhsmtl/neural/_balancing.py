r"""Loss balancing and gradient aggregation across tasks.

Each strategy turns the per-task mini-batch losses :math:`L_t` and their
output gradients into one gradient for the network parameters, and updates
its own learned state (if any) on the way:

* ``"equal"``: minimise :math:`\sum_t L_t` (hard parameter sharing, Caruana
  1997).
* ``"uncertainty"`` (Kendall, Gal & Cipolla, CVPR 2018): minimise
  :math:`\sum_t e^{-s_t} L_t + \kappa s_t` jointly over the network and the
  log-variances :math:`s_t = \log\sigma_t^2`; :math:`\kappa = 1/2` for
  regression, whose :math:`L_t` is half the mean squared error, so that at the
  optimum :math:`\sigma_t^2` is the task's mean squared error; :math:`\kappa = 1`
  for classification.
* ``"gradnorm"`` (Chen et al., ICML 2018): loss weights :math:`w_t` learned
  by minimising :math:`\sum_t |G_t - \bar G\, r_t^{\alpha}|` with
  :math:`G_t = \|\nabla_{W} w_t L_t\|` at the last shared layer :math:`W`,
  :math:`r_t` the loss ratio :math:`L_t / L_t^{(0)}` relative to its task
  mean (target held fixed), then renormalised to :math:`\sum_t w_t = T`.
* ``"pcgrad"`` (Yu et al., NeurIPS 2020): per-task gradients of the shared
  trunk; each one is projected onto the normal plane of every other task
  gradient it conflicts with (negative inner product), in random order, and
  the projected gradients are summed.  Heads get their own task's gradient.
"""
import numpy as np

from ._network import backward, forward, head_backward, task_losses, trunk_backward
from ._optim import Adam

LOSS_WEIGHTINGS = ("equal", "uncertainty", "gradnorm", "pcgrad")


class EqualWeighting:
    """Plain sum of the task losses."""

    learned = False

    def __init__(self, xp, n_tasks, dtype, **kwargs):
        self.xp = xp
        self.n_tasks = n_tasks

    def weights(self):
        return None

    def gradients(self, spec, params, cache, losses, dZ):
        return backward(self.xp, spec, params, cache, dZ)


class UncertaintyWeighting(EqualWeighting):
    """Homoscedastic-uncertainty weights ``exp(-s_t)`` with learned ``s_t``."""

    learned = True

    def __init__(self, xp, n_tasks, dtype, learning_rate, kind, **kwargs):
        super().__init__(xp, n_tasks, dtype)
        self.log_vars = xp.zeros(n_tasks, dtype=dtype)
        self.kappa = 0.5 if kind == "regression" else 1.0
        self._adam = Adam(xp, [self.log_vars], learning_rate)

    def weights(self):
        return self.xp.exp(-self.log_vars)

    def gradients(self, spec, params, cache, losses, dZ):
        w = self.weights()
        grads = backward(self.xp, spec, params, cache, dZ * w)
        self._adam.step([self.log_vars], [self.kappa - w * losses])
        return grads


def _one_hot_columns(xp, dZ, t):
    """dZ with every column but ``t`` zeroed: the output gradient of L_t alone."""
    keep = xp.zeros(dZ.shape[1], dtype=dZ.dtype)
    keep[t] = 1
    return dZ * keep


class GradNormWeighting(EqualWeighting):
    """GradNorm loss weights, kept positive and summing to ``n_tasks``."""

    learned = True

    def __init__(self, xp, n_tasks, dtype, learning_rate, alpha, **kwargs):
        super().__init__(xp, n_tasks, dtype)
        self.alpha = alpha
        self.task_weights = xp.ones(n_tasks, dtype=dtype)
        self.initial_losses = None
        self._adam = Adam(xp, [self.task_weights], learning_rate)

    def weights(self):
        return self.task_weights

    def gradients(self, spec, params, cache, losses, dZ):
        xp, T = self.xp, self.n_tasks
        w = self.task_weights
        grads = backward(xp, spec, params, cache, dZ * w)
        norms = []
        for t in range(T):
            _, dA = head_backward(xp, spec, params, cache, _one_hot_columns(xp, dZ, t))
            gW = trunk_backward(xp, spec, params, cache, dA, n_layers=1)[0]
            norms.append(xp.sqrt(xp.sum(gW * gW)))
        norms = xp.stack(norms)
        if self.initial_losses is None:
            self.initial_losses = losses
        # a task absent from the first batches gets its reference loss later
        self.initial_losses = xp.where(self.initial_losses > 0, self.initial_losses, losses)
        ratio = losses / xp.where(self.initial_losses > 0, self.initial_losses, 1)
        mean_ratio = xp.mean(ratio)
        relative = ratio / xp.where(mean_ratio > 0, mean_ratio, 1)
        G = w * norms
        target = xp.mean(G) * relative ** self.alpha
        self._adam.step([self.task_weights], [xp.sign(G - target) * norms])
        # positivity then renormalisation, as in the paper (sum of weights = T)
        clipped = xp.maximum(self.task_weights, 1e-3)
        self.task_weights[...] = clipped * (T / xp.sum(clipped))
        return grads


def pcgrad_combine(xp, task_grads, rng):
    """Sum of PCGrad-projected task gradients.

    Parameters
    ----------
    task_grads : array of shape (n_tasks, n_params)
        One flattened gradient per task.
    rng : numpy.random.RandomState
        Draws the projection order of each task.

    Returns
    -------
    combined : array of shape (n_params,)
    """
    T = task_grads.shape[0]
    sq_norms = xp.sum(task_grads * task_grads, axis=1)
    safe = xp.where(sq_norms > 0, sq_norms, xp.ones_like(sq_norms))
    combined = xp.zeros_like(task_grads[0])
    for i in range(T):
        g = task_grads[i]
        for j in rng.permutation(T):
            if j == i:
                continue
            # branch-free so a GPU never waits on the sign of a dot product
            dot = xp.sum(g * task_grads[j])
            g = g - (xp.minimum(dot, 0) / safe[j]) * task_grads[j]
        combined = combined + g
    return combined


class PCGradAggregation(EqualWeighting):
    """Projecting conflicting gradients of the shared trunk (gradient surgery)."""

    def __init__(self, xp, n_tasks, dtype, rng, **kwargs):
        super().__init__(xp, n_tasks, dtype)
        self.rng = rng

    def gradients(self, spec, params, cache, losses, dZ):
        xp, T = self.xp, self.n_tasks
        head_grads, _ = head_backward(xp, spec, params, cache, dZ)
        per_task = []
        for t in range(T):
            _, dA = head_backward(xp, spec, params, cache, _one_hot_columns(xp, dZ, t))
            trunk = trunk_backward(xp, spec, params, cache, dA)
            per_task.append(xp.concat([xp.reshape(g, (-1,)) for g in trunk]))
        combined = pcgrad_combine(xp, xp.stack(per_task), self.rng)
        return unflatten(xp, combined, params[:spec.n_trunk_params]) + head_grads


_STRATEGIES = {"equal": EqualWeighting, "uncertainty": UncertaintyWeighting,
               "gradnorm": GradNormWeighting, "pcgrad": PCGradAggregation}


def make_balancer(name, xp, n_tasks, dtype, *, learning_rate, kind, alpha, rng):
    """The strategy object for ``loss_weighting=name``."""
    return _STRATEGIES[name](xp, n_tasks, dtype, learning_rate=learning_rate,
                             kind=kind, alpha=alpha, rng=rng)


def flatten(xp, arrays):
    return xp.concat([xp.reshape(a, (-1,)) for a in arrays])


def unflatten(xp, vector, like):
    out, start = [], 0
    for a in like:
        size = int(np.prod(a.shape))
        out.append(xp.reshape(vector[start:start + size], a.shape))
        start += size
    return out


def _objective_and_gradient(theta, xp, spec, X, Y, weight, kind, weight_decay,
                            params_like, weighting="equal"):
    """Full-batch training objective and its gradient at a flat parameter vector.

    With ``weighting="uncertainty"`` the last ``n_tasks`` entries of ``theta``
    are the log-variances ``s_t``.  Used to check the analytic backward pass
    against finite differences; training itself works on mini-batches.
    """
    T = spec.n_tasks
    n_net = theta.shape[0] - (T if weighting == "uncertainty" else 0)
    params = unflatten(xp, theta[:n_net], params_like)
    Z, cache = forward(xp, spec, params, X)
    losses, dZ = task_losses(xp, Z, Y, weight, kind)
    if weighting == "uncertainty":
        s = theta[n_net:]
        kappa = 0.5 if kind == "regression" else 1.0
        w = xp.exp(-s)
        total = xp.sum(w * losses + kappa * s)
        extra = [kappa - w * losses]
        dZ = dZ * w
    else:
        total, extra = xp.sum(losses), []
    grads = backward(xp, spec, params, cache, dZ)
    for i in spec.weight_indices():
        total = total + 0.5 * weight_decay * xp.sum(params[i] * params[i])
        grads[i] = grads[i] + weight_decay * params[i]
    return float(total), flatten(xp, grads + extra)
