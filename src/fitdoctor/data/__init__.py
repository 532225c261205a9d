"""Dataset tools: scan, inspect, split, clean, pack/unpack, load, and the bundled demo digits.

Nothing here imports TensorFlow, except `fitdoctor.data.loader`, which does so lazily.
"""
