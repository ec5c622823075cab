"""The secondary structures the shipped weights were trained on.

The network (``train.data``), its confidence head (``train.confidence_ft``) and the learned
coarse-grained score (``train.cgscore``) were all trained on ViennaRNA MFE structures and samples
under Turner 2004, before ``fold --energy-params auto`` became the default (session 9). The
builders keep those structures so a rebuild reproduces the shipped files; a retrain on ``auto``
structures is a change of the weights and goes through the model card like any other.
"""

from __future__ import annotations

from dataclasses import replace

from rnapredict.features.vienna import DEFAULT_CONFIG, ViennaConfig

#: ViennaRNA settings of every training-time MFE and structure sample.
TRAIN_ENERGY_PARAMS = "turner2004"
TRAIN_VIENNA: ViennaConfig = replace(DEFAULT_CONFIG, energy_params=TRAIN_ENERGY_PARAMS)
