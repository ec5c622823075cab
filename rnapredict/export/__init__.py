"""The ``export`` command's library side (:mod:`.api`): converts structure files with the
readers and writers of :mod:`rnapredict.io` and the base-pair annotation of
:mod:`rnapredict.score`; kept out of ``io`` so that file formats stay below scoring."""
