"""Binary labels shared by every classifier: encoding to -1/+1 and back, accuracy."""
import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ._backend import to_numpy


def encode_binary(Y_raw, name="MultiTaskKernelClassifier"):
    """Labels -> (+1/-1 targets, classes) for a 1-D y or per column of 2-D y.

    ``name`` is the estimator named in the error for non-binary labels.
    """
    def encode(col, where):
        # NaN (float labels of a 2-D Y only) marks a missing label: kept as NaN.
        observed = ~np.isnan(col) if col.dtype.kind == "f" else np.ones(col.shape, bool)
        check_classification_targets(col[observed])
        classes = np.unique(col[observed])
        if classes.size != 2:
            raise ValueError(
                f"Only binary classification is supported. {name} "
                f"handles binary tasks; {where} has "
                f"{classes.size} class(es) {classes.tolist()[:10]}. Use "
                "sklearn.multiclass.OneVsRestClassifier for more classes, and give "
                "every task both classes."
            )
        signs = np.where(col == classes[1], 1.0, -1.0)
        return np.where(observed, signs, np.nan), classes

    if Y_raw.ndim == 1:
        y, classes = encode(Y_raw, "y")
        return y, classes
    cols, classes = zip(*(encode(Y_raw[:, t], f"task column {t}")
                          for t in range(Y_raw.shape[1])))
    if all(np.array_equal(c, classes[0]) for c in classes):
        # One label pair for every task: a single array, as scikit-learn's
        # multilabel classifiers expose it.
        return np.stack(cols, axis=1), classes[0]
    return np.stack(cols, axis=1), list(classes)


def labels_from_scores(classes, scores):
    """Class labels from signed scores (positive means ``classes[1]``).

    ``classes`` is one label pair, or a list of pairs (one per task column).
    """
    if isinstance(classes, list):
        if scores.ndim == 1:
            raise ValueError(
                "Tasks of this model have different label pairs (see classes_); "
                "call predict(X) without task to get every task."
            )
        return np.stack([c[(scores[:, t] > 0).astype(int)]
                         for t, c in enumerate(classes)], axis=1)
    return classes[(scores > 0).astype(int)]


def multitask_accuracy(y, y_pred, sample_weight=None):
    """Accuracy; a 2-D y is averaged over all entries."""
    from sklearn.metrics import accuracy_score

    y = np.asarray(to_numpy(y) if not hasattr(y, "iloc") else y)
    if y.ndim == 2:
        # Missing labels (NaN in a float Y) are not scored.
        observed = ~np.isnan(y) if y.dtype.kind == "f" else np.ones(y.shape, bool)
        return float(np.mean((y_pred == y)[observed]))
    return float(accuracy_score(y, y_pred, sample_weight=sample_weight))
