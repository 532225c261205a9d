"""Diagnosis: read training curves and name what is wrong, with evidence and remedies.

Pure numpy; never imports TensorFlow or needs a model.
"""
