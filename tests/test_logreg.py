"""The numpy logistic regression behind recommendations: optimal, and the same model scikit-learn fits."""

from __future__ import annotations

import numpy as np
import pytest

from paperscope import logreg


def _data(seed: int = 0, n: int = 400, d: int = 20):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    true_w = rng.normal(size=d) * 4
    y = (x @ true_w + rng.normal(scale=0.5, size=n) > 1.0).astype(float)  # imbalanced classes
    weight = np.where(rng.random(n) < 0.2, 3.0, 1.0)
    return x, y, weight


def test_fit_reaches_the_optimum_gradient_zero():
    x, y, weight = _data()
    w, b = logreg.fit(x, y, weight, c=1.0)
    s = weight * logreg.balanced_weights(y, weight)
    grad = logreg.gradient(np.append(w, b), x, y, s, 1.0)
    assert np.abs(grad).max() < 1e-5
    scores = x @ w + b
    assert (scores[y == 1].mean() - scores[y == 0].mean()) > 1.0


def test_balanced_weights_match_the_definition():
    y = np.array([0, 0, 0, 1.0])
    assert np.allclose(logreg.balanced_weights(y), [4 / 6, 4 / 6, 4 / 6, 2.0])
    weighted = logreg.balanced_weights(y, np.array([1, 1, 2, 1.0]))  # 5 in all: 4 on class 0, 1 on class 1
    assert np.allclose(weighted, [5 / 8, 5 / 8, 5 / 8, 2.5])


def test_same_model_as_scikit_learn_where_it_is_installed():
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y, weight = _data(1)
    w, b = logreg.fit(x, y, weight, c=1.0)
    clf = sklearn.LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, tol=1e-10)
    clf.fit(x, y, sample_weight=weight)
    assert np.allclose(w, clf.coef_[0], atol=1e-4) and abs(b - clf.intercept_[0]) < 1e-4


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="both labels"):
        logreg.fit(np.zeros((3, 2)), np.ones(3))
