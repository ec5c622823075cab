"""Input and output: FASTA and secondary-structure parsing, structure files, atomic writes."""
