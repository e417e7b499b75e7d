"""The paper's figures and the theory-versus-training figures: one module per figure, each with
``compute()`` (runs the training, writes a data file) and ``plot(data)`` (writes PNG and PDF)."""
