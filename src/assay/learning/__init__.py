"""Model-assisted labeling math: built-in text models, active-learning strategies,
auto-accept thresholds with an accuracy guarantee, label-error detection.

Pure functions and small classes over numpy arrays and texts: no database or web
imports (the services in `assay.backends` feed them). scikit-learn loads on first use.
"""
