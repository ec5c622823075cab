"""Training: data and crops, losses, resumable loop (``python -m rnapredict.train``)."""
