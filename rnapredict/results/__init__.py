"""What a fold leaves on disk, below both ``fold`` (which writes it) and ``report`` (which
reads it): the per-record directory (:mod:`.outputs`), ``confidence.json``
(:mod:`.confidence`) and ``summary.tsv`` (:mod:`.summary`)."""
