"""The model spec (YAML, in the words of the Keras docs) and its translation to keras.Sequential."""
