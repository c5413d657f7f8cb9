"""The reproduction machinery: the experiment registry (:mod:`.registry`), the results store
under ``data/`` (:mod:`.store`) and its audit against today's code (:mod:`.audit`, ``python -m
l2o4rl.repro.audit``), the shipped trained optimizers (:mod:`.trained`) and the notebook runner
and its CLI (:mod:`.notebooks`, ``python -m l2o4rl.repro.notebooks``)."""
