"""The fold's main line as named stages, read top-down in :mod:`rnapredict.pipeline.fold`.

- :mod:`~rnapredict.pipeline.api`: the contract (``FoldOptions``, ``Prediction``, the record
  seed and generators, the ``Engine`` and ``Sampler`` protocols);
- :mod:`~rnapredict.pipeline.secondary`: given structure or ViennaRNA MFE, probing constraint;
- :mod:`~rnapredict.pipeline.candidates`: starting candidates (templates, then the prior);
- the diffusion from the candidates is the network's (:mod:`rnapredict.engine`);
- :mod:`~rnapredict.pipeline.allatom`: all-atom build, clean-up, check, repair, replacement;
- :mod:`~rnapredict.pipeline.rank`: ranking score and order.

``fold`` (through ``FoldEngine.predict``), ``bench/`` and training call these stages rather
than copying them. The package imports no engine: the network comes in as a ``Sampler``.
"""
