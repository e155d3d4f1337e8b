"""k-means features for a classifier: SVC on scikit-learn's digits.

Soft assignments to the centres of k-means at k = 100, 200 and 300, next to the pixels
(``passthrough``), fed to an RBF support vector machine; against the same SVC on the
pixels alone. Both are scored by the same 3 x 5-fold cross-validation.

    python examples/kmeans_features_svc.py
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from kmeanskit import KMeansFeatures


def main() -> None:
    X, y = load_digits(return_X_y=True)
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0)
    raw = cross_val_score(SVC(), X, y, cv=cv)
    features = make_pipeline(
        KMeansFeatures(
            [100, 200, 300], modes="soft", passthrough=True, cluster_weight=1.0, random_state=0
        ),
        SVC(),
    )
    ours = cross_val_score(features, X, y, cv=cv)
    print(f"SVC on pixels:                       {raw.mean():.4f} +- {raw.std():.4f}")
    print(f"SVC on pixels + k-means soft features: {ours.mean():.4f} +- {ours.std():.4f}")


if __name__ == "__main__":
    main()
