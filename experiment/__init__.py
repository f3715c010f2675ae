"""The experiment library: a Config in, a trained model and a run folder out, for either implementation.

train.py and tune.py are thin command lines over it; tuning/ and benchmarks/ import it. It is
the one place that picks an implementation by name (models), trains one run and writes its
folder (runs), prints progress (progress) and streams to TensorBoard (tensorboard).
"""
