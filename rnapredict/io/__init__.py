"""Input and output: FASTA and secondary-structure parsing, structure files, atomic writes.

- ``textio``    — line reader for files, ``.gz`` and ``-`` (stdin); whole-input errors.
- ``fasta``     — FASTA tokenizer (header / sequence lines / optional structure line).
- ``inputs``    — ``check_inputs`` + ``iter_records``: validated :class:`Record` stream for fold.
- ``names``     — ``safe_name``: record id → output directory name.
- ``secondary`` — pair tables ⇄ dot-bracket (pseudoknot levels); ``ssfiles`` — BPSEQ, CT,
  dot-bracket FASTA and ``--ss``.
- ``structure`` — ``RnaStructure``; ``pdbio`` — gemmi PDB/mmCIF readers and writers.
- ``export``    — ``rnapredict export`` conversions; ``c1csv`` — Kaggle C1′ CSV tables.
- ``atomic``    — temp file + ``os.replace`` writes; ``records`` — ``Record``.
"""
